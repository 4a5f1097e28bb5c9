"""Drop-1 sales: ``orders.csv.gz``, ``order_items.parquet`` and ``payments.ndjson``, together.

The three files are written in one pass over chunks of orders, because an order's lines decide
its total and its total decides its payments. A cheap pre-pass first counts lines and payments
per chunk, so ids run on across chunks and each file's defects can be drawn over its true row
count before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sluiceway.demo import layout
from sluiceway.demo.arrow_columns import cents_to_decimal, repeat_rows, replace_rows
from sluiceway.demo.context import Context
from sluiceway.demo.defects import ORDER_ITEM_DEFECTS, PAYMENT_DEFECTS, state_variants
from sluiceway.demo.draws import I64Array
from sluiceway.demo.orders import (
    ORDER_ITEM_SCHEMA,
    ORDER_SCHEMA,
    OrderCore,
    drop1_window,
    line_counts,
    order_columns,
    order_core,
    order_lines,
    order_totals,
)
from sluiceway.demo.payments import (
    PAYMENT_SCHEMA,
    encode_payments,
    mismatched_amounts,
    payment_columns,
    payment_counts,
    payment_rows,
)
from sluiceway.demo.plan import Picks
from sluiceway.demo.products import Catalog
from sluiceway.demo.sinks import CsvSink, NdjsonSink, ParquetSink


@dataclass(frozen=True)
class SalesPlan:
    """Row offsets per order chunk, from the pre-pass."""

    spans: list[tuple[int, int]]
    line_offsets: list[int]
    payment_offsets: list[int]
    captured_offsets: list[int]
    lines: int
    payments: int
    captured: int


def _core(ctx: Context, ids: I64Array) -> OrderCore:
    window = drop1_window(ctx.timeline, ctx.sizes.orders)
    return order_core(
        ctx.draws,
        ctx.timeline,
        ctx.sizes.customers,
        ids,
        window=window,
        extract_s=ctx.timeline.drop1_cutoff_s,
    )


def plan_sales(ctx: Context) -> SalesPlan:
    """Count lines, payments and captured payments per chunk without building any row."""
    spans = ctx.spans(ctx.sizes.orders)
    lines, payments, captured = [0], [0], [0]
    for lo, hi in spans:
        ids = np.arange(lo + 1, hi + 1, dtype=np.int64)
        rows, captures = payment_counts(ctx.draws, _core(ctx, ids))
        lines.append(lines[-1] + int(line_counts(ctx.draws, ids).sum()))
        payments.append(payments[-1] + int(rows.sum()))
        captured.append(captured[-1] + int(captures.sum()))
    return SalesPlan(spans, lines, payments, captured, lines[-1], payments[-1], captured[-1])


def _damage_orders(
    ctx: Context,
    picks: Picks,
    core: OrderCore,
    cols: dict[str, pa.Array],
    *,
    span: tuple[int, int],
    first_orphan: int,
) -> I64Array:
    """Apply order defects in rows ``span``; return the offsets of rows to write twice."""
    draws, ledger, ids = ctx.draws, ctx.ledger, core.ids
    lo, hi = span

    def rows(defect: str) -> I64Array:
        offsets = picks.offsets(lo, hi, defect)
        ledger.add_keys(defect, ids[offsets])
        return offsets

    at = rows("orders.orphan_customer")
    orphans = first_orphan + draws.below(
        "defect.orphan_customer", ids[at], max(ctx.sizes.customers, 100)
    )
    cols["customer_id"] = replace_rows(cols["customer_id"], at, pa.array(orphans))
    at = rows("orders.null_customer_id")
    cols["customer_id"] = replace_rows(cols["customer_id"], at, [None] * len(at))
    at = rows("orders.noncanonical_state")
    variants = state_variants(draws, "defect.order_state", ids[at], core.state[at])
    ledger.add_variants("orders.noncanonical_state", variants)
    cols["shipping_state"] = replace_rows(cols["shipping_state"], at, variants)
    return rows("orders.exact_duplicate_rows")


class _SalesChunk:
    """Builds the three tables of one chunk of orders."""

    def __init__(self, ctx: Context, catalog: Catalog, plan: SalesPlan, index: int) -> None:
        self.ctx, self.catalog, self.plan, self.index = ctx, catalog, plan, index
        lo, hi = plan.spans[index]
        self.ids = np.arange(lo + 1, hi + 1, dtype=np.int64)
        self.core = _core(ctx, self.ids)
        self.lines = order_lines(ctx.draws, catalog, self.ids)
        self.totals = order_totals(self.lines, len(self.ids))

    def items(self, picks: Picks) -> pa.Table:
        ctx, lines = self.ctx, self.lines
        lo = self.plan.line_offsets[self.index]
        hi = lo + len(lines.order_id)
        item_ids = np.arange(lo + 1, hi + 1, dtype=np.int64)
        quantity = lines.quantity.copy()
        product_id = lines.product_id.copy()
        negative = picks.offsets(lo, hi, "order_items.negative_quantity")
        quantity[negative] = -quantity[negative]
        orphan = picks.offsets(lo, hi, "order_items.orphan_product")
        spread = max(self.catalog.size, 100)
        product_id[orphan] = (
            self.catalog.size
            + 1
            + ctx.draws.below("defect.orphan_product", item_ids[orphan], spread)
        )
        ctx.ledger.add_keys("order_items.negative_quantity", item_ids[negative])
        ctx.ledger.add_keys("order_items.orphan_product", item_ids[orphan])
        return pa.table(
            {
                "order_item_id": pa.array(item_ids),
                "order_id": pa.array(lines.order_id),
                "product_id": pa.array(product_id),
                "quantity": pa.array(quantity.astype(np.int32)),
                "unit_price": cents_to_decimal(lines.price_cents, 10),
                "discount": pa.array(lines.discount_pct / 100.0),
            },
            schema=ORDER_ITEM_SCHEMA,
        )

    def payments(self, picks: Picks) -> pa.Table:
        ctx, plan, index = self.ctx, self.plan, self.index
        rows = payment_rows(ctx.draws, self.core, self.totals, ctx.timeline.drop1_cutoff_s)
        first_id = plan.payment_offsets[index] + 1
        payment_ids = np.arange(first_id, first_id + len(rows.order_id), dtype=np.int64)
        captured_rows = np.flatnonzero(rows.captured)
        cap_lo = plan.captured_offsets[index]
        cap_hi = cap_lo + len(captured_rows)

        amounts = rows.amount_cents.copy()
        wrong = captured_rows[picks.offsets(cap_lo, cap_hi, "payments.amount_mismatch")]
        amounts[wrong] = mismatched_amounts(ctx.draws, rows.order_id[wrong], amounts[wrong])
        ctx.ledger.add_keys("payments.amount_mismatch", rows.order_id[wrong])

        twice_offsets = picks.offsets(cap_lo, cap_hi, "payments.duplicate_payment")
        twice = captured_rows[twice_offsets]
        all_twice = picks.ordinals_of("payments.duplicate_payment")
        rank = np.searchsorted(all_twice, cap_lo + twice_offsets)
        copy_ids = plan.payments + 1 + rank
        ctx.ledger.add_pairs("payments.duplicate_payment", payment_ids[twice], copy_ids)

        table = pa.table(payment_columns(rows, payment_ids, amounts), schema=PAYMENT_SCHEMA)
        if twice.size == 0:
            return table
        repeats = np.ones(len(payment_ids), dtype=np.int64)
        repeats[twice] = 2
        order = np.repeat(np.arange(len(payment_ids)), repeats)
        out_ids = payment_ids[order]
        second = np.flatnonzero(np.r_[False, order[1:] == order[:-1]])
        out_ids[second] = copy_ids
        table = table.take(pa.array(order))
        return table.set_column(0, "payment_id", pa.array(out_ids))


def write_sales(
    ctx: Context, catalog: Catalog, order_picks: Picks, first_orphan_customer: int
) -> SalesPlan:
    """Write drop-1 orders, order items and payments; return the pre-pass counts."""
    plan = plan_sales(ctx)
    item_picks = Picks.draw(ctx.seed, "order_items", ORDER_ITEM_DEFECTS, plan.lines)
    payment_picks = Picks.draw(ctx.seed, "payments", PAYMENT_DEFECTS, plan.captured)
    orders_total = ctx.sizes.orders
    with (
        CsvSink(ctx.out_dir, layout.ORDERS, ORDER_SCHEMA) as orders,
        ParquetSink(ctx.out_dir, layout.ORDER_ITEMS, ORDER_ITEM_SCHEMA) as items,
        NdjsonSink(ctx.out_dir, layout.PAYMENTS) as payments,
    ):
        for entity, total in (
            ("orders", orders_total),
            ("order_items", plan.lines),
            ("payments", plan.payments),
        ):
            ctx.report(entity, 0, total)
        for index, (lo, hi) in enumerate(plan.spans):
            chunk = _SalesChunk(ctx, catalog, plan, index)
            cols = order_columns(chunk.core, chunk.totals)
            twice = _damage_orders(
                ctx,
                order_picks,
                chunk.core,
                cols,
                span=(lo, hi),
                first_orphan=first_orphan_customer,
            )
            orders.write(repeat_rows(pa.table(cols, schema=ORDER_SCHEMA), twice))
            items.write(chunk.items(item_picks))
            payment_table = chunk.payments(payment_picks)
            payments.write(encode_payments(payment_table), payment_table.num_rows)
            ctx.report("orders", hi, orders_total)
            ctx.report("order_items", plan.line_offsets[index + 1], plan.lines)
            ctx.report("payments", plan.payment_offsets[index + 1], plan.payments)
        for sink in (orders, items, payments):
            ctx.ledger.add_file(sink.close())
    return plan
