#!/usr/bin/env python3
"""hot-items in DuckDB SQL: sliding-window top-N per item over the UserBehavior CSV.

One SQL statement reads the CSV (explicit column types, no header), keeps `pv` rows, expands each
row into the ceil(window / slide) epoch-aligned windows that hold it, counts per (window, item),
and keeps the top --top per window with ROW_NUMBER() (count desc, item id asc).

The timed span is that statement end to end, CSV reading included, plus fetching the result;
writing the (small) output file is not timed. Events = input rows (counted beforehand, untimed).

    pip install duckdb
    python3 benches/peers/duckdb_hot_items.py data/tutorial/UserBehavior.csv --out duckdb.csv
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers_common import (base_parser, count_lines, rate, result_line, sql_literal,  # noqa: E402
                          write_rows)

import duckdb  # noqa: E402

COLUMNS = ("{'user_id': 'BIGINT', 'item_id': 'BIGINT', 'category_id': 'BIGINT', "
           "'behavior': 'VARCHAR', 'ts': 'BIGINT'}")


def query(path: str, size: int, slide: int, top: int) -> str:
    # Windows per row: k = 0 .. ceil(size/slide)-1 steps back from the latest window start
    # floor(t/slide)*slide; the filter drops the steps that no longer hold t (only when size is
    # not a multiple of slide). floor division is written with % so it is right for t < 0 too.
    steps = -(-size // slide)
    return f"""
WITH pv AS (
    SELECT item_id, ts * 1000 AS t
    FROM read_csv({sql_literal(path)}, header = false, delim = ',', quote = '',
                  auto_detect = false, columns = {COLUMNS})
    WHERE behavior = 'pv'
),
win AS (
    SELECT item_id, t - ((t % {slide}) + {slide}) % {slide} - k * {slide} AS window_start, t
    FROM pv CROSS JOIN range(0, {steps}) AS r(k)
),
counted AS (
    SELECT window_start, item_id, count(*) AS cnt
    FROM win
    WHERE window_start + {size} > t
    GROUP BY window_start, item_id
)
SELECT window_start, window_start + {size} AS window_end,
       row_number() OVER (PARTITION BY window_start ORDER BY cnt DESC, item_id ASC) AS rank,
       item_id, cnt AS count
FROM counted
QUALIFY rank <= {top}
ORDER BY window_start, rank
"""


def main():
    p = base_parser(__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    p.add_argument("--explain", action="store_true", help="print the physical plan to stderr")
    args = p.parse_args()

    events = count_lines(args.input)  # untimed
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")  # it would print to stdout, where the CSV may go
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    sql = query(os.path.abspath(args.input), args.window, args.slide, args.top)
    if args.explain:
        print(con.execute("EXPLAIN " + sql).fetchall()[0][1], file=sys.stderr)

    t0 = time.perf_counter()
    rows = con.execute(sql).fetchall()
    secs = time.perf_counter() - t0

    write_rows(rows, args.out)
    print(f"duckdb: {len(rows)} rows in {secs:.3f} s = {rate(events, secs)} events/s "
          f"({events} input rows, {threads} threads, duckdb {duckdb.__version__})", file=sys.stderr)
    result_line("duckdb", "hot-items", secs)


if __name__ == "__main__":
    main()
