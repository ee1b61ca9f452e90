#!/usr/bin/env bash
# Browser tests of the citizen portal: runs `cassa serve --demo` on a free
# port with a throwaway data directory, then walks the pages in Debian's
# Chromium (playwright-core) with axe-core checks. Screenshots and the
# downloaded PDF land in target/browser/. Installs chromium and the npm
# packages (tests/browser/package-lock.json) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway-postgres.sh
source scripts/throwaway-postgres.sh
ensure_debian_command chromium chromium
ensure_debian_command node nodejs
ensure_debian_command npm npm
ensure_debian_command curl curl
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --locked -p cassa
artifacts="$PWD/target/browser"
rm -rf "$artifacts" && mkdir -p "$artifacts"
data=$(mktemp -d)
port=$(free_port)
./target/debug/cassa serve --demo --data-dir "$data" --listen "127.0.0.1:$port" >"$artifacts/demo.txt" 2>"$artifacts/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
# A payable single-payment notice of the Comune di Milano from the demo output.
demo_value() { grep -m1 "^$1=" "$artifacts/demo.txt" | cut -d= -f2-; }
n=$(grep -E '^notice\.[0-9]+\.ente=01199250158$' "$artifacts/demo.txt" | head -1 | sed -E 's/^notice\.([0-9]+)\..*/\1/')
demo_json=$(printf '{"notice":"%s","debtor":"%s","amount":"%s","ente_name":"Comune di Milano"}' \
  "$(demo_value "notice.$n.number")" "$(demo_value "notice.$n.debtor")" "$(demo_value "notice.$n.amount")")
CASSA_URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" CASSA_DEMO="$demo_json" node tests/browser/run.mjs
