#!/usr/bin/env python3
"""login-fail in Flink SQL: MATCH_RECOGNIZE, --fails consecutive fails of a user within --within.

    PARTITION BY user_id ORDER BY rt  PATTERN (F1 F2 ... FN)  AFTER MATCH SKIP TO NEXT ROW
    DEFINE Fi AS status = 'fail' (and FN within --within of F1, inclusive)

The pattern's rows are strictly consecutive in the user's event-time order (no success between);
SKIP TO NEXT ROW reports overlapping runs too, as uba does. The watermark is 3 s behind (uba's
--out-of-orderness 3s); Flink drops logins behind it, uba writes them to its late output.
Equal times of a user are taken in arrival order (one source split: the file's order).

    python3 benches/peers/flink_login_fail.py LOGINS.csv --out flink-login-fail.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import LOGIN, duration_flag, flink_main, flink_table  # noqa: E402


def flags(p):
    p.add_argument("--fails", type=int, default=2, help="fails in a run (default 2, at least 2)")
    duration_flag(p, "--within", "2s", "first to last fail, inclusive")


def query(args):
    n = args.fails
    names = [f"F{k}" for k in range(1, n + 1)]
    define = ",\n".join(f"{f} AS {f}.status = 'fail'" for f in names[:-1])
    define += (f",\n{names[-1]} AS {names[-1]}.status = 'fail' "
               f"AND ({names[-1]}.ts - F1.ts) * 1000 <= {args.within}")
    ips = " || ' ' || ".join(f"{f}.ip" for f in names)
    return f"""
SELECT user_id, first_fail, last_fail, ips FROM logins MATCH_RECOGNIZE (
    PARTITION BY user_id ORDER BY rt
    MEASURES F1.ts * 1000 AS first_fail, {names[-1]}.ts * 1000 AS last_fail, {ips} AS ips
    ONE ROW PER MATCH
    AFTER MATCH SKIP TO NEXT ROW
    PATTERN ({' '.join(names)})
    DEFINE {define}
)"""


if __name__ == "__main__":
    flink_main("login-fail", __doc__, [("input", "Login")],
               ["user_id", "first_fail", "last_fail", "fails", "ips", "emitted_at"],
               tables=lambda a: [flink_table("logins", a.input, LOGIN, out_of_orderness_ms=3000)],
               query=query,
               row=lambda r: (r[0], r[1], r[2], len(r[3].split()), r[3], r[2]),
               flags=flags)
