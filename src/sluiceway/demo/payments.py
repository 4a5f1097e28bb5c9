"""Payments of a batch of orders, as a pure function of the orders.

Pending orders are unpaid; a cancelled order may show one failed attempt; paid, shipped and
delivered orders have a captured payment, sometimes after a failed attempt; a refunded order has
one refunded payment. Every payment's amount is its order's total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sluiceway.demo import layout
from sluiceway.demo.arrow_columns import cents_to_decimal, pick, timestamps
from sluiceway.demo.draws import Draws, I64Array
from sluiceway.demo.ndjson import (
    json_number,
    json_object,
    json_string,
    json_timestamp,
    member,
    ndjson_bytes,
)
from sluiceway.demo.orders import CANCELLED, DELIVERED, PAID, REFUNDED, SHIPPED, OrderCore

PAYMENT_SCHEMA = pa.schema(
    [
        ("payment_id", pa.int64()),
        ("order_id", pa.int64()),
        ("method", pa.string()),
        ("amount", pa.decimal128(12, 2)),
        ("currency", pa.string()),
        ("paid_at", pa.timestamp("s")),
        ("status", pa.string()),
    ]
)

CAPTURED, FAILED, REFUND = range(3)
_METHOD_WEIGHTS = (70, 18, 7, 5)


def payment_counts(draws: Draws, core: OrderCore) -> tuple[I64Array, I64Array]:
    """Payment rows per order, and how many of them are captured (0 or 1)."""
    settled = np.isin(core.status, (PAID, SHIPPED, DELIVERED))
    retried = draws.chance("payment.retry", core.ids, 0.06)
    failed_cancel = draws.chance("payment.cancel_attempt", core.ids, 0.5)
    rows = np.zeros(len(core.ids), dtype=np.int64)
    rows[settled] = 1 + retried[settled]
    rows[core.status == REFUNDED] = 1
    rows[core.status == CANCELLED] = failed_cancel[core.status == CANCELLED]
    return rows, settled.astype(np.int64)


@dataclass(frozen=True)
class PaymentRows:
    """Payment rows of a batch of orders, in order-id order, attempts in time order."""

    order_row: I64Array
    order_id: I64Array
    status: I64Array
    method: I64Array
    amount_cents: I64Array
    paid_s: I64Array

    @property
    def captured(self) -> np.ndarray:
        return np.asarray(self.status == CAPTURED)


def payment_rows(draws: Draws, core: OrderCore, totals: I64Array, extract_s: int) -> PaymentRows:
    """Payment rows of the orders in ``core``; nothing is timed at or after ``extract_s``."""
    counts, _ = payment_counts(draws, core)
    order_row = np.repeat(np.arange(len(core.ids), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    attempt = np.arange(len(order_row), dtype=np.int64) - starts[order_row]
    order_status = core.status[order_row]
    is_last = attempt == counts[order_row] - 1
    status = np.full(len(order_row), FAILED, dtype=np.int64)
    settled = np.isin(order_status, (PAID, SHIPPED, DELIVERED))
    status[settled & is_last] = CAPTURED
    status[order_status == REFUNDED] = REFUND
    keys = core.ids[order_row] * 4 + attempt
    first_try = draws.between("payment.delay", keys, 5, 600)
    retry_gap = np.where(attempt > 0, draws.between("payment.retry_gap", keys, 60, 1800), 0)
    return PaymentRows(
        order_row=order_row,
        order_id=core.ids[order_row],
        status=status,
        method=draws.weighted("payment.method", keys, _METHOD_WEIGHTS),
        amount_cents=totals[order_row],
        paid_s=np.minimum(core.ts[order_row] + first_try + retry_gap, extract_s - 1),
    )


def mismatched_amounts(draws: Draws, order_ids: I64Array, cents: I64Array) -> I64Array:
    """Amounts that differ from the order total the way real mismatches do."""
    style = draws.below("defect.amount_style", order_ids, 5)
    wrong = np.select(
        [style == 0, style == 1, style == 2, style == 3],
        [cents - 1, cents + 1, (cents * 9) // 10, cents + 500],
        default=cents * 2,
    )
    return np.where((wrong == cents) | (wrong <= 0), cents + 1, wrong)


def payment_columns(
    rows: PaymentRows, payment_ids: I64Array, amounts: I64Array
) -> dict[str, pa.Array]:
    """Payment columns, in file order."""
    return {
        "payment_id": pa.array(payment_ids),
        "order_id": pa.array(rows.order_id),
        "method": pick(layout.PAYMENT_METHODS, rows.method),
        "amount": cents_to_decimal(amounts, 12),
        "currency": pa.array(["USD"] * len(payment_ids), pa.string()),
        "paid_at": timestamps(rows.paid_s),
        "status": pick(layout.PAYMENT_STATUSES, rows.status),
    }


def encode_payments(table: pa.Table) -> bytes:
    """Payment rows as NDJSON; timestamps as ISO 8601 with a Z, as payment APIs send them."""
    return ndjson_bytes(
        json_object(
            [
                member("payment_id", json_number(table["payment_id"])),
                member("order_id", json_number(table["order_id"])),
                member("method", json_string(table["method"])),
                member("amount", json_number(table["amount"])),
                member("currency", json_string(table["currency"])),
                member("paid_at", json_timestamp(table["paid_at"])),
                member("status", json_string(table["status"])),
            ]
        )
    )
