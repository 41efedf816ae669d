#!/usr/bin/env bash
# Run the hot-items peers on one input and check that they agree (and agree with uba, if given).
#
#   benches/peers/run_peers.sh INPUT [UBA_CSV]
#
# Env: PY (python with duckdb + apache-flink; default python3), OUTDIR (default a new temp dir),
#      PEERS (default "naive duckdb flink"), FLINK_ARGS (extra flags, e.g. "--mode batch").
# Exit 0 when every pair compared agrees.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
input="${1:?usage: run_peers.sh INPUT [UBA_CSV]}"
uba="${2:-}"
py="${PY:-python3}"
out="${OUTDIR:-$(mktemp -d /tmp/peers.XXXXXX)}"
peers="${PEERS:-naive duckdb flink}"
mkdir -p "$out"

for p in $peers; do
  extra=()
  if [ "$p" = flink ]; then read -r -a extra <<< "${FLINK_ARGS:-}"; fi
  # Flink's JVM writes its exceptions to stderr; keep them in a log, show our summary lines.
  "$py" "$here/${p}_hot_items.py" "$input" --out "$out/$p.csv" "${extra[@]}" 2> "$out/$p.log" \
    || { cat "$out/$p.log" >&2; exit 1; }
  grep "^$p:" "$out/$p.log" >&2
done

rc=0
set -- $peers
first="$1"; shift
for p in "$@"; do
  "$py" "$here/compare.py" "$out/$first.csv" "$out/$p.csv" || rc=1
done
if [ -n "$uba" ]; then
  "$py" "$here/compare.py" "$uba" "$out/$first.csv" || rc=1
fi
echo "outputs in $out" >&2
exit $rc
