#!/usr/bin/env python3
"""tx-match in DuckDB SQL: per txId, the earliest pay p and the earliest receipt r decide.

    matched             p - before <= r <= p + after (inclusive), at max(p, r)
    unmatched_pay       no such receipt, at p + after
    unmatched_receipt   no such pay, at r + before

Not expressed: uba's "further events" (a pay or receipt of a txId within --retention after an
earlier one is ignored, one later starts the txId anew): here the earliest pay and receipt of the
whole files decide (the benchmark's files have one of each at most per txId); uba's late records
go to its late output, here every row counts (none in the files).

    python3 benches/peers/duckdb_tx_match.py ORDERS.csv RECEIPTS.csv --out duckdb-tx-match.csv
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peers_common import ORDER, RECEIPT, csv_scan, duckdb_main, duration_flag  # noqa: E402


def flags(p):
    duration_flag(p, "--receipt-before", "3s", "how long a receipt may come before its pay")
    duration_flag(p, "--receipt-after", "5s", "how long a receipt may come after its pay")


def query(args):
    b, a = args.receipt_before, args.receipt_after
    return f"""
WITH p AS (SELECT tx_id, min(ts) * 1000 AS p, arg_min(order_id, ts) AS order_id
           FROM {csv_scan(args.orders, ORDER)} WHERE kind = 'pay' AND tx_id <> '' GROUP BY tx_id),
r AS (SELECT tx_id, min(ts) * 1000 AS r, arg_min(pay_channel, ts) AS ch
      FROM {csv_scan(args.receipts, RECEIPT)} GROUP BY tx_id),
t AS (SELECT tx_id, p, order_id, r, ch, r BETWEEN p - {b} AND p + {a} AS matched
      FROM p FULL JOIN r USING (tx_id))
SELECT tx_id, 'matched' AS outcome, order_id, p, ch, r, greatest(p, r) FROM t WHERE matched
UNION ALL
SELECT tx_id, 'unmatched_pay', order_id, p, NULL, NULL, p + {a} FROM t
WHERE p IS NOT NULL AND matched IS NOT TRUE
UNION ALL
SELECT tx_id, 'unmatched_receipt', NULL, NULL, ch, r, r + {b} FROM t
WHERE r IS NOT NULL AND matched IS NOT TRUE"""


if __name__ == "__main__":
    duckdb_main("tx-match", __doc__, [("orders", "Order"), ("receipts", "Receipt")],
                ["tx_id", "outcome", "order_id", "pay_ts", "pay_channel", "receipt_ts",
                 "emitted_at"], query, flags=flags)
