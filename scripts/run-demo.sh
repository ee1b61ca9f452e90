#!/usr/bin/env bash
# Runs cassa with its embedded defaults (SQLite in ./data, demo data loaded
# into an empty store) and pagopa-sim beside it, so payments work offline.
# Extra arguments go to `cassa serve` (e.g. --listen 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p cassa -p pagopa-sim
listen=127.0.0.1:8080
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--listen" ] && listen=${args[$((i + 1))]}
done
# The simulator checks cassa's answers against the XSDs when xmllint is there.
xsd=()
if ! command -v xmllint >/dev/null 2>&1; then
  echo "xmllint not found (apt-get install libxml2-utils): the simulator checks the spec's rules only" >&2
  xsd=(--no-xsd)
fi
./target/release/pagopa-sim "${xsd[@]}" --ec-url "http://$listen/pagopa/paForNode" serve --listen 127.0.0.1:8081 \
  --oidc-redirect-uri "http://$listen/accedi/oidc/ritorno" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
echo "pagoPA simulator (the node, the PSPs, Checkout and a demo SPID/CIE/CNS/eIDAS login) on http://127.0.0.1:8081."
echo "Log in at http://$listen/accedi as Mario Rossi (SPID) to see his debts of three enti and pay one in installments."
echo "Pay as a citizen at http://$listen/ (the cart ends in the simulated Checkout), or as at a PSP with"
echo "  ./target/release/pagopa-sim ${xsd[*]} --ec-url http://$listen/pagopa/paForNode pay-notice <notice.N.number> --ente <notice.N.ente>"
./target/release/cassa serve --demo "$@"
