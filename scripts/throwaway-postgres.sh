# Sourced by the test and bench scripts. Installs Debian packages they need
# when missing, and for PostgreSQL: starts a throwaway cluster
# (initdb + pg_ctl in a temp dir, on a free loopback port) and exports
# THROWAWAY_POSTGRES_URL. The cluster is stopped and deleted on exit.
# Never touches a shared server.

pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >&2
}

# ensure_debian_command COMMAND PACKAGE: installs PACKAGE if COMMAND is missing.
ensure_debian_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "$1 missing: installing Debian's $2 package" >&2
  apt_install "$2"
}

ensure_postgres_binaries() {
  if ! pg_bin_dir >/dev/null; then
    echo "PostgreSQL binaries missing: installing Debian's postgresql package" >&2
    apt_install postgresql
  fi
  PG_BIN=$(pg_bin_dir) || { echo "cannot find initdb after installing postgresql" >&2; return 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

start_throwaway_postgres() {
  ensure_postgres_binaries || return 1
  PG_TMP=$(mktemp -d /tmp/cassa-pg.XXXXXX)
  local port; port=$(free_port)
  local run=()
  # initdb refuses to run as root: run the cluster as an unprivileged user.
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
    chown "$user" "$PG_TMP"
    run=(runuser -u "$user" --)
  fi
  "${run[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -U cassa --auth=trust -E UTF8 --no-locale >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB -c fsync=on" \
    start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_RUN=("${run[@]}")
  export THROWAWAY_POSTGRES_URL="postgres://cassa@127.0.0.1:$port/postgres"
  trap stop_throwaway_postgres EXIT
}

stop_throwaway_postgres() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
