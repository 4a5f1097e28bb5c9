"""The second file drop: what changed in the week between drop 1's extract and ``as_of``.

``drop2/customers.csv`` changes schema (``phone`` renamed ``phone_number``, ``loyalty_tier``
added, ``credit_limit`` now with cents) and holds updated existing customers, then new ones.
``drop2/orders.csv.gz`` keeps drop 1's schema and holds late-arriving updates to old orders
(refunds of deliveries 30+ days old), then the week's new orders. Drop 2 carries no defects:
every row that an update touches was clean in drop 1, so each change is unambiguous.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from sluiceway.demo import layout, vocab
from sluiceway.demo.arrow_columns import cents_to_decimal, pick
from sluiceway.demo.context import Context
from sluiceway.demo.customers import (
    CUSTOMER_SCHEMA,
    People,
    customer_columns,
    home_in_state,
    people,
    signup_window,
)
from sluiceway.demo.draws import BoolArray, I64Array
from sluiceway.demo.orders import (
    DELIVERED,
    ORDER_SCHEMA,
    REFUNDED,
    OrderCore,
    drop1_window,
    order_columns,
    order_core,
    order_lines,
    order_totals,
)
from sluiceway.demo.plan import Picks, entity_rng
from sluiceway.demo.products import Catalog
from sluiceway.demo.sinks import CsvSink
from sluiceway.demo.timeline import DAY, Window


def _drop2_customer_schema() -> pa.Schema:
    """Drop 1's schema with ``phone`` renamed, ``credit_limit`` widened, ``loyalty_tier`` added."""
    fields: list[pa.Field] = []
    for field in CUSTOMER_SCHEMA:
        if field.name == "phone":
            fields.append(pa.field("phone_number", field.type))
        elif field.name == "credit_limit":
            fields.append(pa.field("credit_limit", pa.decimal128(12, 2)))
        else:
            fields.append(field)
    fields.append(pa.field("loyalty_tier", pa.string()))
    return pa.schema(fields)


DROP2_CUSTOMER_SCHEMA = _drop2_customer_schema()

_TIER_WEIGHTS = (55, 28, 13, 4)
EMAIL, MOVED, ACTIVE, CREDIT, LAST_NAME, PHONE = range(6)
REFUND_MAX_DAYS = 180


def _sample_ids(
    ctx: Context,
    entity: str,
    id_range: tuple[int, int],
    wanted: int,
    eligible: Callable[[I64Array], BoolArray],
) -> I64Array:
    """Up to ``wanted`` distinct ids in ``id_range`` (inclusive) passing ``eligible``, sorted.

    Rejection sampling from a seeded generator: rows are rebuilt on demand to test them, so
    nothing proportional to the population is held. Gives up after a bounded number of rounds
    (tiny scales may have fewer eligible rows than wanted); the manifest records what was found.
    """
    rng = entity_rng(ctx.seed, entity)
    found = np.empty(0, dtype=np.int64)
    for _ in range(64):
        if found.size >= wanted:
            break
        low, high = id_range
        size = min(max(2 * (wanted - found.size), 64), 4 * (high - low + 1) + 64)
        candidates = rng.integers(low, high + 1, size=size, dtype=np.int64)
        candidates = candidates[eligible(candidates)]
        merged = np.concatenate([found, candidates])
        _, first = np.unique(merged, return_index=True)
        found = merged[np.sort(first)]
    return np.sort(found[:wanted])


def _drop2_customer_table(ctx: Context, p: People, credit_cents: I64Array) -> pa.Table:
    cols = customer_columns(p)
    cols["phone_number"] = cols.pop("phone")
    cols["credit_limit"] = cents_to_decimal(credit_cents, 12)
    tiers = ctx.draws.weighted("customer.loyalty_tier", p.ids, _TIER_WEIGHTS)
    cols["loyalty_tier"] = pick(layout.LOYALTY_TIERS, tiers)
    return pa.table(
        {name: cols[name] for name in DROP2_CUSTOMER_SCHEMA.names}, schema=DROP2_CUSTOMER_SCHEMA
    )


def _updated_people(ctx: Context, ids: I64Array) -> tuple[People, I64Array]:
    """Drop-1 customers ``ids`` after one change each, and their credit limits in cents."""
    draws, timeline = ctx.draws, ctx.timeline
    before = people(draws, timeline, ids, signup_window(timeline, ctx.sizes.customers))
    change = draws.below("drop2.change", ids, 6)
    pick_other = draws.uniform("drop2.other", ids)

    def other(current: I64Array, options: int) -> I64Array:
        # Any value but the current one, so the change is real.
        shift = 1 + (pick_other * (options - 1)).astype(np.int64)
        return np.asarray((current + shift) % options, dtype=np.int64)

    domain = np.where(
        change == EMAIL, other(before.domain, len(vocab.EMAIL_DOMAINS)), before.domain
    )
    state = np.where(change == MOVED, other(before.state, len(vocab.STATES)), before.state)
    new_city, new_zip = home_in_state(draws, "drop2", ids, state)
    city = np.where(change == MOVED, new_city, before.city)
    credit = before.credit_limit * 100
    raised = (credit * (1.1 + 0.5 * draws.uniform("drop2.credit", ids))).astype(np.int64)
    raised = np.where(raised % 100 == 0, raised + 25, raised)  # a cents part, so the type widens
    updated_s = timeline.drop1_cutoff_s + draws.below(
        "drop2.updated", ids, timeline.as_of_s - timeline.drop1_cutoff_s
    )
    after = dataclasses.replace(
        before,
        domain=domain,
        state=state,
        city=city,
        zip=np.where(change == MOVED, new_zip, before.zip),
        is_active=np.where(change == ACTIVE, ~before.is_active, before.is_active),
        last=np.where(change == LAST_NAME, other(before.last, len(vocab.LAST_NAMES)), before.last),
        exchange=np.where(
            change == PHONE,
            201 + (before.exchange - 201 + 1 + draws.below("drop2.exchange", ids, 797)) % 799,
            before.exchange,
        ),
        updated_s=np.maximum(updated_s, before.updated_s + 1),
    )
    return after, np.where(change == CREDIT, raised, credit)


