#!/usr/bin/env bash
# How long `cargo build` takes after a one-line change in a portal handler
# (the home page's), the edit-compile loop of someone working on the portal.
# Builds once to warm up, then ROUNDS times a changed line; prints each
# time and the median, and restores the file. BUILD_ARGS="--all-targets"
# measures the tests too.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
file=$(grep -rl --include=pages.rs 'pub async fn home(page: PageContext)' crates | head -1)
[ -n "$file" ] || { echo "no portal home handler found" >&2; exit 1; }
backup=$(mktemp)
cp "$file" "$backup"
trap 'cp "$backup" "$file"; rm -f "$backup"' EXIT
cargo build -q ${BUILD_ARGS:-}
times=()
for round in $(seq "$ROUNDS"); do
  sed -i "s|^pub async fn home(page: PageContext) -> Response {.*|pub async fn home(page: PageContext) -> Response { tracing::trace!(round = $round, \"home\");|" "$file"
  start=$(date +%s.%N)
  cargo build -q ${BUILD_ARGS:-}
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc)")
  echo "round $round: ${times[-1]} s ($file)"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median: %.1f s over %d rounds\n", a[int((NR+1)/2)], NR}'
