#!/usr/bin/env python3
"""hot-items, the naive reference: plain Python dicts and loops, no library.

Keeps `pv` rows; event time = ts * 1000 ms; sliding windows of --window sliding by --slide,
aligned to the epoch (a window [start, end) owns start..end-1); counts per item per window;
top --top per window by count desc, then item id asc. Every window holding at least one
pv row is reported, including those that end after the last event.

    python3 benches/peers/naive_hot_items.py data/tutorial/UserBehavior.csv --out naive.csv
"""

import csv
import os
import sys
import time
from collections import defaultdict

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers_common import base_parser, rate, write_rows  # noqa: E402


def hot_items(path, size, slide, top):
    counts = defaultdict(lambda: defaultdict(int))  # window_start -> item -> count
    rows_in = 0
    with open(path, newline="") as f:
        for rec in csv.reader(f):
            if not rec:
                continue
            rows_in += 1
            if rec[3] != "pv":
                continue
            item = int(rec[1])
            t = int(rec[4]) * 1000
            # The latest window holding t starts at floor(t / slide) * slide (Python's // floors);
            # earlier ones step back by `slide` while they still hold t.
            start = (t // slide) * slide
            while start + size > t:
                counts[start][item] += 1
                start -= slide
    out = []
    for start in sorted(counts):
        ranked = sorted(counts[start].items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        for rank, (item, c) in enumerate(ranked, 1):
            out.append((start, start + size, rank, item, c))
    return out, rows_in


def main():
    args = base_parser(__doc__.splitlines()[0]).parse_args()
    t0 = time.perf_counter()
    rows, rows_in = hot_items(args.input, args.window, args.slide, args.top)
    write_rows(rows, args.out)
    secs = time.perf_counter() - t0
    print(f"naive: {len(rows)} rows in {secs:.3f} s = {rate(rows_in, secs)} events/s "
          f"({rows_in} input rows)", file=sys.stderr)


if __name__ == "__main__":
    main()
