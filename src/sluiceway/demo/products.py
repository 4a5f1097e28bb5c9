"""The product catalogue: ``products.xlsx``, and the prices order lines are billed at.

Prices follow a per-category log-normal (most items cheap, a long tail of expensive ones) with
the usual .99 endings. Order lines always use the clean price from :class:`Catalog`: the
catalogue's defects are data-entry errors in the spreadsheet, not prices anyone paid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from openpyxl import Workbook
from openpyxl.packaging.core import DocumentProperties
from openpyxl.xml.functions import tostring

from sluiceway.demo import layout, vocab
from sluiceway.demo.context import Context
from sluiceway.demo.defects import PRODUCT_DEFECTS
from sluiceway.demo.draws import Draws, I64Array
from sluiceway.demo.plan import Picks
from sluiceway.demo.sinks import FIXED_DOCUMENT_TIME, normalize_xlsx, record_for
from sluiceway.demo.timeline import DAY

MAX_CLEAN_PRICE_CENTS = 2_500_000  # 25,000.00: the long tail stops well short of "absurd"
_CATEGORY_WEIGHTS = [c.weight for c in vocab.CATEGORIES]
_EPOCH = datetime(1970, 1, 1)


def product_category(draws: Draws, ids: I64Array) -> I64Array:
    return draws.weighted("product.category", ids, _CATEGORY_WEIGHTS)


def product_price_cents(draws: Draws, ids: I64Array) -> I64Array:
    """Clean list price in cents, with .99 (or .49 under 10 dollars) endings."""
    category = product_category(draws, ids)
    median = np.array([c.median_price for c in vocab.CATEGORIES])[category]
    sigma = np.array([c.price_sigma for c in vocab.CATEGORIES])[category]
    dollars = np.exp(np.log(median) + sigma * draws.normal("product.price", ids))
    dollars = np.clip(dollars, 1.0, MAX_CLEAN_PRICE_CENTS / 100 - 1)
    whole = np.floor(dollars).astype(np.int64)
    cheap = dollars < 10
    halves = np.floor(dollars * 2).astype(np.int64)  # 0.5-dollar steps below 10 dollars
    cents = np.where(cheap, np.maximum(halves * 50 - 1, 49), whole * 100 + 99)
    return np.asarray(cents, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Clean prices by product id, and which products are popular.

    Popularity is a rank; a fixed stride coprime with the catalogue size scatters ranks over
    ids, so the best sellers are not simply the lowest ids.
    """

    size: int
    price_cents: I64Array
    stride: int

    @classmethod
    def build(cls, draws: Draws, size: int) -> Catalog:
        prices = product_price_cents(draws, np.arange(1, size + 1, dtype=np.int64))
        stride = 7919
        while math.gcd(stride, size) != 1:
            stride += 2
        return cls(size, prices, stride)

    def product_at_rank(self, rank: I64Array) -> I64Array:
        """Product id of each popularity rank (0 = best seller)."""
        return np.asarray((rank * self.stride + 13) % self.size + 1, dtype=np.int64)

    def popular_products(self, draws: Draws, stream: str, keys: I64Array) -> I64Array:
        """Product ids drawn with a heavy head: a few products sell most."""
        skewed = draws.uniform(stream, keys) ** 2.5
        rank = np.minimum((skewed * self.size).astype(np.int64), self.size - 1)
        return self.product_at_rank(rank)

    def prices(self, product_ids: I64Array) -> I64Array:
        return np.asarray(self.price_cents[product_ids - 1], dtype=np.int64)


def _product_rows(
    ctx: Context, catalog: Catalog, picks: Picks, lo: int, hi: int
) -> list[list[object]]:
    draws = ctx.draws
    ids = np.arange(lo + 1, hi + 1, dtype=np.int64)
    category = product_category(draws, ids)
    noun_pick = draws.uniform("product.noun", ids)
    adjective = draws.below("product.adjective", ids, len(vocab.PRODUCT_ADJECTIVES))
    color = draws.below("product.color", ids, len(vocab.PRODUCT_COLORS))
    with_color = draws.chance("product.with_color", ids, 0.5)
    price = catalog.price_cents[lo:hi].copy()
    cost = (price * (0.35 + 0.4 * draws.uniform("product.cost", ids))).astype(np.int64)
    median_kg = np.array([c.median_kg for c in vocab.CATEGORIES])[category]
    kg = np.maximum(median_kg * np.exp(0.6 * draws.normal("product.kg", ids)), 0.01)
    active = draws.chance("product.active", ids, 0.93)
    created_end = ctx.timeline.orders_start_s - DAY
    created = draws.between("product.created", ids, created_end - 730 * DAY, created_end)

    negative = picks.offsets(lo, hi, "products.negative_price")
    price[negative] = -price[negative]
    absurd = picks.offsets(lo, hi, "products.absurd_price")
    price[absurd] = np.maximum(price[absurd] * 100, 10_000_001 + price[absurd])
    no_category = set(picks.offsets(lo, hi, "products.null_category").tolist())
    for defect, offsets in (
        ("products.negative_price", negative),
        ("products.absurd_price", absurd),
        ("products.null_category", np.array(sorted(no_category), dtype=np.int64)),
    ):
        ctx.ledger.add_keys(defect, ids[offsets])

    rows: list[list[object]] = []
    for i in range(hi - lo):
        cat = vocab.CATEGORIES[int(category[i])]
        noun = cat.nouns[min(int(noun_pick[i] * len(cat.nouns)), len(cat.nouns) - 1)]
        adjective_word = vocab.PRODUCT_ADJECTIVES[int(adjective[i])]
        words = [adjective_word, vocab.PRODUCT_COLORS[int(color[i])], noun]
        name = " ".join(words if with_color[i] else [adjective_word, noun])
        rows.append(
            [
                int(ids[i]),
                f"{cat.code}-{int(ids[i]):06d}",
                name,
                None if i in no_category else cat.name,
                int(price[i]) / 100,
                int(cost[i]) / 100,
                round(float(kg[i]), 3),
                bool(active[i]),
                _EPOCH + timedelta(seconds=int(created[i])),
            ]
        )
    return rows


def _fixed_properties() -> DocumentProperties:
    return DocumentProperties(
        creator="sluiceway demo", created=FIXED_DOCUMENT_TIME, modified=FIXED_DOCUMENT_TIME
    )


def write_products(ctx: Context, catalog: Catalog) -> None:
    """Write ``products.xlsx`` (one sheet, header in row 1) in streaming mode."""
    picks = Picks.draw(ctx.seed, "products", PRODUCT_DEFECTS, ctx.sizes.products)
    final = ctx.out_dir / layout.PRODUCTS
    partial = final.with_name(final.name + ".partial")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(layout.PRODUCTS_SHEET)
    sheet.append(list(layout.PRODUCT_COLUMNS))
    total = ctx.sizes.products
    ctx.report("products", 0, total)
    for lo, hi in ctx.spans(total):
        for row in _product_rows(ctx, catalog, picks, lo, hi):
            sheet.append(row)
        ctx.report("products", hi, total)
    workbook.properties = _fixed_properties()
    try:
        # save() stamps "modified" with the wall clock; normalize_xlsx puts the fixed one back.
        workbook.save(partial)
        # The stubs say str, openpyxl returns bytes; accept either.
        core_xml: str | bytes = tostring(_fixed_properties().to_tree())
        normalize_xlsx(partial, core_xml if isinstance(core_xml, bytes) else core_xml.encode())
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    ctx.ledger.add_file(record_for(ctx.out_dir, layout.PRODUCTS, "xlsx", total))
