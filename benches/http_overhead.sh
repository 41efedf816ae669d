#!/usr/bin/env bash
# What `--http` costs a job: hot-items over 10M generated rows (-w 2), with `--http` and a
# scraper of /metrics once a second, against the same run without, alternated PAIRS times in one
# run of this script (the machine is shared: only ratios within one run mean anything).
# Prints each run's seconds and the ratio of the medians. docs/benchmarks.md quotes it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-10000000}
PAIRS=${PAIRS:-3}
uba=target/release/uba
dir=target/bench
mkdir -p "$dir"
data=$dir/user-behavior-$ROWS.csv
[ -f "$data" ] || "$uba" gen user-behavior --rows "$ROWS" --out "$data"
job=(hot-items "$data" -w 2 --format csv --output /dev/null)

now() { date +%s%N; }

plain() {
    local start; start=$(now)
    "$uba" "${job[@]}" 2>/dev/null
    echo $(( ($(now) - start) / 1000000 ))
}

served() {
    local start; start=$(now)
    "$uba" "${job[@]}" --http 127.0.0.1:0 2>"$dir/http.err" &
    local pid=$! address=""
    while [ -z "$address" ] && kill -0 "$pid" 2>/dev/null; do
        address=$(grep -so '127.0.0.1:[0-9]*' "$dir/http.err" | head -1 || true)
        sleep 0.01
    done
    while kill -0 "$pid" 2>/dev/null; do
        curl -s -o /dev/null "http://$address/metrics" || true
        sleep 1
    done
    wait "$pid"
    echo $(( ($(now) - start) / 1000000 ))
}

without=(); with=()
for _ in $(seq "$PAIRS"); do
    without+=("$(plain)")
    with+=("$(served)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m0=$(median "${without[@]}"); m1=$(median "${with[@]}")
echo "without --http (ms): ${without[*]}; median $m0"
echo "with --http and a scraper (ms): ${with[*]}; median $m1"
awk -v a="$m0" -v b="$m1" 'BEGIN { printf "with / without: %.3f\n", b / a }'
