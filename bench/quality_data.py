"""Deterministic, messy orders for the quality benchmark, written once to a cached Parquet file.

Every column is drawn with numpy from one fixed seed (vectorised: 2M rows take a few seconds)
and strings are assembled with Arrow compute kernels, never row by row. The defects are sized
so that every rule of ``bench/quality.py`` has thousands of failing rows:

====================  ===================================================================
order_id   BIGINT     1..N, ~0.1% of rows reuse another row's id (duplicates)
customer_id BIGINT    ~0.5% null
email      VARCHAR    ~1% malformed (no ``@``, ``@@``, no/short TLD, a space), ~0.5% null
amount     DOUBLE     ~0.2% negative, ~0.1% > 100000, a few exactly 0 and 100000, ~0.1% null
quantity   INTEGER    ~0.2% <= 0, ~0.1% null
status     VARCHAR    5 valid values, ~0.3% invalid (``refunded``, ``PAID``, ``''``), ~0.1% null
state      VARCHAR    2-letter codes, ~0.5% of other lengths, ~0.1% null
zip        VARCHAR    5 digits or ZIP+4, ~0.5% neither, ~0.1% null
created_at TIMESTAMP  whole seconds in 2024
====================  ===================================================================

The extra nulls (amount, quantity, status, state, zip) check that every implementation lets
nulls pass the value rules. No value holds a newline: Python's ``re`` lets ``$`` match before
a trailing newline where RE2 and Rust's regex do not, and the benchmark compares engines, not
regex dialects.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SEED = 20_240_601
# bench/.cache/ is not in .gitignore (bench/.work/ is); keep the file out of the work tree.
CACHE_DIR = Path("/tmp/sluiceway-bench")
# Bump when the generator changes, so a stale cached file is never reused.
VERSION = 1

STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled")
BAD_STATUSES = ("refunded", "PAID", "unknown", "", "shipped ")
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO "
    "MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
)
STATES = tuple(_STATE_CODES.split())
BAD_STATES = ("C", "CAL", "", "NYC", "T")
DOMAINS = ("example.com", "mail.org", "shop.co.uk", "corp.net", "inbox.io")
BAD_ZIPS = ("1234", "123456", "12345-12", "ABCDE", "12345 6789", "9021O", "12345-")
# Malformed e-mail = local part + one of these separators + one of these domains, pairwise.
BAD_EMAIL_SEPARATORS = ("", "@@", "@", "@", "@")
BAD_EMAIL_DOMAINS = ("example.com", "example.com", "example", "example.c", "exa mple.com")
EPOCH_2024 = np.datetime64("2024-01-01T00:00:00", "s")


def parquet_path(rows: int, cache_dir: Path = CACHE_DIR) -> Path:
    """Where the file for ``rows`` rows lives (seed and generator version in the name)."""
    return cache_dir / f"quality_orders_{rows}_s{SEED}_v{VERSION}.parquet"


def ensure_parquet(rows: int, cache_dir: Path = CACHE_DIR) -> Path:
    """The cached Parquet file for ``rows`` rows, generated on first use."""
    path = parquet_path(rows, cache_dir)
    if path.exists():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    pq.write_table(generate(rows), partial, row_group_size=256 * 1024)
    # Rename last: an interrupted run never leaves a truncated file under the final name.
    partial.replace(path)
    return path


def generate(rows: int, seed: int = SEED) -> pa.Table:
    """The benchmark table: ``rows`` orders with the defects listed in the module docstring."""
    rng = np.random.default_rng(seed)
    order_id = np.arange(1, rows + 1, dtype=np.int64)
    duplicated = rng.random(rows) < 0.001
    order_id[duplicated] = rng.integers(1, rows + 1, size=int(duplicated.sum()))
    columns = {
        "order_id": pa.array(order_id),
        "customer_id": pa.array(
            rng.integers(1, 200_001, size=rows, dtype=np.int64), mask=_share(rng, rows, 0.005)
        ),
        "email": _emails(rng, order_id),
        "amount": _amounts(rng, rows),
        "quantity": _quantities(rng, rows),
        "status": _pick(rng, rows, STATUSES, BAD_STATUSES, bad_share=0.003),
        "state": _pick(rng, rows, STATES, BAD_STATES, bad_share=0.005),
        "zip": _zips(rng, rows),
        "created_at": pa.array(
            EPOCH_2024 + rng.integers(0, 366 * 86_400, size=rows).astype("timedelta64[s]"),
            type=pa.timestamp("us"),
        ),
    }
    return pa.table(columns)


def _share(rng: np.random.Generator, rows: int, share: float) -> np.ndarray:
    """A boolean mask with about ``share`` of the rows set."""
    return rng.random(rows) < share


def _with_nulls(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """``values`` with the masked rows set to null."""
    return pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)


def _emails(rng: np.random.Generator, order_id: np.ndarray) -> pa.Array:
    rows = len(order_id)
    local = pc.binary_join_element_wise("user", pc.cast(pa.array(order_id), pa.string()), "")
    domain = pa.array(DOMAINS).take(pa.array(rng.integers(0, len(DOMAINS), size=rows)))
    good = pc.binary_join_element_wise(local, "@", domain, "")
    variant = pa.array(rng.integers(0, len(BAD_EMAIL_DOMAINS), size=rows))
    bad = pc.binary_join_element_wise(
        local,
        pa.array(BAD_EMAIL_SEPARATORS).take(variant),
        pa.array(BAD_EMAIL_DOMAINS).take(variant),
        "",
    )
    emails = pc.if_else(pa.array(_share(rng, rows, 0.01)), bad, good)
    return _with_nulls(emails, _share(rng, rows, 0.005))


def _amounts(rng: np.random.Generator, rows: int) -> pa.Array:
    amount = np.round(rng.lognormal(mean=3.5, sigma=1.0, size=rows), 2)
    negative = _share(rng, rows, 0.002)
    amount[negative] = -amount[negative]
    huge = _share(rng, rows, 0.001)
    amount[huge] = np.round(rng.uniform(100_000.01, 500_000.0, size=int(huge.sum())), 2)
    # Values on both bounds: the range rule is inclusive, every engine must agree on that.
    amount[_share(rng, rows, 0.0005)] = 0.0
    amount[_share(rng, rows, 0.0005)] = 100_000.0
    return pa.array(amount, mask=_share(rng, rows, 0.001))


def _quantities(rng: np.random.Generator, rows: int) -> pa.Array:
    quantity = rng.integers(1, 11, size=rows, dtype=np.int32)
    bad = _share(rng, rows, 0.002)
    quantity[bad] = rng.integers(-3, 1, size=int(bad.sum()), dtype=np.int32)
    return pa.array(quantity, mask=_share(rng, rows, 0.001))


def _pick(
    rng: np.random.Generator,
    rows: int,
    good: tuple[str, ...],
    bad: tuple[str, ...],
    bad_share: float,
) -> pa.Array:
    """Values drawn from ``good``, about ``bad_share`` from ``bad``, about 0.1% null."""
    vocabulary = pa.array([*good, *bad])
    index = rng.integers(0, len(good), size=rows)
    is_bad = _share(rng, rows, bad_share)
    index[is_bad] = len(good) + rng.integers(0, len(bad), size=int(is_bad.sum()))
    return _with_nulls(vocabulary.take(pa.array(index)), _share(rng, rows, 0.001))


def _zips(rng: np.random.Generator, rows: int) -> pa.Array:
    five = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 100_000, size=rows)), pa.string()), 5, "0")
    four = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, size=rows)), pa.string()), 4, "0")
    zips = pc.if_else(
        pa.array(_share(rng, rows, 0.1)), pc.binary_join_element_wise(five, four, "-"), five
    )
    bad = pa.array(BAD_ZIPS).take(pa.array(rng.integers(0, len(BAD_ZIPS), size=rows)))
    zips = pc.if_else(pa.array(_share(rng, rows, 0.005)), bad, zips)
    return _with_nulls(zips, _share(rng, rows, 0.001))
