"""Clickstream: ``web_events/part-NNNNN.ndjson.zst``, one zstd-compressed NDJSON part per chunk.

Events come in sessions: a landing page view, some browsing, searching and cart additions, and
for about a third of signed-in sessions a checkout and a purchase at the end. Anonymous
visitors have a null customer_id. ``properties`` is a nested object whose members vary by event
type (``query`` only on searches, ``product_id`` only on product pages and cart additions).

Sessions are cut from a sequential generator seeded per part, so a part's content depends on
(seed, part index, chunk size); the other files do not depend on the chunk size at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluiceway.demo import layout, vocab
from sluiceway.demo.arrow_columns import fixed_width_text, ints_as_text, join, pick, timestamps_ms
from sluiceway.demo.context import Context
from sluiceway.demo.customers import signup_window
from sluiceway.demo.draws import hex_digits, uuid_like
from sluiceway.demo.ndjson import (
    json_number,
    json_object,
    json_string,
    json_timestamp,
    member,
    ndjson_bytes,
)
from sluiceway.demo.plan import entity_rng
from sluiceway.demo.products import Catalog
from sluiceway.demo.sinks import write_zstd_part
from sluiceway.demo.timeline import Window

PAGE_VIEW, SEARCH, ADD_TO_CART, CHECKOUT, PURCHASE = range(5)
ENCODE_ROWS = 8192
_UA_WEIGHTS = [ua.weight for ua in vocab.USER_AGENTS]
_REFERRERS = [ref for ref, _ in vocab.REFERRERS]
_REFERRER_WEIGHTS = [w for _, w in vocab.REFERRERS]
_SEARCH_QUERIES = [term.replace(" ", "+") for term in vocab.SEARCH_TERMS]
_CATEGORY_SLUGS = [c.name.lower().replace(" & ", "-").replace(" ", "-") for c in vocab.CATEGORIES]


def _session_layout(
    rng: np.random.Generator, events: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Session index, position in session and session length of each of ``events`` events."""
    lengths = rng.geometric(0.3, size=events // 2 + 8)
    while lengths.sum() < events:
        lengths = np.concatenate([lengths, rng.geometric(0.3, size=events // 2 + 8)])
    ends = np.cumsum(lengths)
    sessions = int(np.searchsorted(ends, events)) + 1
    lengths = lengths[:sessions].copy()
    lengths[-1] -= int(ends[sessions - 1]) - events
    session = np.repeat(np.arange(sessions), lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(events) - starts[session]
    return session, position, lengths[session]


def _event_table(ctx: Context, catalog: Catalog, part: int, lo: int, hi: int) -> pa.Table:
    """Events ``lo..hi`` (global indexes), forming part ``part``."""
    rng = entity_rng(ctx.seed, f"web_events.part.{part}")
    count = hi - lo
    session, position, length = _session_layout(rng, count)
    sessions = int(session[-1]) + 1
    timeline = ctx.timeline
    window = Window(timeline.orders_start_s, timeline.as_of_s, 0, ctx.sizes.web_events)

    # Per session: who, from where, on what.
    first_event = lo + np.flatnonzero(position == 0)
    start_s = window.times(ctx.draws, "event.session_start", first_event)
    signed_in = rng.random(sessions) < 0.55
    known = signup_window(timeline, ctx.sizes.customers).arrived_by(start_s)
    customer = 1 + (rng.random(sessions) * known).astype(np.int64)
    converts = signed_in & (rng.random(sessions) < 0.35)
    agent = rng.choice(
        len(vocab.USER_AGENTS), size=sessions, p=np.array(_UA_WEIGHTS) / sum(_UA_WEIGHTS)
    )
    referrer = rng.choice(
        len(_REFERRERS), size=sessions, p=np.array(_REFERRER_WEIGHTS) / sum(_REFERRER_WEIGHTS)
    )
    session_bits = ctx.draws.bits("event.session_id", np.int64(part) << 32 | np.arange(sessions))

    # Per event: what happened and when.
    kind = rng.choice(3, size=count, p=[0.5, 0.25, 0.25])
    kind[position == 0] = PAGE_VIEW
    converting = converts[session] & (length >= 3)
    kind[converting & (position == length - 2)] = CHECKOUT
    kind[converting & (position == length - 1)] = PURCHASE
    gaps_ms = rng.integers(2_000, 180_000, size=count)
    gaps_ms[position == 0] = 0
    offset_ms = np.cumsum(gaps_ms) - np.cumsum(gaps_ms)[np.flatnonzero(position == 0)][session]
    ts_ms = np.minimum(
        start_s[session] * 1000 + rng.integers(0, 1000, size=sessions)[session] + offset_ms,
        timeline.as_of_s * 1000 - 1,
    )
    product = catalog.popular_products(ctx.draws, "event.product", lo + np.arange(count))
    landing_home = (position == 0) & (rng.random(count) < 0.4)
    category_page = (kind == PAGE_VIEW) & ~landing_home & (rng.random(count) < 0.2)
    query = rng.integers(0, len(_SEARCH_QUERIES), size=count)
    category = rng.integers(0, len(_CATEGORY_SLUGS), size=count)

    product_text = ints_as_text(product)
    product_page = join("/products/", product_text)
    url = pc.choose(
        pa.array(kind.astype(np.int8)),
        pc.if_else(
            pa.array(landing_home),
            "/",
            pc.if_else(
                pa.array(category_page),
                join("/category/", pick(_CATEGORY_SLUGS, category)),
                product_page,
            ),
        ),
        join("/search?q=", pick(_SEARCH_QUERIES, query)),
        join("/cart/add?product_id=", product_text),
        pa.array(["/checkout"] * count),
        pa.array(["/checkout/confirmation"] * count),
    )
    about_product = ((kind == PAGE_VIEW) & ~landing_home & ~category_page) | (kind == ADD_TO_CART)

    high = ctx.draws.bits("event.id.high", lo + np.arange(count))
    low = ctx.draws.bits("event.id.low", lo + np.arange(count))
    session_ids = join("s_", fixed_width_text(hex_digits(session_bits)))
    agents = vocab.USER_AGENTS
    return pa.table(
        {
            "event_id": fixed_width_text(uuid_like(high, low)),
            "session_id": session_ids.take(pa.array(session)),
            "customer_id": pa.array(
                np.where(signed_in[session], customer[session], 0), mask=~signed_in[session]
            ),
            "event_type": pick(layout.EVENT_TYPES, kind),
            "url": url,
            "ts": timestamps_ms(ts_ms),
            "user_agent": pick([ua.header for ua in agents], agent[session]),
            "referrer": pick(_REFERRERS, referrer[session]),
            "os": pick([ua.os for ua in agents], agent[session]),
            "browser": pick([ua.browser for ua in agents], agent[session]),
            "device": pick([ua.device for ua in agents], agent[session]),
            "query": pa.array(
                np.asarray(vocab.SEARCH_TERMS, dtype=object)[query], mask=kind != SEARCH
            ),
            "product_id": pa.array(product, mask=~about_product),
        }
    )


def encode_events(table: pa.Table) -> bytes:
    """Events as NDJSON with a nested ``properties`` object."""
    device = json_object(
        [
            member("type", json_string(table["device"])),
            member("os", json_string(table["os"])),
            member("browser", json_string(table["browser"])),
        ]
    )
    properties = json_object(
        [
            member("device", device),
            member("referrer", json_string(table["referrer"])),
            member("query", json_string(table["query"]), omit_null=True),
            member("product_id", json_number(table["product_id"]), omit_null=True),
        ]
    )
    return ndjson_bytes(
        json_object(
            [
                member("event_id", json_string(table["event_id"])),
                member("session_id", json_string(table["session_id"])),
                member("customer_id", json_number(table["customer_id"])),
                member("event_type", json_string(table["event_type"])),
                member("url", json_string(table["url"])),
                member("ts", json_timestamp(table["ts"])),
                member("user_agent", json_string(table["user_agent"])),
                member("properties", properties),
            ]
        )
    )


def encoded_slices(table: pa.Table) -> Iterator[bytes]:
    """The events as NDJSON, a slice at a time, so only one slice of text is held at once."""
    for start in range(0, table.num_rows, ENCODE_ROWS):
        yield encode_events(table.slice(start, ENCODE_ROWS))


def write_events(ctx: Context, catalog: Catalog) -> None:
    """Write the web-events parts, one per chunk, after clearing parts of earlier runs."""
    folder = ctx.out_dir / layout.WEB_EVENTS_DIR
    for stale in sorted(folder.glob("part-*.ndjson.zst*")):
        stale.unlink()
    total = ctx.sizes.web_events
    ctx.report("web_events", 0, total)
    for part, (lo, hi) in enumerate(ctx.spans(total)):
        table = _event_table(ctx, catalog, part, lo, hi)
        relative = layout.web_events_part(part)
        ctx.ledger.add_file(
            write_zstd_part(ctx.out_dir, relative, encoded_slices(table), table.num_rows)
        )
        ctx.report("web_events", hi, total)
