#!/usr/bin/env python3
"""Compare two results of a job: uba's csv and a peer's (or any two).

    python3 benches/peers/compare.py UBA_CSV PEER_CSV                  # hot-items
    python3 benches/peers/compare.py --job pv UBA_CSV PEER_CSV         # pv, uv, login-fail, ...
    python3 benches/peers/compare.py --job order-timeout --only paid,timeout UBA_CSV PEER_CSV

Jobs other than hot-items (`compare_rows`): the files are compared on the columns both have
(uba's column names; `update` never), as multisets of rows. For the windowed jobs (pv, uv) each
file's windows are first settled: a window's last emission (largest emitted_at, then later in the
file) is kept, and emitted_at is then not compared. `--only` keeps the rows of these outcomes in
both files. The columns of the first file that the second lacks are named: they are not compared.

hot-items:
Either file may be uba's output (header `window_start,window_end,rank,item_id,count,update,
emitted_at`) or a peer's (`window_start,window_end,rank,item_id,count`). For uba's, a window may
have been emitted several times; its settled result is its last emission: the rows carrying the
largest emitted_at among that window's rows (the rows of later-in-file emissions win on equal
emitted_at, which is not expected).

Two windows agree when
  * the multisets of counts at ranks 1..N are equal, and
  * the items whose count is strictly greater than the N-th count (all items, when the window has
    fewer than N rows) are the same set.
N is --top, or else the largest rank seen in either file. Items tied at the N-th count may differ:
which of them make the cut is a tie-break choice. Windows present in only one file are reported.

Exit status 0 when the files agree, 1 with a short diff otherwise (2 on unreadable input).
"""

import argparse
import csv
import sys
from collections import Counter, defaultdict


def _int(s):
    try:
        return int(s)
    except ValueError:
        return int(float(s))


def load(path):
    """-> ({(window_start, window_end): [(rank, item, count), ...]}, description)."""
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd, None)
        if header is None:
            return {}, "empty file"
        col = {name.strip(): i for i, name in enumerate(header)}
        for need in ("window_start", "window_end", "rank", "item_id", "count"):
            if need not in col:
                sys.exit(f"{path}: no column {need!r} in header {header}")
        ws, we, rk, it, ct = (col[c] for c in ("window_start", "window_end", "rank", "item_id", "count"))
        em = col.get("emitted_at")
        # window -> emission key -> rows; the emission key orders emissions (emitted_at, then
        # first appearance in the file).
        emissions = defaultdict(dict)
        order = 0
        for rec in rd:
            if not rec or all(not c.strip() for c in rec):
                continue
            key = (_int(rec[ws]), _int(rec[we]))
            row = (_int(rec[rk]), _int(rec[it]), _int(rec[ct]))
            if em is None:
                ekey = 0
            else:
                e = rec[em].strip()
                try:
                    ekey = (0, _int(e))
                except ValueError:
                    ekey = (1, e)  # not a number: compare as text
            em_rows = emissions[key].get(ekey)
            if em_rows is None:
                em_rows = emissions[key][ekey] = (order, [])
                order += 1
            em_rows[1].append(row)
        settled, multi = {}, 0
        for key, by_em in emissions.items():
            if len(by_em) > 1:
                multi += 1
            last = max(by_em.items(), key=lambda kv: (kv[0], kv[1][0]))
            settled[key] = sorted(last[1][1])
    desc = f"{len(settled)} windows"
    if em is not None:
        desc += f" (uba format; {multi} windows emitted more than once, last emission kept)"
    return settled, desc


def window_diff(a_rows, b_rows, n):
    """None when the two windows agree ties aside, else a short reason."""
    a_top = sorted(a_rows, key=lambda r: (-r[2], r[1]))[:n]
    b_top = sorted(b_rows, key=lambda r: (-r[2], r[1]))[:n]
    if len(a_rows) > n or len(b_rows) > n:
        extra = "(more than N rows; comparing the N largest) "
    else:
        extra = ""
    a_counts = sorted((r[2] for r in a_top), reverse=True)
    b_counts = sorted((r[2] for r in b_top), reverse=True)
    if a_counts != b_counts:
        return f"{extra}counts differ: {a_counts} vs {b_counts}"
    if len(a_top) < n:
        a_set, b_set = {r[1] for r in a_top}, {r[1] for r in b_top}
        what = "items"
    else:
        cut = a_counts[-1]
        a_set = {r[1] for r in a_top if r[2] > cut}
        b_set = {r[1] for r in b_top if r[2] > cut}
        what = f"items with count > {cut}"
    if a_set != b_set:
        return (f"{extra}{what} differ: only first {sorted(a_set - b_set)}, "
                f"only second {sorted(b_set - a_set)}")
    return None


def fmt_window(key):
    return f"[{key[0]},{key[1]})"


WINDOWED = ("pv", "uv")


def read_table(path):
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = [h.strip() for h in next(rd, [])]
        return header, [rec for rec in rd if rec and any(c.strip() for c in rec)]


