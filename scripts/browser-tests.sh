#!/usr/bin/env bash
# Browser tests of the citizen portal: runs `cassa serve --demo` on a free
# port with a throwaway data directory and pagopa-sim beside it, then walks the pages in Debian's
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
ensure_debian_command xmllint libxml2-utils
(cd tests/browser && npm ci --no-audit --no-fund --silent)
cargo build --locked -p cassa -p pagopa-sim
artifacts="$PWD/target/browser"
rm -rf "$artifacts" && mkdir -p "$artifacts"
data=$(mktemp -d)
port=$(free_port)
sim_port=$(free_port)
# pagopa-sim plays pagoPA Checkout and the node, checking cassa's answers
# against the XSDs; payments left pending get their receipts after 1 s.
# It is also the citizens' identity provider (OIDC); the walk plays the
# regional SAML proxy too, with its headers and shared secret.
export CASSA_SSO_SECRET="browser-walk-proxy-$(date +%s%N)"
./target/debug/pagopa-sim --ec-url "http://127.0.0.1:$port/pagopa/paForNode" \
  serve --listen "127.0.0.1:$sim_port" --pending-delay-ms 1000 \
  --oidc-redirect-uri "http://127.0.0.1:$port/accedi/oidc/ritorno" >"$artifacts/sim.log" 2>&1 &
sim=$!
CASSA_CHECKOUT_URL="http://127.0.0.1:$sim_port/checkout/ec/v2/carts" \
  CASSA_OIDC_ISSUER="http://127.0.0.1:$sim_port/oidc" CASSA_OIDC_CLIENT_SECRET=cassa-demo-secret \
  CASSA_SSO_PROXIES='["127.0.0.1"]' \
  ./target/debug/cassa serve --demo --data-dir "$data" --listen "127.0.0.1:$port" >"$artifacts/demo.txt" 2>"$artifacts/server.log" &
server=$!
trap 'kill $server $sim 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && curl -sf "http://127.0.0.1:$sim_port/healthz" >/dev/null && break
  sleep 0.2
done
CASSA_URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" CASSA_DEMO_FILE="$artifacts/demo.txt" node tests/browser/run.mjs
# The e-mails the walk caused: the server's mailer writes them as .eml
# files (no SMTP configured). A receipt per paid notice, each with its PDF.
for _ in $(seq 1 50); do
  receipts=$(grep -l "ricevuta-.*\.pdf" "$data"/mail/*.eml 2>/dev/null | wc -l)
  [ "$receipts" -ge 3 ] && break
  sleep 0.2
done
cp "$data"/mail/*.eml "$artifacts/" 2>/dev/null || true
if [ "$receipts" -lt 3 ]; then
  echo "expected 3 receipt e-mails in $data/mail, found $receipts" >&2
  exit 1
fi
echo "receipt e-mails: $receipts (copies in $artifacts)"
