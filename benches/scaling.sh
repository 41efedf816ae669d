#!/usr/bin/env bash
# -w scaling on a many-core machine: each job over generated rows, -w 1 2 4 8 16.
#   benches/scaling.sh [UBA_BINARY] [ROWS] [WORKERS...]
# Prints uba's own summary line for each run (lines/s and peak RSS are in it).
set -euo pipefail
uba="${1:-target/release/uba}"
rows="${2:-10000000}"
shift $(( $# > 2 ? 2 : $# ))
workers="${*:-1 2 4 8 16}"
data="${TMPDIR:-/tmp}/uba-scaling"
mkdir -p "$data"
echo "cores: $(nproc), rows: $rows"
"$uba" gen user-behavior --rows "$rows" --seed 1 --out "$data/ub.csv"
echo "parse-only: $("$uba" parse "$data/ub.csv" 2>&1 | tail -1)"
for job in hot-items; do
  for w in $workers; do
    echo "$job -w $w: $("$uba" "$job" "$data/ub.csv" --format csv -w "$w" 2>&1 >/dev/null | tail -1)"
  done
done
