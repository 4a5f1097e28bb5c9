"""Orders and their lines, as pure functions of the order id.

An order's customer, time, status, lines and total can be rebuilt from its id alone, which is
how drop 2 restates an old order and how the pre-pass counts lines and payments without keeping
anything. Totals are computed in integers: a line is worth
``quantity * price_cents * (100 - discount_pct) / 100`` cents, exactly, and the order total is
that sum rounded half-up to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sluiceway.demo import layout
from sluiceway.demo.arrow_columns import cents_to_decimal, pick, timestamps
from sluiceway.demo.customers import customer_states, signup_window
from sluiceway.demo.draws import Draws, I64Array
from sluiceway.demo.products import Catalog
from sluiceway.demo.timeline import DAY, Timeline, Window
from sluiceway.demo.vocab import STATE_CODES, STATES

ORDER_SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("order_ts", pa.timestamp("s")),
        ("status", pa.string()),
        ("channel", pa.string()),
        ("currency", pa.string()),
        ("shipping_state", pa.string()),
        ("total_amount", pa.decimal128(12, 2)),
        ("updated_at", pa.timestamp("s")),
    ]
)

# unit_price is decimal128(10, 2): exact cents, read back as DECIMAL(10,2) by DuckDB and
# pandas alike, so sums over lines never pick up binary floating-point noise.
ORDER_ITEM_SCHEMA = pa.schema(
    [
        ("order_item_id", pa.int64()),
        ("order_id", pa.int64()),
        ("product_id", pa.int64()),
        ("quantity", pa.int32()),
        ("unit_price", pa.decimal128(10, 2)),
        ("discount", pa.float64()),
    ]
)

PENDING, PAID, SHIPPED, DELIVERED, CANCELLED, REFUNDED = range(6)
# Status odds by age in days at extraction: young orders are still moving, old ones settled.
_STATUS_BY_AGE: tuple[tuple[float, tuple[float, ...]], ...] = (
    (1.0, (35, 55, 0, 0, 10, 0)),
    (3.0, (5, 35, 52, 0, 8, 0)),
    (10.0, (0, 3, 35, 52, 6, 4)),
    (float("inf"), (0, 0, 0, 86, 7, 7)),
)
# Seconds from order to its last update, per status (min, max).
_UPDATE_LAG = (
    (0, 0),
    (60, 3_600),
    (DAY, 3 * DAY),
    (3 * DAY, 10 * DAY),
    (3_600, 2 * DAY),
    (10 * DAY, 40 * DAY),
)
_CHANNEL_WEIGHTS = (48, 32, 8, 12)
_STATE_WEIGHTS = [s.weight for s in STATES]
# 1 + Poisson(1.5) lines per order, truncated at 12: 2.5 lines on average.
_LINE_COUNT_WEIGHTS = (0.2231, 0.3347, 0.2510, 0.1255, 0.0471, 0.0141, 0.0035, 0.0008, 0.0002)
_QUANTITY_WEIGHTS = (70, 18, 7, 3, 2)
_DISCOUNTS = (0, 5, 10, 15, 20, 25, 30)
_DISCOUNT_WEIGHTS = (70, 8, 10, 5, 4, 2, 1)
MAX_LINES = 64  # line keys are order_id * MAX_LINES + line


@dataclass(frozen=True)
class OrderCore:
    """The order-level facts of a batch of orders (numpy arrays, one entry per id)."""

    ids: I64Array
    customer_id: I64Array
    ts: I64Array
    status: I64Array
    channel: I64Array
    state: I64Array
    updated_s: I64Array


def drop1_window(timeline: Timeline, orders: int) -> Window:
    return Window(timeline.orders_start_s, timeline.drop1_cutoff_s, 1, orders)


def statuses(draws: Draws, ids: I64Array, age_days: np.ndarray) -> I64Array:
    out = np.empty(len(ids), dtype=np.int64)
    lower = -np.inf
    for upper, weights in _STATUS_BY_AGE:
        band = (age_days >= lower) & (age_days < upper)
        out[band] = draws.weighted("order.status", ids[band], weights)
        lower = upper
    return out


def update_times(
    draws: Draws, ids: I64Array, ts: I64Array, status: I64Array, extract_s: int
) -> I64Array:
    """When each order was last touched, given its status, before the extract."""
    low = np.array([lag[0] for lag in _UPDATE_LAG])[status]
    high = np.array([lag[1] for lag in _UPDATE_LAG])[status]
    lag = low + (draws.uniform("order.update_lag", ids) * (high - low)).astype(np.int64)
    return np.asarray(np.maximum(np.minimum(ts + lag, extract_s - 1), ts), dtype=np.int64)


def order_core(
    draws: Draws,
    timeline: Timeline,
    customers: int,
    ids: I64Array,
    *,
    window: Window,
    extract_s: int,
) -> OrderCore:
    """Clean order facts for ``ids`` arriving in ``window`` and extracted at ``extract_s``."""
    ts = window.times(draws, "order.ts", ids)
    existing = signup_window(timeline, customers).arrived_by(ts)
    customer_id = 1 + draws.below("order.customer", ids, existing)
    status = statuses(draws, ids, (extract_s - ts) / DAY)
    home = customer_states(draws, customer_id)
    elsewhere = draws.weighted("order.ship_state", ids, _STATE_WEIGHTS)
    ships_home = draws.chance("order.ships_home", ids, 0.88)
    return OrderCore(
        ids=ids,
        customer_id=customer_id,
        ts=ts,
        status=status,
        channel=draws.weighted("order.channel", ids, _CHANNEL_WEIGHTS),
        state=np.where(ships_home, home, elsewhere),
        updated_s=update_times(draws, ids, ts, status, extract_s),
    )


@dataclass(frozen=True)
class Lines:
    """Order lines of a batch of orders, grouped by order in order-id order."""

    order_row: I64Array  # index of the line's order within the batch
    order_id: I64Array
    product_id: I64Array
    quantity: I64Array
    discount_pct: I64Array
    price_cents: I64Array


def line_counts(draws: Draws, ids: I64Array) -> I64Array:
    return 1 + draws.weighted("order.lines", ids, _LINE_COUNT_WEIGHTS)


def order_lines(draws: Draws, catalog: Catalog, ids: I64Array) -> Lines:
    counts = line_counts(draws, ids)
    order_row = np.repeat(np.arange(len(ids), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    line_no = np.arange(len(order_row), dtype=np.int64) - starts[order_row]
    keys = ids[order_row] * MAX_LINES + line_no
    product_id = catalog.popular_products(draws, "line.product", keys)
    return Lines(
        order_row=order_row,
        order_id=ids[order_row],
        product_id=product_id,
        quantity=1 + draws.weighted("line.quantity", keys, _QUANTITY_WEIGHTS),
        discount_pct=np.array(_DISCOUNTS)[draws.weighted("line.discount", keys, _DISCOUNT_WEIGHTS)],
        price_cents=catalog.prices(product_id),
    )


def order_totals(lines: Lines, orders: int) -> I64Array:
    """Total per order in cents: exact line values summed, rounded half-up once."""
    hundredths = lines.quantity * lines.price_cents * (100 - lines.discount_pct)
    sums = np.zeros(orders, dtype=np.int64)
    if len(hundredths):
        # Lines are grouped by order and every order has one, so group starts are contiguous.
        starts = np.flatnonzero(np.r_[True, lines.order_row[1:] != lines.order_row[:-1]])
        sums[lines.order_row[starts]] = np.add.reduceat(hundredths, starts)
    return (sums + 50) // 100


def order_columns(core: OrderCore, totals: I64Array) -> dict[str, pa.Array]:
    """Clean order columns, in file order."""
    return {
        "order_id": pa.array(core.ids),
        "customer_id": pa.array(core.customer_id),
        "order_ts": timestamps(core.ts),
        "status": pick(layout.ORDER_STATUSES, core.status),
        "channel": pick(layout.CHANNELS, core.channel),
        "currency": pa.array(["USD"] * len(core.ids), pa.string()),
        "shipping_state": pick(STATE_CODES, core.state),
        "total_amount": cents_to_decimal(totals, 12),
        "updated_at": timestamps(core.updated_s),
    }
