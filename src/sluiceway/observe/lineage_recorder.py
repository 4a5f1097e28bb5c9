"""Record lineage in the metadata store, from events.

- ``model_built``: the model's version (a new one when its code — SQL, chain of operations,
  Python function —, materialization or config changed) and its column-level lineage: parsed
  with sqlglot over the columns of the tables it read from its SQL (an operations model's
  compiled chain, a Python transform's returned relation), or a Python transform's declared
  lineage. SQL whose columns cannot be traced (``SELECT *`` over a table without known columns,
  say) still gets its table-level edges, and the reason is kept in ``notes``; a Python
  transform with neither gets an edge from each input.
- ``load_committed`` of a source: a table-level edge from where its rows came from (a file
  glob, a source table) to the table it loads.

A failure here never fails the run: lineage is a record of the work, not part of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import Event, EventKind
from sluiceway.meta import lineage_store
from sluiceway.meta.store import MetaStore
from sluiceway.transform.lineage import column_lineage, table_lineage
from sluiceway.transform.lineage_types import ColumnLineage, ColumnRef, TableEdge, TableEdgeKind


class LineageRecorder:
    def __init__(self, store: MetaStore) -> None:
        self._store = store
        self.notes: list[str] = []  # models whose columns could not be traced, and why

    def __call__(self, event: Event) -> None:
        data = event.data
        if event.kind is EventKind.MODEL_BUILT and "code" in data:
            self._model(event)
        elif event.kind is EventKind.LOAD_COMMITTED and data.get("origin"):
            lineage_store.record_load_lineage(
                self._store, source_desc=str(data["origin"]), target=str(data["table"])
            )

    def _model(self, event: Event) -> None:
        data = event.data
        model, target = str(event.step), str(data["table"])
        sql = data.get("sql")
        version = lineage_store.record_model_version(
            self._store,
            model=model,
            sql=str(data["code"]),
            materialization=str(data["materialization"]),
            config=dict(data.get("config") or {}),
            columns=list(data.get("columns") or []),
            run_id=event.run_id,
        )
        columns: list[ColumnLineage] = []
        if sql is None:
            kind: TableEdgeKind = "transform" if data.get("kind") == "python" else "model"
            tables = [
                TableEdge(str(read), target.lower(), kind, model)
                for read in data.get("reads") or ()
                if str(read).lower() != target.lower()
            ]
            columns = [_declared(item) for item in data.get("column_lineage") or ()]
        else:
            tables = table_lineage(str(sql), target=target)
            try:
                columns = column_lineage(
                    str(sql), target=target, schema=dict(data.get("schema") or {})
                )
            except ConfigError as exc:
                self.notes.append(f"{model}: column lineage not traced ({exc.message})")
        lineage_store.record_lineage(
            self._store, model=model, version=version, columns=columns, target=target, tables=tables
        )


def _declared(item: Mapping[str, Any]) -> ColumnLineage:
    """One column of a transform's declared lineage, from event data."""
    return ColumnLineage(
        str(item["column"]),
        tuple(ColumnRef.parse(str(ref)) for ref in item.get("sources") or ()),
        str(item.get("expression") or ""),
        item.get("kind") or "derived",
    )
