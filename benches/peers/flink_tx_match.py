#!/usr/bin/env python3
"""tx-match in Flink SQL: an interval FULL OUTER JOIN of pays and receipts on txId.

    pays FULL JOIN receipts ON tx_id AND r.rt BETWEEN p.rt - before AND p.rt + after

A joined pair is `matched`, a pay padded with nulls `unmatched_pay`, a receipt padded with nulls
`unmatched_receipt` (Flink emits the padded row once the watermark passes the bound, as uba does).
Not expressed: "earliest pay and earliest receipt decide" and uba's --retention (a join pairs every
pay with every receipt in the bounds; the benchmark's files have at most one of each per txId), and
the time a row is reported (emitted_at; not compared).

    python3 benches/peers/flink_tx_match.py ORDERS.csv RECEIPTS.csv --out flink-tx-match.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import (ORDER, RECEIPT, duration_flag, flink_main, flink_table,  # noqa: E402
                          interval)


def flags(p):
    duration_flag(p, "--receipt-before", "3s", "how long a receipt may come before its pay")
    duration_flag(p, "--receipt-after", "5s", "how long a receipt may come after its pay")


def query(args):
    return f"""
SELECT COALESCE(p.tx_id, r.tx_id) AS tx_id,
       CASE WHEN r.tx_id IS NULL THEN 'unmatched_pay'
            WHEN p.tx_id IS NULL THEN 'unmatched_receipt' ELSE 'matched' END AS outcome,
       p.order_id AS order_id, p.ts * 1000 AS pay_ts, r.pay_channel AS pay_channel,
       r.ts * 1000 AS receipt_ts
FROM (SELECT * FROM orders WHERE kind = 'pay' AND COALESCE(tx_id, '') <> '') AS p
FULL JOIN receipts AS r
  ON p.tx_id = r.tx_id
 AND r.rt BETWEEN p.rt - {interval(args.receipt_before)} AND p.rt + {interval(args.receipt_after)}"""


if __name__ == "__main__":
    flink_main("tx-match", __doc__, [("orders", "Order"), ("receipts", "Receipt")],
               ["tx_id", "outcome", "order_id", "pay_ts", "pay_channel", "receipt_ts"],
               tables=lambda a: [flink_table("orders", a.orders, ORDER),
                                 flink_table("receipts", a.receipts, RECEIPT)],
               query=query, row=tuple, flags=flags)
