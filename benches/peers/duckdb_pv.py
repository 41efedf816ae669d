#!/usr/bin/env python3
"""pv in DuckDB SQL: COUNT(*) of the pv rows per tumbling window (default 1 h).

    python3 benches/peers/duckdb_pv.py data/user-behavior.csv --out duckdb-pv.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import duckdb_main, duckdb_tumble, window_flag  # noqa: E402

if __name__ == "__main__":
    duckdb_main("pv", __doc__, [("input", "UserBehavior")], ["window_start", "window_end", "pv"],
                lambda args: duckdb_tumble(args, "count(*) AS pv"), flags=window_flag)
