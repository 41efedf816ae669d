#!/usr/bin/env python3
"""uv (exact) in DuckDB SQL: COUNT(DISTINCT user_id) of the pv rows per tumbling window.

    python3 benches/peers/duckdb_uv.py data/user-behavior.csv --out duckdb-uv.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import duckdb_main, duckdb_tumble, window_flag  # noqa: E402

if __name__ == "__main__":
    duckdb_main("uv", __doc__, [("input", "UserBehavior")], ["window_start", "window_end", "uv"],
                lambda args: duckdb_tumble(args, "count(DISTINCT user_id) AS uv"),
                flags=window_flag)
