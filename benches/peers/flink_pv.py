#!/usr/bin/env python3
"""pv in Flink SQL: TUMBLE window TVF + COUNT(*) over the pv rows (watermark = event time).

    python3 benches/peers/flink_pv.py data/user-behavior.csv --out flink-pv.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import flink_tumble  # noqa: E402

if __name__ == "__main__":
    flink_tumble("pv", __doc__, "COUNT(*)")
