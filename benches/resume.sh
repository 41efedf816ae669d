#!/bin/bash
# What a resume costs, every job (the README table "What a resume costs"): each job over N rows
# (default 2M) of its generator, its input failing at 90% of its bytes (UBA_FAULT_READ_AFTER),
# then --resume; prints the lines read again, both times, their ratio, and whether the table is
# the uninterrupted run's. Build first: cargo build --release. Needs sqlite3 and bc.
U="$(cd "$(dirname "$0")/.." && pwd)/target/release/uba"; DIR="${DIR:-target/resume-bench}"; mkdir -p "$DIR"; cd "$DIR"
N=${N:-2000000}
gen() { [ -f $1 ] || $U gen $2 --rows $N --out $1 ${@:3} 2>/dev/null; }
gen ub.csv user-behavior
gen fun.csv user-behavior --rate 20
gen log.txt apache-log --shuffle-minute
gen mk.csv marketing
gen ad.csv ad-clicks
gen lg.csv login
gen ord.csv orders --receipts rc.csv
t() { local s=$(date +%s.%N); "$@" >/dev/null 2>err.txt; local rc=$?; echo "$(echo "$(date +%s.%N) - $s" | bc) $rc"; }
row() { name=$1; input=$2; shift 2; rm -f w.db r.db
  a=($(t $U $name $input "$@" --sink sqlite:w.db)); size=$(stat -c %s ${input%% *}); 
  UBA_FAULT_READ_AFTER=$((size*9/10)) $U $name $input "$@" --sink sqlite:r.db >/dev/null 2>&1
  b=($(t $U $name $input "$@" --sink sqlite:r.db --resume)); 
  total=$(grep -m1 "lines read:" err.txt | sed 's/.*: \([0-9]*\) lines read:.*/\1/'); again=$(grep -m1 "resumed at line" err.txt | sed 's/.*: \([0-9]*\) lines read in this run/\1/')
  same=$(for d in w r; do sqlite3 $d.db "select * from $(echo $name | tr - _) order by 1,2" | md5sum; done | uniq | wc -l)
  echo "| $name | $total | ${again:-all} | $(echo "scale=1; 100*${again:-$total}/$total" | bc)% | ${a[0]} s | ${b[0]} s | $(echo "scale=2; ${b[0]}/${a[0]}" | bc) | $([ $same = 1 ] && echo same || echo DIFFERENT) |"
}
echo "| job | lines | read again | share | whole run | resume | ratio | table |"
row hot-items ub.csv
row pv ub.csv
row uv ub.csv
row funnel fun.csv
row user-profile ub.csv
row hot-pages log.txt
row app-marketing mk.csv
row ad-stats ad.csv
row login-fail lg.csv
row order-timeout ord.csv
row tx-match "ord.csv rc.csv"
row recommend ub.csv
