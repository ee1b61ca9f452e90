#!/usr/bin/env bash
# The portal benchmark: wrk (Debian's package) against `cassa serve --demo`
# on loopback, on SQLite and on a throwaway PostgreSQL: the home page, an
# ente's page and the ente search, CONNECTIONS (200) at once for SECONDS
# (10) each. Prints requests/s and latency percentiles as key=value lines.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway-postgres.sh
source scripts/throwaway-postgres.sh
ensure_debian_command wrk wrk
start_throwaway_postgres
cargo build --release --locked -p cassa
connections=${CONNECTIONS:-200}
seconds=${SECONDS_EACH:-10}
for backend in sqlite postgres; do
  dir=$(mktemp -d)
  if [ "$backend" = postgres ]; then export DATABASE_URL=$THROWAWAY_POSTGRES_URL; else unset DATABASE_URL; fi
  port=$(free_port)
  CASSA_LOG_FILTER=warn ./target/release/cassa serve --demo --data-dir "$dir" --listen "127.0.0.1:$port" >/dev/null &
  server=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.2; done
  sleep 1
  for page in home:/ ente:/enti/01199250158 search:/enti?q=milano; do
    name=${page%%:*}
    path=${page#*:}
    # Two threads: the machine's two cores are shared with the server.
    out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    echo "$backend.$name.requests_per_second=$rps"
    echo "$backend.$name.latency_p50=$p50"
    echo "$backend.$name.latency_p99=$p99"
    [ -z "$errors" ] || echo "$backend.$name.errors=$errors"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
done
