"""Generate the demo shop: a deterministic, realistic, deliberately messy e-commerce dataset.

>>> from pathlib import Path
>>> manifest = generate(Path("demo-data"), scale=0.01)  # doctest: +SKIP
>>> manifest.defects["orders.orphan_customer"].count  # doctest: +SKIP
5

What is written (relative to ``out_dir``)::

    customers.csv                 drop 1 customers (CSV, header, zip codes quoted)
    products.xlsx                 the catalogue (one sheet, "products")
    orders.csv.gz                 drop 1 orders (gzip CSV)
    order_items.parquet           order lines (zstd Parquet; unit_price is decimal128(10, 2))
    payments.ndjson               payments (newline-delimited JSON)
    web_events/part-*.ndjson.zst  clickstream, one zstd NDJSON part per chunk
    drop2/customers.csv           second drop: schema changed, updates and new customers
    drop2/orders.csv.gz           second drop: late updates to old orders and new orders
    manifest.json                 sizes, hashes and every injected defect with its keys

Same (seed, scale, as_of, chunk_rows) gives byte-identical files and manifest. Everything is
generated and written in chunks of ``chunk_rows``, so memory stays flat from scale 0.01 to
scale 1000; only the keys of damaged rows (a few percent) are collected for the manifest.
"""

from __future__ import annotations

import math
import os
from datetime import date, datetime
from pathlib import Path

from sluiceway.core.errors import ConfigError, SluicewayError
from sluiceway.demo import layout
from sluiceway.demo.context import Context, Ledger, ProgressCallback
from sluiceway.demo.customers import write_customers
from sluiceway.demo.defects import (
    ALL_DEFECTS,
    CUSTOMER_DEFECTS,
    DROP2_CHANGES,
    ORDER_DEFECTS,
    SCHEMA_CHANGE,
)
from sluiceway.demo.draws import Draws
from sluiceway.demo.drop2 import write_drop2_customers, write_drop2_orders
from sluiceway.demo.events import write_events
from sluiceway.demo.manifest import (
    DefectRecord,
    Drop2Record,
    EntityRecord,
    Manifest,
    SchemaChange,
)
from sluiceway.demo.plan import Picks, Sizes
from sluiceway.demo.products import Catalog, write_products
from sluiceway.demo.sales import write_sales
from sluiceway.demo.timeline import Timeline

DEFAULT_AS_OF = date(2026, 1, 1)
GENERATOR = "sluiceway.demo.generate"
GENERATOR_VERSION = "1"
MAX_SCALE = 1000.0
DEFAULT_CHUNK_ROWS = 50_000
MIN_CHUNK_ROWS = 16

__all__ = ["DEFAULT_AS_OF", "Manifest", "generate"]


def generate(
    out_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    as_of: date = DEFAULT_AS_OF,
    progress: ProgressCallback | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Manifest:
    """Write the demo dataset into ``out_dir`` and return its manifest.

    ``scale`` multiplies every row count (scale 1: 20k customers, 2k products, 100k orders,
    ~250k order lines, ~100k payments, 300k web events); it must be in (0, 1000]. ``seed``
    picks the data, ``as_of`` anchors every date (orders cover the two years before it).
    ``progress(entity, rows_done, rows_total)`` is called as chunks are written.
    ``chunk_rows`` bounds memory; it changes how web events are split into parts (and so
    their content) but no other file.

    Existing files of a previous run in ``out_dir`` are replaced; other files are left alone.
    Raises :class:`~sluiceway.core.errors.ConfigError` for invalid arguments or an output
    folder that cannot be written.
    """
    scale = _checked_scale(scale)
    seed = _checked_seed(seed)
    as_of = _checked_as_of(as_of)
    chunk_rows = _checked_chunk_rows(chunk_rows)
    out_dir = _prepared_folder(out_dir)

    sizes = Sizes.for_scale(scale)
    draws = Draws(seed)
    ctx = Context(
        out_dir=out_dir,
        seed=seed,
        chunk_rows=chunk_rows,
        draws=draws,
        timeline=Timeline(as_of),
        sizes=sizes,
        ledger=Ledger(),
        progress=progress,
    )
    customer_picks = Picks.draw(seed, "customers", CUSTOMER_DEFECTS, sizes.customers)
    order_picks = Picks.draw(seed, "orders", ORDER_DEFECTS, sizes.orders)
    near = len(customer_picks.ordinals_of("customers.near_duplicates"))
    first_orphan_customer = sizes.customers + near + sizes.drop2_new_customers + 1
    catalog = Catalog.build(draws, sizes.products)

    (out_dir / layout.MANIFEST).unlink(missing_ok=True)  # no stale manifest beside new files
    try:
        write_customers(ctx, customer_picks)
        write_products(ctx, catalog)
        write_sales(ctx, catalog, order_picks, first_orphan_customer)
        write_events(ctx, catalog)
        write_drop2_customers(ctx, customer_picks, near)
        write_drop2_orders(ctx, catalog, order_picks)
    except OSError as exc:
        raise SluicewayError(
            f"could not write the demo data into {out_dir}: {exc.strerror or exc}",
            hint="Check free disk space and permissions, or pick another folder.",
        ) from exc

    manifest = _manifest(ctx, scale)
    manifest.write(out_dir / layout.MANIFEST)
    return manifest


def _checked_scale(scale: object) -> float:
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise ConfigError(f"scale must be a number, got {type(scale).__name__}")
    value = float(scale)
    if not math.isfinite(value) or value <= 0 or value > MAX_SCALE:
        raise ConfigError(
            f"scale must be greater than 0 and at most {MAX_SCALE:g}, got {scale!r}",
            hint="scale 1 writes 100,000 orders; 0.01 writes about 1,000.",
        )
    return value


def _checked_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ConfigError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    return seed


def _checked_as_of(as_of: object) -> date:
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    if not isinstance(as_of, date):
        raise ConfigError(f"as_of must be a date, got {type(as_of).__name__}")
    if not 1990 <= as_of.year <= 2200:
        raise ConfigError(f"as_of must be between the years 1990 and 2200, got {as_of}")
    return as_of


def _checked_chunk_rows(chunk_rows: object) -> int:
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int):
        raise ConfigError(f"chunk_rows must be an integer, got {type(chunk_rows).__name__}")
    if chunk_rows < MIN_CHUNK_ROWS:
        raise ConfigError(f"chunk_rows must be at least {MIN_CHUNK_ROWS}, got {chunk_rows}")
    return chunk_rows


