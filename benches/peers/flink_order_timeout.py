#!/usr/bin/env python3
"""order-timeout in Flink SQL: three interval joins of creates c and pays p on orderId, UNION ALL.

    paid / timeout      creates LEFT JOIN pays ON p.rt BETWEEN c.rt AND c.rt + timeout
                        (a create padded with nulls is a timeout, emitted when the watermark
                        passes c + timeout)
    paid_late           pays JOIN creates ON c.rt >= p.rt - retention AND c.rt < p.rt - timeout
    pay_without_create  pays LEFT JOIN creates ON c.rt BETWEEN p.rt - retention AND p.rt,
                        the pays padded with nulls

Not expressed: "the earliest create and pay decide" and uba's further events within --retention
(joins pair every create with every pay in the bounds; the benchmark's file has one create and at
most one pay per order), and the time a row is reported (emitted_at; not compared).

    python3 benches/peers/flink_order_timeout.py ORDERS.csv --out flink-order-timeout.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import ORDER, duration_flag, flink_main, flink_table, interval  # noqa: E402


def flags(p):
    duration_flag(p, "--timeout", "15m", "create to pay")
    duration_flag(p, "--retention", "24h", "how long a create is remembered")


VIEWS = ["CREATE TEMPORARY VIEW creates AS SELECT * FROM orders WHERE kind = 'create'",
         "CREATE TEMPORARY VIEW pays AS SELECT * FROM orders WHERE kind = 'pay'"]


def query(args):
    t, r = interval(args.timeout), interval(args.retention)
    return f"""
SELECT c.order_id AS order_id, CASE WHEN p.order_id IS NULL THEN 'timeout' ELSE 'paid' END AS outcome,
       c.ts * 1000 AS create_ts, p.ts * 1000 AS pay_ts, p.tx_id AS tx_id,
       CASE WHEN p.order_id IS NULL THEN c.ts * 1000 + {args.timeout} END AS timeout_at
FROM creates AS c LEFT JOIN pays AS p
  ON c.order_id = p.order_id AND p.rt BETWEEN c.rt AND c.rt + {t}
UNION ALL
SELECT p.order_id, 'paid_late', c.ts * 1000, p.ts * 1000, p.tx_id, c.ts * 1000 + {args.timeout}
FROM pays AS p JOIN creates AS c
  ON c.order_id = p.order_id AND c.rt >= p.rt - {r} AND c.rt < p.rt - {t}
UNION ALL
SELECT p.order_id, 'pay_without_create', CAST(NULL AS BIGINT), p.ts * 1000, p.tx_id,
       CAST(NULL AS BIGINT)
FROM pays AS p LEFT JOIN creates AS c
  ON c.order_id = p.order_id AND c.rt BETWEEN p.rt - {r} AND p.rt
WHERE c.order_id IS NULL"""


if __name__ == "__main__":
    flink_main("order-timeout", __doc__, [("input", "Order")],
               ["order_id", "outcome", "create_ts", "pay_ts", "tx_id", "timeout_at"],
               tables=lambda a: [flink_table("orders", a.input, ORDER)] + VIEWS,
               query=query, row=tuple, flags=flags)
