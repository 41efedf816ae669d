#!/usr/bin/env python3
"""Generate a UserBehavior-like CSV for benchmarks (no header, in time order).

    python3 benches/peers/gen_user_behavior.py 1000000 /tmp/ub-1m.csv [--seed 42] [--rate 128]

Rows: userId,itemId,categoryId,behavior,ts. ts starts at 2017-11-26 01:00:00 UTC (as the sample)
and advances so that there are --rate rows per second of event time (1M rows at 128/s span about
2 h 10 min). Item popularity is Zipf-like (weight 1/rank^--zipf over --items items, ids scattered
over 1..5,000,000 so id order is not popularity order); each item has a fixed category; users are
uniform over 1..1,000,000; behavior is pv 89 %, cart 5.5 %, fav 3 %, buy 2.5 % (about the
sample's mix). Same seed, same file. Do not commit the output.
"""

import argparse
import bisect
import itertools
import random
import sys
import time


def main():
    p = argparse.ArgumentParser(description="Generate a UserBehavior-like CSV.")
    p.add_argument("rows", type=int)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--rate", type=float, default=128.0, help="rows per second of event time")
    p.add_argument("--items", type=int, default=200_000, help="distinct items")
    p.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent")
    p.add_argument("--start", type=int, default=1511658000, help="first ts, epoch seconds")
    args = p.parse_args()

    t0 = time.perf_counter()
    rng = random.Random(args.seed)
    item_ids = rng.sample(range(1, 5_000_001), args.items)
    categories = [rng.randrange(1, 5_000_000) for _ in range(args.items // 20 + 1)]
    item_cat = [categories[rng.randrange(len(categories))] for _ in range(args.items)]
    cum = list(itertools.accumulate(1.0 / (r ** args.zipf) for r in range(1, args.items + 1)))
    total = cum[-1]
    behaviors = ["pv"] * 178 + ["cart"] * 11 + ["fav"] * 6 + ["buy"] * 5  # 200 slots
    last = args.items - 1

    with open(args.out, "w") as f:
        buf = []
        for i in range(args.rows):
            k = min(bisect.bisect_left(cum, rng.random() * total), last)
            ts = args.start + int(i / args.rate)
            buf.append(f"{rng.randrange(1, 1_000_001)},{item_ids[k]},{item_cat[k]},"
                       f"{behaviors[rng.randrange(200)]},{ts}\n")
            if len(buf) >= 65536:
                f.writelines(buf)
                buf.clear()
        f.writelines(buf)
    print(f"gen: {args.rows} rows, ts {args.start}..{args.start + int((args.rows - 1) / args.rate)}, "
          f"{time.perf_counter() - t0:.1f} s -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
