#!/usr/bin/env python3
"""login-fail in DuckDB SQL: runs of --fails consecutive fails of a user within --within.

The logins are loaded into a table first so that `rowid` is the input line (uba orders a user's
equal times in input order). Per user, ordered by (ts, line), a row starts a match when it and
the next fails-1 rows (`lead`) are all fails and the last is at most --within after it
(inclusive); every such run is reported, overlapping ones too. emitted_at = last_fail, as uba's.
Not expressed: uba's late logins (behind its watermark, --out-of-orderness 3s) go to its late
output; here every row counts (the benchmark's file has none late).

    python3 benches/peers/duckdb_login_fail.py LOGINS.csv --out duckdb-login-fail.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import LOGIN, csv_scan, duckdb_main, duration_flag  # noqa: E402


def flags(p):
    p.add_argument("--fails", type=int, default=2, help="fails in a run (default 2, at least 2)")
    duration_flag(p, "--within", "2s", "first to last fail, inclusive")


def query(args):
    n = args.fails
    lead = lambda col, k: f"lead({col}, {k}) OVER w"  # noqa: E731
    nexts = ",\n       ".join(f"{lead('status', k)} AS s{k}, {lead('ts', k)} AS t{k}, "
                              f"{lead('ip', k)} AS ip{k}" for k in range(1, n))
    all_fail = " AND ".join(f"s{k} = 'fail'" for k in range(1, n))
    ips = " || ' ' || ".join(["ip"] + [f"ip{k}" for k in range(1, n)])
    return f"""
WITH runs AS (
    SELECT user_id, status, ts, ip,
       {nexts}
    FROM logins
    WINDOW w AS (PARTITION BY user_id ORDER BY ts, rowid)
)
SELECT user_id, ts * 1000 AS first_fail, t{n - 1} * 1000 AS last_fail, {n} AS fails,
       {ips} AS ips, t{n - 1} * 1000 AS emitted_at
FROM runs
WHERE status = 'fail' AND {all_fail} AND (t{n - 1} - ts) * 1000 <= {args.within}
ORDER BY emitted_at, user_id, first_fail"""


if __name__ == "__main__":
    duckdb_main("login-fail", __doc__, [("input", "Login")],
                ["user_id", "first_fail", "last_fail", "fails", "ips", "emitted_at"], query,
                flags=flags,
                setup=lambda a: [f"CREATE TABLE logins AS SELECT * FROM {csv_scan(a.input, LOGIN)}"])
