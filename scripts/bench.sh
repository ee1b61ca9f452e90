#!/usr/bin/env bash
# `cassa bench` on SQLite and on a throwaway PostgreSQL cluster.
# Extra arguments go to `cassa bench` (e.g. --positions 20000 --clients 16).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway-postgres.sh
source scripts/throwaway-postgres.sh
start_throwaway_postgres
cargo build --release --locked -p cassa
./target/release/cassa bench --postgres-url "$THROWAWAY_POSTGRES_URL" "$@"
