# Sourced by the test and bench scripts. Installs Debian packages they need
# when missing, and for PostgreSQL: starts a throwaway cluster
# (initdb + pg_ctl in a temp dir, on a free loopback port) and exports
# THROWAWAY_POSTGRES_URL. The cluster is stopped and deleted on exit.
# Never touches a shared server. `start_throwaway_postgres tls` serves TLS
# only (a certificate from a CA made for the run, an hba refusing clear
# text) and the URL verifies it (sslmode=verify-full); THROWAWAY_POSTGRES_CA
# names the CA file.

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

# make_test_certificates DIR: a CA and a server certificate for
# 127.0.0.1 / localhost signed by it, valid for a day.
make_test_certificates() {
  local dir=$1
  ensure_debian_command openssl openssl
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=cassa test CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 1 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  chmod 600 "$dir/server.key"
}

start_throwaway_postgres() {
  local tls=${1:-}
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
  local options="-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB -c fsync=on"
  local query=""
  if [ "$tls" = tls ]; then
    mkdir "$PG_TMP/tls"
    make_test_certificates "$PG_TMP/tls"
    [ "$(id -u)" -eq 0 ] && chown -R postgres "$PG_TMP/tls"
    # Over the network only TLS; the Unix socket (pg_ctl's own checks) stays.
    printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 0.0.0.0/0 reject\n' \
      >"$PG_TMP/data/pg_hba.conf"
    options="$options -c ssl=on -c ssl_cert_file=$PG_TMP/tls/server.crt -c ssl_key_file=$PG_TMP/tls/server.key"
    export THROWAWAY_POSTGRES_CA="$PG_TMP/tls/ca.pem"
    query="?sslmode=verify-full&sslrootcert=$THROWAWAY_POSTGRES_CA"
  fi
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "$options" start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_RUN=("${run[@]}")
  export THROWAWAY_POSTGRES_URL="postgres://cassa@127.0.0.1:$port/postgres$query"
  trap stop_throwaway_postgres EXIT
}

stop_throwaway_postgres() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