def _prepared_folder(out_dir: Path) -> Path:
    """Create ``out_dir`` if needed and prove it is writable before generating anything."""
    folder = Path(out_dir)
    probe = folder / ".sluiceway-write-probe"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"cannot write the demo data into {folder}: {exc.strerror or exc}",
            hint="Pass a folder you can write to (it is created if missing).",
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write the demo data into {folder}: permission denied",
            hint="Pass a folder you can write to (it is created if missing).",
        )
    return folder


def _entity(
    ctx: Context, files: list[str], key: str, duplicates: str | None, near: str | None
) -> EntityRecord:
    rows = sum(ctx.ledger.files[path].rows for path in files)
    records = {spec.id: spec for spec in ALL_DEFECTS}
    duplicate_rows = ctx.ledger.record(records[duplicates]).count if duplicates else 0
    near_rows = ctx.ledger.record(records[near]).count if near else 0
    return EntityRecord(
        files=files,
        key=[key],
        rows=rows,
        duplicate_rows=duplicate_rows,
        near_duplicate_rows=near_rows,
        unique_keys=rows - duplicate_rows,
    )


def _manifest(ctx: Context, scale: float) -> Manifest:
    ledger = ctx.ledger
    parts = sorted(path for path in ledger.files if path.startswith(f"{layout.WEB_EVENTS_DIR}/"))
    entities = {
        "customers": _entity(
            ctx,
            [layout.CUSTOMERS],
            "customer_id",
            "customers.exact_duplicate_rows",
            "customers.near_duplicates",
        ),
        "products": _entity(ctx, [layout.PRODUCTS], "product_id", None, None),
        "orders": _entity(ctx, [layout.ORDERS], "order_id", "orders.exact_duplicate_rows", None),
        "order_items": _entity(ctx, [layout.ORDER_ITEMS], "order_item_id", None, None),
        "payments": _entity(
            ctx, [layout.PAYMENTS], "payment_id", None, "payments.duplicate_payment"
        ),
        "web_events": _entity(ctx, parts, "event_id", None, None),
        "drop2/customers": _entity(ctx, [layout.DROP2_CUSTOMERS], "customer_id", None, None),
        "drop2/orders": _entity(ctx, [layout.DROP2_ORDERS], "order_id", None, None),
    }
    defects: dict[str, DefectRecord] = {spec.id: ledger.record(spec) for spec in ALL_DEFECTS}
    changes = {spec.id: ledger.record(spec) for spec in DROP2_CHANGES}
    return Manifest(
        generator=GENERATOR,
        version=GENERATOR_VERSION,
        seed=ctx.seed,
        scale=scale,
        as_of=ctx.timeline.as_of,
        drop1_cutoff=ctx.timeline.drop1_cutoff_date(),
        chunk_rows=ctx.chunk_rows,
        files=dict(sorted(ledger.files.items())),
        entities=entities,
        defects=defects,
        drop2=Drop2Record(
            schema_change=SchemaChange.model_validate(SCHEMA_CHANGE), changes=changes
        ),
    )
