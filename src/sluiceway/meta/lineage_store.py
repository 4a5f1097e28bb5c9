"""Models' versions and lineage in the metadata store.

A model gets a new version when its SQL, materialization or config changes (re-running it
unchanged registers nothing); the lineage of each version is stored as edges, one row per
(source column → output column), plus table-level edges (a load, a model's tables). A load's
edges are stored under the model ``load:<table>``. :func:`load_graph` rebuilds the
:class:`~sluiceway.transform.lineage.LineageGraph` from the latest version of every model.

Versions are numbered in one write transaction, serialised per model: SQLite's ``BEGIN
IMMEDIATE`` takes the database's write lock, and on PostgreSQL a transaction-scoped advisory lock
on the model does the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import Integer, and_, delete, func, insert, literal, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Connection, RowMapping

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import MetaStoreError
from sluiceway.meta.store import MetaStore
from sluiceway.meta.tables import lineage_edges, model_versions
from sluiceway.transform.lineage_types import (
    COLUMN_KINDS,
    TABLE_EDGE_KINDS,
    ColumnKind,
    ColumnLineage,
    ColumnRef,
    TableEdge,
    TableEdgeKind,
)

if TYPE_CHECKING:
    from sluiceway.transform.lineage import LineageGraph

LOAD_PREFIX: Final = "load:"
"""Loads' edges are stored under the model ``load:<target table>``."""

# The first of the two 32-bit keys of PostgreSQL's per-model advisory locks ("slmv"); the
# schema registry's locks use another space, and migrations the one-key form.
_PG_LOCK_SPACE: Final = 0x736C6D76

_versions = model_versions.c
_edges = lineage_edges.c


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """One version of a model, as stored."""

    model: str
    version: int
    sql_hash: str
    sql: str
    materialization: str
    config: dict[str, Any]
    columns: list[dict[str, Any]]
    created_at: datetime
    run_id: str | None

    @classmethod
    def from_row(cls, row: RowMapping) -> ModelVersionRecord:
        return cls(
            model=row["model"],
            version=row["version"],
            sql_hash=row["sql_hash"],
            sql=row["sql"],
            materialization=row["materialization"],
            config=row["config"],
            columns=row["columns"],
            created_at=row["created_at"],
            run_id=row["run_id"],
        )


def sql_hash(sql: str) -> str:
    """The hash a model version is compared by: sha256 of its SQL text, hex."""
    return hashlib.sha256(sql.encode()).hexdigest()


def record_model_version(
    store: MetaStore,
    *,
    model: str,
    sql: str,
    materialization: str,
    config: Mapping[str, Any],
    columns: Sequence[Mapping[str, Any]],
    run_id: str | None = None,
) -> int:
    """Register the model as it is now; return its version number.

    The latest version is returned as is when the SQL (by hash), materialization and config
    are unchanged, so re-running a model registers nothing; otherwise the next number (1 for a
    new model). ``columns`` is ``[{name, type}, …]`` of the output. ``ValueError`` on misuse.
    """
    name = _model_key(model)
    plain_config = _plain("config", dict(config))
    plain_columns = _plain("columns", [dict(column) for column in columns])
    for column in plain_columns:
        if not isinstance(column.get("name"), str) or not column["name"]:
            raise ValueError(f"each column needs a name, got {column!r}")
    digest = sql_hash(sql)
    with store.transaction(f"record a version of model {name}") as connection:
        _lock_model(connection, name)
        latest = _latest_version(connection, name)
        if (
            latest is not None
            and latest.sql_hash == digest
            and latest.materialization == materialization
            and latest.config == plain_config
        ):
            return latest.version
        version = 1 if latest is None else latest.version + 1
        connection.execute(
            insert(model_versions).values(
                model=name,
                version=version,
                sql_hash=digest,
                sql=sql,
                materialization=materialization,
                config=plain_config,
                columns=plain_columns,
                created_at=utcnow(),
                run_id=run_id,
            )
        )
    return version


def record_lineage(
    store: MetaStore,
    *,
    model: str,
    version: int,
    columns: Sequence[ColumnLineage],
    target: str,
    tables: Sequence[TableEdge] = (),
) -> None:
    """Store the lineage of one version of a model, replacing what that version had.

    ``columns`` are the output columns' lineage (:func:`~sluiceway.transform.lineage.
    column_lineage`, or a transform's declaration), ``target`` the table they are columns of,
    ``tables`` its table-level edges (:func:`~sluiceway.transform.lineage.table_lineage`); each
    of those must go into ``target`` (``ValueError`` otherwise).
    """
    name = _model_key(model)
    into = _table_key(target)
    for edge in tables:
        if _table_key(edge.target) != into:
            raise ValueError(f"a table edge of model {name} goes into {edge.target}, not {into}")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for lineage in columns:
        sources: Sequence[ColumnRef | None] = lineage.sources or (None,)
        rows.extend(
            {
                "source_table": None if source is None else source.table,
                "source_column": None if source is None else source.column,
                "target_table": into,
                "target_column": lineage.column.strip().lower(),
                "kind": lineage.kind,
                "expression": lineage.expression,
            }
            for source in sources
        )
    rows.extend(
        {
            "source_table": edge.source.strip(),
            "source_column": None,
            "target_table": into,
            "target_column": None,
            "kind": edge.kind,
            "expression": edge.detail or None,
        }
        for edge in tables
    )
    key = (_edges.model == name) & (_edges.version == version)
    with store.transaction(f"record the lineage of model {name} version {version}") as connection:
        connection.execute(delete(lineage_edges).where(key))
        if rows:
            connection.execute(
                insert(lineage_edges),
                [
                    {**row, "model": name, "version": version, "position": i, "recorded_at": now}
                    for i, row in enumerate(rows)
                ],
            )


