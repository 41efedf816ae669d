"""Shared bits of the hot-items peer scripts: the command line, durations, the output CSV.

Every peer writes the same CSV, `window_start,window_end,rank,item_id,count`, with times
in epoch milliseconds (window end exclusive), sorted by window_start then rank.
"""

import argparse
import csv
import re
import sys

HEADER = ["window_start", "window_end", "rank", "item_id", "count"]

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """`1h`, `5m`, `30s`, `250ms`, `1h30m` -> milliseconds (a bare number is seconds)."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+", text):
        return int(text) * 1000
    total, pos = 0, 0
    for m in re.finditer(r"(\d+)\s*(ms|min|s|m|h|d)", text):
        if m.start() != pos:
            break
        total += int(m.group(1)) * _UNITS_MS[m.group(2)]
        pos = m.end()
    if pos != len(text) or total <= 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (use e.g. 1h, 5m, 30s, 250ms)")
    return total


def base_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("input", help="UserBehavior CSV without header: userId,itemId,categoryId,behavior,ts")
    p.add_argument("--out", help="output CSV (default: stdout)")
    p.add_argument("--window", type=parse_duration_ms, default=parse_duration_ms("1h"),
                   help="window size (default 1h)")
    p.add_argument("--slide", type=parse_duration_ms, default=parse_duration_ms("5m"),
                   help="window slide (default 5m)")
    p.add_argument("--top", type=int, default=5, help="top N per window (default 5)")
    return p


def write_rows(rows, out_path):
    """rows: iterable of (window_start_ms, window_end_ms, rank, item_id, count)."""
    f = open(out_path, "w", newline="") if out_path else sys.stdout
    try:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    finally:
        if out_path:
            f.close()
        else:
            f.flush()


def count_lines(path: str) -> int:
    """Input rows = lines (a last line without a trailing newline counts too)."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f}" if seconds > 0 else "inf"
