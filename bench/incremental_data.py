"""Deterministic orders for the incremental benchmark: a base, a 1% delta, and the snapshot.

Everything is computed by DuckDB from ``range()`` (no randomness, no Python row loop) and
written once, as Parquet, under ``bench/.work/incremental/data-<rows>-v<VERSION>/``:

=============  =============================================================================
``base/``      ids 1..N in ten files: what the target holds before the delta arrives
``delta/``     one file, N/100 rows: half rewrite existing ids spread over the whole range
               (every column of theirs changes, ``updated_at`` included), half are new ids
               N+1.. ; every ``updated_at`` is later than any in the base
``snapshot/``  the table as it is after the delta (the base with those rows replaced, plus
               the new ids): what a full reload reads, and what every contender must end with
=============  =============================================================================

Columns: ``id BIGINT`` (the key), ``customer VARCHAR``, ``amount DOUBLE``, ``status VARCHAR``,
``updated_at TIMESTAMP``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

WORK = Path(__file__).resolve().parent / ".work" / "incremental"
# Bump when the generator changes, so stale files are never reused.
VERSION = 1
BASE_FILES = 10
COLUMNS = ("id", "customer", "amount", "status", "updated_at")


@dataclass(frozen=True)
class Dataset:
    rows: int  # rows in the base
    updated: int  # delta rows that rewrite an existing id
    inserted: int  # delta rows with a new id
    root: Path

    @property
    def base(self) -> list[Path]:
        return sorted((self.root / "base").glob("*.parquet"))

    @property
    def delta(self) -> Path:
        return self.root / "delta" / "delta.parquet"

    @property
    def snapshot(self) -> list[Path]:
        return sorted((self.root / "snapshot").glob("*.parquet"))

    @property
    def delta_rows(self) -> int:
        return self.updated + self.inserted

    @property
    def final_rows(self) -> int:
        return self.rows + self.inserted


def dataset(rows: int) -> Dataset:
    """The sizes for ``rows`` base rows (1% delta, half of it updates); nothing is written."""
    delta = max(2, rows // 100)
    updated = delta // 2
    return Dataset(rows, updated, delta - updated, WORK / f"data-{rows}-v{VERSION}")


def ensure_dataset(rows: int) -> Dataset:
    """The cached files for ``rows`` base rows, generated on first use."""
    data = dataset(rows)
    if data.root.exists():
        return data
    # Imported here, like below: the benchmark's own process must stay small (a child's peak
    # RSS starts at its parent's), so only its children ever load DuckDB.
    import duckdb

    partial = data.root.with_name(data.root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for folder in ("base", "delta", "snapshot"):
        (partial / folder).mkdir(parents=True)
    con = duckdb.connect()
    stride = data.rows // data.updated
    # The rewritten ids sit mid-way in each of the first `updated` strides of the id range.
    changed = f"(i - 1) % {stride} = {stride // 2} AND (i - 1) // {stride} < {data.updated}"
    bounds = [data.rows * part // BASE_FILES for part in range(BASE_FILES + 1)]
    for part in range(BASE_FILES):
        ids = _range(bounds[part] + 1, bounds[part + 1] + 1)
        _copy(con, _rows(ids, "0"), partial / "base" / f"part-{part:03d}.parquet")
        rewritten = _rows(ids, f"CASE WHEN {changed} THEN 1 ELSE 0 END")
        _copy(con, rewritten, partial / "snapshot" / f"part-{part:03d}.parquet")
    new_ids = _range(data.rows + 1, data.rows + data.inserted + 1)
    _copy(con, _rows(new_ids, "1"), partial / "snapshot" / f"part-{BASE_FILES:03d}.parquet")
    updated_ids = f"SELECT k * {stride} + {stride // 2} + 1 AS i FROM range({data.updated}) t(k)"
    delta = f"{_rows(updated_ids, '1')} UNION ALL {_rows(new_ids, '1')}"
    _copy(con, delta, partial / "delta" / "delta.parquet")
    con.close()
    # Rename last: an interrupted run never leaves half the files under the final name.
    partial.rename(data.root)
    return data


def _range(lo: int, hi: int) -> str:
    """The ids ``lo`` to ``hi - 1``, as a query of one column ``i``."""
    return f"SELECT i FROM range({lo}, {hi}) t(i)"


def _rows(ids: str, version: str) -> str:
    """The rows of the ids ``ids`` yields at ``version`` (0: base, 1: after the delta)."""
    return f"""
        SELECT i AS id,
               'customer ' || lpad(((i * 7919) % 100000)::VARCHAR, 5, '0') AS customer,
               round(((i * 31 + v * 17) % 100000) / 100.0, 2)::DOUBLE AS amount,
               ['pending','paid','shipped','delivered','cancelled'][1 + ((i + v * 2) % 5)]
                   AS status,
               CASE WHEN v = 0
                    THEN TIMESTAMP '2024-01-01' + to_seconds(i % 31536000)
                    ELSE TIMESTAMP '2025-06-01' + to_seconds(i % 86400) END AS updated_at
          FROM (SELECT i, {version} AS v FROM ({ids}))
    """


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)")


def figures(relation: str, delta: Path, *, database: str | None = None) -> dict[str, int]:
    """Row count, distinct ids and checksums of ``relation`` (a table, or ``read_parquet(…)``).

    ``checksum`` sums a hash of the five data columns over every row (lineage columns aside);
    ``changed`` does the same over the rows whose id is in the delta. Timestamps are compared
    as naive UTC: dlt stores them as ``TIMESTAMP WITH TIME ZONE``.
    """
    import duckdb

    con = duckdb.connect(database or ":memory:", read_only=database is not None)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # it would print to stdout
    row_hash = "hash(id, customer, amount, status, updated_at::TIMESTAMP)"
    query = f"""
        SELECT count(*), count(DISTINCT id), coalesce(sum({row_hash}), 0)::VARCHAR,
               coalesce(sum({row_hash}) FILTER (WHERE id IN (SELECT id FROM delta)), 0)::VARCHAR
          FROM {relation}
    """
    con.execute("CREATE TEMP TABLE delta AS SELECT id FROM read_parquet(?)", [str(delta)])
    row = con.execute(query).fetchone()
    con.close()
    if row is None:
        raise RuntimeError(f"no figures for {relation}")
    return {"rows": row[0], "ids": row[1], "checksum": int(row[2]), "changed": int(row[3])}
