#!/usr/bin/env python3
"""uv (exact) in Flink SQL: TUMBLE window TVF + COUNT(DISTINCT user_id) over the pv rows.

    python3 benches/peers/flink_uv.py data/user-behavior.csv --out flink-uv.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import flink_tumble  # noqa: E402

if __name__ == "__main__":
    flink_tumble("uv", __doc__, "COUNT(DISTINCT user_id)")