def record_load_lineage(store: MetaStore, *, source_desc: str, target: str) -> None:
    """Record that ``source_desc`` (``files:data/*.csv``, an API, a table) is loaded into
    ``target``; idempotent. A table loaded from several sources keeps an edge from each."""
    source = source_desc.strip()
    if not source:
        raise ValueError("a load's source description is required, got an empty one")
    into = _table_key(target)
    name = f"{LOAD_PREFIX}{into}"
    with store.transaction(f"record the lineage of the load into {into}") as connection:
        _lock_model(connection, name)
        mine = (_edges.model == name) & (_edges.version == 1)
        known = connection.execute(
            select(_edges.position).where(mine, _edges.source_table == source)
        ).first()
        if known is not None:
            return
        last = connection.scalar(select(func.max(_edges.position)).where(mine))
        connection.execute(
            insert(lineage_edges).values(
                model=name,
                version=1,
                position=0 if last is None else last + 1,
                source_table=source,
                source_column=None,
                target_table=into,
                target_column=None,
                kind="load",
                expression=None,
                recorded_at=utcnow(),
            )
        )


def load_graph(store: MetaStore) -> LineageGraph:
    """The lineage graph of the latest version of every model, and of every load.

    Raises :class:`~sluiceway.core.errors.ConfigError` if the stored lineage has a cycle.
    """
    # Imported here: the graph module pulls in sqlglot, which recording lineage does not need.
    from sluiceway.transform.lineage import LineageGraph

    newest = (
        select(_edges.model, func.max(_edges.version).label("version"))
        .group_by(_edges.model)
        .subquery()
    )
    query = (
        select(lineage_edges)
        .join(newest, and_(_edges.model == newest.c.model, _edges.version == newest.c.version))
        .order_by(_edges.model, _edges.position)
    )
    with store.reading("read the lineage") as connection:
        rows = connection.execute(query).mappings().all()
    by_model: dict[str, list[RowMapping]] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row)
    graph = LineageGraph()
    for model, edges in by_model.items():
        columns, tables = _lineage_of(model, edges)
        graph.add_model(edges[0]["target_table"], columns, tables)
    return graph


def model_history(store: MetaStore, model: str) -> list[ModelVersionRecord]:
    """Every version of ``model``, oldest first; empty for a model never registered."""
    name = _model_key(model)
    with store.reading(f"read the versions of model {name}") as connection:
        rows = connection.execute(
            select(model_versions).where(_versions.model == name).order_by(_versions.version)
        ).mappings()
        return [ModelVersionRecord.from_row(row) for row in rows]


def _lineage_of(
    model: str, rows: Sequence[RowMapping]
) -> tuple[list[ColumnLineage], list[TableEdge]]:
    """A model version's rows (in position order) back into column lineage and table edges."""
    columns: dict[str, list[RowMapping]] = {}
    tables: list[TableEdge] = []
    for row in rows:
        if row["target_column"] is None:
            kind = _checked(model, row["kind"], TABLE_EDGE_KINDS)
            edge_kind = cast(TableEdgeKind, kind)
            detail = row["expression"] or ""
            tables.append(TableEdge(row["source_table"], row["target_table"], edge_kind, detail))
        else:
            columns.setdefault(row["target_column"], []).append(row)
    lineage = [
        ColumnLineage(
            column=column,
            sources=tuple(
                ColumnRef(edge["source_table"], edge["source_column"])
                for edge in edges
                if edge["source_table"] is not None
            ),
            expression=edges[0]["expression"] or "",
            kind=cast(ColumnKind, _checked(model, edges[0]["kind"], COLUMN_KINDS)),
        )
        for column, edges in columns.items()
    ]
    return lineage, tables


def _checked(model: str, kind: str, known: Sequence[str]) -> str:
    if kind not in known:
        raise MetaStoreError(
            f"the lineage of model {model} has an edge of unknown kind {kind!r}",
            hint="it was recorded by a newer Sluiceway; upgrade (pip install -U sluiceway)",
        )
    return kind


def _latest_version(connection: Connection, model: str) -> ModelVersionRecord | None:
    row = (
        connection.execute(
            select(model_versions)
            .where(_versions.model == model)
            .order_by(_versions.version.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else ModelVersionRecord.from_row(row)


def _lock_model(connection: Connection, model: str) -> None:
    """Serialise writers of one model (SQLite's write lock already serialises all)."""
    if connection.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(model.encode(), digest_size=4).digest()
    model_lock = int.from_bytes(digest, "big", signed=True)
    connection.execute(
        select(
            func.pg_advisory_xact_lock(
                sql_cast(literal(_PG_LOCK_SPACE), Integer), sql_cast(literal(model_lock), Integer)
            )
        )
    )


def _model_key(model: str) -> str:
    key = model.strip()
    if not key:
        raise ValueError("a model name is required, got an empty one")
    return key


def _table_key(table: str) -> str:
    key = table.strip().lower()
    if not key:
        raise ValueError("a table name is required, got an empty one")
    return key


def _plain(name: str, value: Any) -> Any:
    """A deep copy through JSON: what the database will hand back (tuples become lists)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be plain JSON data (no NaN): {exc}") from exc
