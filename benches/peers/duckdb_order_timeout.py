#!/usr/bin/env python3
"""order-timeout in DuckDB SQL: per order, the earliest create c and the earliest pay p decide.

    paid                c <= p <= c + timeout, at p
    timeout             no such pay, at c + timeout (so a late pay also gives a timeout row)
    paid_late           c + timeout < p <= c + retention, at p
    pay_without_create  no create, a create after p, or p > c + retention, at p

Not expressed: uba's "further events" (a create or pay of an order within --retention after an
earlier one is ignored, one later starts the order anew): here the earliest create and pay of the
whole file decide (the benchmark's file has one create and at most one pay per order); uba's late
records (behind its watermark) go to its late output, here every row counts (none in the file).

    python3 benches/peers/duckdb_order_timeout.py ORDERS.csv --out duckdb-order-timeout.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import ORDER, csv_scan, duckdb_main, duration_flag  # noqa: E402


def flags(p):
    duration_flag(p, "--timeout", "15m", "create to pay")
    duration_flag(p, "--retention", "24h", "how long a create is remembered")


def query(args):
    t, r = args.timeout, args.retention
    return f"""
WITH orders AS (SELECT order_id, kind, tx_id, ts * 1000 AS ts FROM {csv_scan(args.input, ORDER)}),
c AS (SELECT order_id, min(ts) AS c FROM orders WHERE kind = 'create' GROUP BY order_id),
p AS (SELECT order_id, min(ts) AS p, arg_min(tx_id, ts) AS tx FROM orders WHERE kind = 'pay'
      GROUP BY order_id),
o AS (SELECT order_id, c, p, tx, p BETWEEN c AND c + {t} AS paid FROM c FULL JOIN p USING (order_id))
SELECT order_id, 'paid' AS outcome, c, p, tx, NULL, p FROM o WHERE paid
UNION ALL
SELECT order_id, 'timeout', c, NULL, NULL, c + {t}, c + {t} FROM o
WHERE c IS NOT NULL AND paid IS NOT TRUE
UNION ALL
SELECT order_id, 'paid_late', c, p, tx, c + {t}, p FROM o WHERE p > c + {t} AND p <= c + {r}
UNION ALL
SELECT order_id, 'pay_without_create', NULL, p, tx, NULL, p FROM o
WHERE p IS NOT NULL AND (c IS NULL OR p < c OR p > c + {r})"""


if __name__ == "__main__":
    duckdb_main("order-timeout", __doc__, [("input", "Order")],
                ["order_id", "outcome", "create_ts", "pay_ts", "tx_id", "timeout_at", "emitted_at"],
                query, flags=flags)