def write_drop2_customers(ctx: Context, customer_picks: Picks, near_duplicates: int) -> None:
    """Write ``drop2/customers.csv``: updates to clean drop-1 customers, then new customers."""
    sizes, timeline = ctx.sizes, ctx.timeline

    def clean(ids: I64Array) -> BoolArray:
        return ~customer_picks.damaged(ids - 1)

    updated = _sample_ids(
        ctx, "drop2.customers", (1, sizes.customers), sizes.drop2_customer_updates, clean
    )
    first_new = sizes.customers + near_duplicates + 1
    new_ids = np.arange(first_new, first_new + sizes.drop2_new_customers, dtype=np.int64)
    window = Window(timeline.drop1_cutoff_s, timeline.as_of_s, first_new, len(new_ids))
    total = len(updated) + len(new_ids)
    with CsvSink(ctx.out_dir, layout.DROP2_CUSTOMERS, DROP2_CUSTOMER_SCHEMA) as sink:
        ctx.report("drop2/customers", 0, total)
        for lo, hi in ctx.spans(len(updated)):
            after, credit = _updated_people(ctx, updated[lo:hi])
            sink.write(_drop2_customer_table(ctx, after, credit))
            ctx.report("drop2/customers", hi, total)
        for lo, hi in ctx.spans(len(new_ids)):
            ids = new_ids[lo:hi]
            fresh = people(ctx.draws, timeline, ids, window)
            # Credit is now scored to the cent: the reason the column widens to DOUBLE.
            cents = fresh.credit_limit * (
                90 + ctx.draws.below("drop2.new_credit", ids, 30)
            ) + ctx.draws.between("drop2.new_cents", ids, 1, 99)
            sink.write(_drop2_customer_table(ctx, fresh, cents))
            ctx.report("drop2/customers", len(updated) + hi, total)
        ctx.ledger.add_file(sink.close())
    ctx.ledger.add_keys("drop2.customers.updates", updated)
    ctx.ledger.add_keys("drop2.customers.new", new_ids)


def write_drop2_orders(ctx: Context, catalog: Catalog, order_picks: Picks) -> None:
    """Write ``drop2/orders.csv.gz``: late refunds of old deliveries, then the week's orders."""
    sizes, timeline, draws = ctx.sizes, ctx.timeline, ctx.draws
    old_window = drop1_window(timeline, sizes.orders)

    def drop1_core(ids: I64Array) -> OrderCore:
        return order_core(
            draws,
            timeline,
            sizes.customers,
            ids,
            window=old_window,
            extract_s=timeline.drop1_cutoff_s,
        )

    def refundable(ids: I64Array) -> BoolArray:
        core = drop1_core(ids)
        old = core.ts < timeline.late_update_before_s  # the range above is approximate
        return np.asarray(old & (core.status == DELIVERED) & ~order_picks.damaged(ids - 1))

    # Refunds land one to six months after the order: search the ids placed in that span.
    low, high = old_window.arrived_by(
        np.array([timeline.as_of_s - REFUND_MAX_DAYS * DAY, timeline.late_update_before_s])
    )
    id_range = (
        (int(low), int(high)) if high - low >= 4 * sizes.drop2_late_updates else (1, sizes.orders)
    )
    late = _sample_ids(ctx, "drop2.orders", id_range, sizes.drop2_late_updates, refundable)
    first_new = sizes.orders + 1
    new_ids = np.arange(first_new, first_new + sizes.drop2_new_orders, dtype=np.int64)
    new_window = Window(timeline.drop1_cutoff_s, timeline.as_of_s, first_new, len(new_ids))
    total = len(late) + len(new_ids)
    with CsvSink(ctx.out_dir, layout.DROP2_ORDERS, ORDER_SCHEMA) as sink:
        ctx.report("drop2/orders", 0, total)
        for lo, hi in ctx.spans(len(late)):
            ids = late[lo:hi]
            core = drop1_core(ids)
            updated_s = timeline.drop1_cutoff_s + draws.below(
                "drop2.refund", ids, timeline.as_of_s - timeline.drop1_cutoff_s
            )
            refunded = dataclasses.replace(
                core, status=np.full(len(ids), REFUNDED), updated_s=updated_s
            )
            totals = order_totals(order_lines(draws, catalog, ids), len(ids))
            sink.write(pa.table(order_columns(refunded, totals), schema=ORDER_SCHEMA))
            ctx.report("drop2/orders", hi, total)
        for lo, hi in ctx.spans(len(new_ids)):
            ids = new_ids[lo:hi]
            core = order_core(
                draws, timeline, sizes.customers, ids, window=new_window, extract_s=timeline.as_of_s
            )
            totals = order_totals(order_lines(draws, catalog, ids), len(ids))
            sink.write(pa.table(order_columns(core, totals), schema=ORDER_SCHEMA))
            ctx.report("drop2/orders", len(late) + hi, total)
        ctx.ledger.add_file(sink.close())
    ctx.ledger.add_keys("drop2.orders.late_updates", late)
    ctx.ledger.add_keys("drop2.orders.new", new_ids)
