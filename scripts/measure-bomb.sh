#!/usr/bin/env bash
# Sends a ZIP bomb to `cassa serve` through the import API, as an attacker
# with an ente's API key would, and prints what it cost: the server's peak
# memory (VmHWM) and the most disk its files used while the job ran, with
# the job's answer. BOMB_GB sets the size the archive expands to (3, as in
# the report that found the problem).
set -euo pipefail
cd "$(dirname "$0")/.."
gigabytes=${BOMB_GB:-3}
cargo build --release --locked -p cassa
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
# The CSV: the demo tipo dovuto's header and one row repeated, zipped at
# the highest level (about a thousand times smaller).
python3 - "$dir/bomb.zip" "$gigabytes" <<'EOF'
import sys, zipfile
path, gigabytes = sys.argv[1], float(sys.argv[2])
header = "IUD;codIuv;tipoIdentificativoUnivoco;codiceIdentificativoUnivoco;anagraficaPagatore;indirizzoPagatore;civicoPagatore;capPagatore;localitaPagatore;provinciaPagatore;nazionePagatore;e-mailPagatore;dataEsecuzionePagamento;importoDovuto;commissioneCaricoPa;tipoDovuto;tipoVersamento;causaleVersamento;datiSpecificiRiscossione;bilancio;flgGeneraIuv;flagMultiBeneficiario\n"
row = b"B-1;;F;RSSMRA85T10A562S;Mario Rossi;;;;;;;;2030-12-31;1.00;;TARI;;Bomba;9/0101108TS/;;true;false\n"
chunk = row * (8 * 1024 * 1024 // len(row))
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("bomba.csv", "w", force_zip64=True) as f:
        f.write(header.encode())
        for _ in range(int(gigabytes * 1024 * 1024 * 1024 // len(chunk))):
            f.write(chunk)
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=$(./target/release/cassa demo --data-dir "$dir/data" | sed -n 's/^ente\.2\.api_key=//p')
CASSA_LOG_FILTER=warn ./target/release/cassa serve --demo --data-dir "$dir/data" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.2; done
files="$dir/data/files"
before=$(grep VmHWM "/proc/$server/status" | awk '{print $2}')
location=$(curl -s -D - -o /dev/null -X POST \
  -H "Ocp-Apim-Subscription-Key: $key" --data-binary "@$dir/bomb.zip" \
  "http://127.0.0.1:$port/organizations/01199250158/jobs/imports?fileName=c_f205-BOMBA-1_4.zip" |
  sed -n 's/^[Ll]ocation: //p' | tr -d '\r')
peak_disk=0
answer=""
for _ in $(seq 1 600); do
  used=$(du -sb "$files" 2>/dev/null | awk '{print $1}')
  [ "${used:-0}" -gt "$peak_disk" ] && peak_disk=$used
  answer=$(curl -s -H "Ocp-Apim-Subscription-Key: $key" "http://127.0.0.1:$port$location")
  case "$answer" in *'"state":"DONE"'* | *'"state":"FAILED"'*) break ;; esac
  sleep 0.2
done
after=$(grep VmHWM "/proc/$server/status" | awk '{print $2}')
left=$(du -sb "$files" 2>/dev/null | awk '{print $1}')
echo "bomb: $(stat -c %s "$dir/bomb.zip") bytes zipped, ${gigabytes} GB unzipped"
echo "server peak memory: $((before / 1024)) MB before, $((after / 1024)) MB after"
echo "files on disk: at most $peak_disk bytes while the job ran, $left bytes after"
echo "job: $(echo "$answer" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["state"], j["result"]["fileError"] if j.get("result") else j.get("error"))')"
