#!/usr/bin/env bash
# The node benchmark: pagopa-sim runs full Modello 3 cycles (verify,
# paGetPaymentV2, paSendRTV2) against `cassa serve` on loopback, on SQLite
# and on a throwaway PostgreSQL, and compares paGetPaymentV2 with a
# do-nothing SOAP route. CYCLES and CONCURRENCY tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway-postgres.sh
source scripts/throwaway-postgres.sh
start_throwaway_postgres
cargo build --release --locked -p cassa -p pagopa-sim
cycles=${CYCLES:-5000}
concurrency=${CONCURRENCY:-16}
ente=01199250158
# The node endpoint is fenced: pagopa-sim sends the secret cassa expects.
node_secret=bench-node-secret-$RANDOM$RANDOM
for backend in sqlite postgres; do
  dir=$(mktemp -d)
  if [ "$backend" = postgres ]; then export DATABASE_URL=$THROWAWAY_POSTGRES_URL; else unset DATABASE_URL; fi
  port=$(free_port)
  ./target/release/cassa migrate --data-dir "$dir" >/dev/null
  ./target/release/cassa ente add --data-dir "$dir" --fiscal-code $ente --name "Comune di Milano" --segregation-code 02 >/dev/null
  key=$(./target/release/cassa apikey create --data-dir "$dir" --ente $ente)
  CASSA_PAGOPA_ECHO_ROUTE=true CASSA_LOG_FILTER=warn CASSA_NODE_AUTH_SECRET="$node_secret" \
    ./target/release/cassa serve --data-dir "$dir" --listen "127.0.0.1:$port" >/dev/null &
  server=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.2; done
  ./target/release/pagopa-sim --node-secret "$node_secret" --ec-url "http://127.0.0.1:$port/pagopa/paForNode" load \
    --cassa-url "http://127.0.0.1:$port" --api-key "$key" --ente $ente \
    --cycles "$cycles" --concurrency "$concurrency" --echo | sed "s/^/$backend./"
  kill "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
done
