#!/usr/bin/env bash
# The node benchmark: pagopa-sim runs full Modello 3 cycles (verify,
# paGetPaymentV2, paSendRTV2) against `cassa serve` on loopback, on SQLite
# and on a throwaway PostgreSQL, and compares paGetPaymentV2 with a
# do-nothing SOAP route. CYCLES and CONCURRENCY tune it. Then it does it
# again while `cassa serve` imports a file of IMPORT_ROWS new debts
# (default 1,000,000; 0 skips it), with IMPORT_CONCURRENCY PSPs paying up
# to IMPORT_CYCLES notices for as long as the import runs, and prints each
# call's p50/p99 during the import. ONLY=sqlite or postgres picks one.
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
# Outside --demo, serve needs our station and Checkout: pagopa-sim's.
export CASSA_PAGOPA_BROKER_ID=80050050154 CASSA_PAGOPA_STATION_ID=80050050154_01 \
  CASSA_CHECKOUT_URL=http://127.0.0.1:8081/checkout/ec/v2/carts
backends=${ONLY:-sqlite postgres}
for backend in $backends; do
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

rows=${IMPORT_ROWS:-1000000}
[ "$rows" -gt 0 ] || exit 0
file=$(mktemp --suffix=.csv)
./target/release/cassa bench-import --rows "$rows" --write-file "$file"
for backend in $backends; do
  dir=$(mktemp -d)
  if [ "$backend" = postgres ]; then
    # A database of its own: the demo loads only into an empty store.
    database=bench_import_$RANDOM
    "$PG_BIN/psql" "$THROWAWAY_POSTGRES_URL" -q -c "CREATE DATABASE $database"
    export DATABASE_URL=${THROWAWAY_POSTGRES_URL%/*}/$database
  else
    unset DATABASE_URL
  fi
  port=$(free_port)
  # The demo's Comune di Milano has the tipo dovuto TARI the file uses.
  key=$(./target/release/cassa demo --data-dir "$dir" | sed -n 's/^ente\.2\.api_key=//p')
  CASSA_LOG_FILTER=warn CASSA_NODE_AUTH_SECRET="$node_secret" \
    ./target/release/cassa serve --data-dir "$dir" --listen "127.0.0.1:$port" >/dev/null &
  server=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.2; done
  ./target/release/pagopa-sim --node-secret "$node_secret" --ec-url "http://127.0.0.1:$port/pagopa/paForNode" load \
    --cassa-url "http://127.0.0.1:$port" --api-key "$key" --ente $ente \
    --cycles "${IMPORT_CYCLES:-60000}" --concurrency "${IMPORT_CONCURRENCY:-8}" \
    --import-file "$file" --import-name c_f205-BENCHNODE-1_4.csv | sed "s/^/$backend.import./"
  kill "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
done
rm -f "$file"
