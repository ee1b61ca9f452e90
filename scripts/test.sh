#!/usr/bin/env bash
# The whole test suite: every storage and API test runs on SQLite and on a
# throwaway PostgreSQL cluster this script starts (and removes) itself.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/throwaway-postgres.sh
source scripts/throwaway-postgres.sh
# XML messages are validated against pagoPA's XSDs with xmllint.
ensure_debian_command xmllint libxml2-utils
# PDFs are rasterised (pdftoppm) and read back as text (pdftotext).
ensure_debian_command pdftoppm poppler-utils
# TLS only: every PostgreSQL test connects as production should
# (sslmode=verify-full); one test checks that clear text is refused.
start_throwaway_postgres tls
export CASSA_TEST_POSTGRES_URL="$THROWAWAY_POSTGRES_URL"
export CASSA_TEST_POSTGRES_CA="$THROWAWAY_POSTGRES_CA"
echo "test PostgreSQL: $CASSA_TEST_POSTGRES_URL" >&2
cargo test --workspace --locked "$@"
# The citizen portal in a real browser, with accessibility checks.
./scripts/browser-tests.sh
