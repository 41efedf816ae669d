#!/usr/bin/env bash
# -w scaling on a many-core machine: jobs over generated rows, -w 1 2 4 8 16.
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
"$uba" gen marketing --rows "$rows" --seed 1 --out "$data/mk.csv"
"$uba" gen login --rows "$rows" --seed 1 --disorder 2s --out "$data/login.csv"
echo "parse-only: $("$uba" parse "$data/ub.csv" 2>&1 | tail -1)"
run() { # label job input [args...]
  local label=$1 job=$2 input=$3; shift 3
  for w in $workers; do
    echo "$label -w $w: $(timeout 120 "$uba" "$job" "$input" --format csv -w "$w" "$@" 2>&1 >/dev/null | tail -1)"
  done
}
run hot-items hot-items "$data/ub.csv"
run "uv exact" uv "$data/ub.csv" --method exact
run app-marketing app-marketing "$data/mk.csv"
run login-fail login-fail "$data/login.csv"