def settle(header, rows):
    """A window's last emission: largest emitted_at, then later in the file."""
    col = {h: i for i, h in enumerate(header)}
    ws, we, em = col["window_start"], col["window_end"], col.get("emitted_at")
    last, emissions = {}, 0
    for order, rec in enumerate(rows):
        emissions += 1
        rank = (_int(rec[em]) if em is not None else 0, order)
        key = (rec[ws], rec[we])
        if key not in last or rank >= last[key][0]:
            last[key] = (rank, rec)
    return [rec for _, rec in last.values()], emissions


def compare_rows(args):
    """Every job but hot-items: multisets of rows over the common columns; exit 0 when equal."""
    (a_hdr, a_rows), (b_hdr, b_rows) = read_table(args.first), read_table(args.second)
    notes = []
    if args.job in WINDOWED:
        a_rows, a_em = settle(a_hdr, a_rows)
        b_rows, b_em = settle(b_hdr, b_rows)
        notes.append(f"settled windows: first {len(a_rows)} ({a_em} emissions), "
                     f"second {len(b_rows)} ({b_em} emissions)")
    skip = {"update"} | ({"emitted_at"} if args.job in WINDOWED else set())
    common = [h for h in a_hdr if h in b_hdr and h not in skip]
    missing = [h for h in a_hdr if h not in b_hdr and h not in skip]

    def project(header, rows):
        idx = [header.index(h) for h in common]
        out = Counter(tuple(rec[i].strip() for i in idx) for rec in rows)
        if args.only and "outcome" in common:
            keep = set(args.only.split(","))
            pos = common.index("outcome")
            out = Counter({r: n for r, n in out.items() if r[pos] in keep})
        return out

    a, b = project(a_hdr, a_rows), project(b_hdr, b_rows)
    print(f"first:  {args.first}: {sum(a.values())} rows")
    print(f"second: {args.second}: {sum(b.values())} rows")
    for n in notes:
        print(n)
    if "outcome" in common:
        pos = common.index("outcome")
        for name, counter in (("first", a), ("second", b)):
            by = Counter()
            for r, n in counter.items():
                by[r[pos]] += n
            print(f"{name} by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
    cols = ",".join(common)
    not_cmp = f"; not compared: {','.join(missing)}" if missing else ""
    if args.only:
        not_cmp += f"; outcomes {args.only} only"
    if a == b:
        print(f"agree: {sum(a.values())} rows on {cols}{not_cmp}")
        sys.exit(0)
    only_a, only_b = a - b, b - a
    print(f"differ on {cols}{not_cmp}: {sum(only_a.values())} rows only in first, "
          f"{sum(only_b.values())} only in second")
    for label, diff in (("only in first", only_a), ("only in second", only_b)):
        for r in sorted(diff)[:args.show]:
            print(f"  {label}: {','.join(r)}")
    sys.exit(1)


def main():
    p = argparse.ArgumentParser(description="Compare two results of a job (uba's and a peer's).")
    p.add_argument("first", help="uba's CSV (or any result CSV of the job)")
    p.add_argument("second", help="the peer's CSV (or any result CSV of the job)")
    p.add_argument("--job", default="hot-items", help="the job (default hot-items)")
    p.add_argument("--only", help="outcomes to compare, comma-separated (jobs with an outcome)")
    p.add_argument("--top", type=int, help="hot-items: N (default: the largest rank in either file)")
    p.add_argument("--show", type=int, default=10, help="differences to print per kind (default 10)")
    args = p.parse_args()
    if args.job != "hot-items":
        try:
            compare_rows(args)
        except OSError as e:
            print(f"compare: {e}", file=sys.stderr)
            sys.exit(2)

    try:
        a, a_desc = load(args.first)
        b, b_desc = load(args.second)
    except OSError as e:
        print(f"compare: {e}", file=sys.stderr)
        sys.exit(2)
    n = args.top or max([r[0] for rows in (*a.values(), *b.values()) for r in rows], default=0)

    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    bad = []
    for key in sorted(set(a) & set(b)):
        why = window_diff(a[key], b[key], n)
        if why:
            bad.append((key, why))

    print(f"first:  {args.first}: {a_desc}")
    print(f"second: {args.second}: {b_desc}")
    if not (only_a or only_b or bad):
        print(f"agree: {len(a)} windows, top {n}, ties aside")
        sys.exit(0)
    for label, keys in (("only in first", only_a), ("only in second", only_b)):
        if keys:
            shown = " ".join(fmt_window(k) for k in keys[:args.show])
            more = f" ... (+{len(keys) - args.show})" if len(keys) > args.show else ""
            print(f"{label}: {len(keys)} windows: {shown}{more}")
    if bad:
        print(f"differ: {len(bad)} of {len(set(a) & set(b))} common windows")
        for key, why in bad[:args.show]:
            print(f"  {fmt_window(key)}: {why}")
        if len(bad) > args.show:
            print(f"  ... (+{len(bad) - args.show})")
    sys.exit(1)


if __name__ == "__main__":
    main()
