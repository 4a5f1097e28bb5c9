"""Record lineage in the metadata store, from events.

- ``model_built``: the model's version (a new one when its SQL, materialization or config
  changed) and its column-level lineage, parsed with sqlglot over the columns of the tables it
  read. SQL whose columns cannot be traced (``SELECT *`` over a table without known columns,
  say) still gets its table-level edges, and the reason is kept in ``notes``.
- ``load_committed`` of a source: a table-level edge from where its rows came from (a file
  glob, a source table) to the table it loads.

A failure here never fails the run: lineage is a record of the work, not part of it.
"""

from __future__ import annotations

from sluiceway.core.errors import ConfigError
from sluiceway.core.events import Event, EventKind
from sluiceway.meta import lineage_store
from sluiceway.meta.store import MetaStore
from sluiceway.transform.lineage import column_lineage, table_lineage


class LineageRecorder:
    def __init__(self, store: MetaStore) -> None:
        self._store = store
        self.notes: list[str] = []  # models whose columns could not be traced, and why

    def __call__(self, event: Event) -> None:
        data = event.data
        if event.kind is EventKind.MODEL_BUILT and "sql" in data:
            self._model(event)
        elif event.kind is EventKind.LOAD_COMMITTED and data.get("origin"):
            lineage_store.record_load_lineage(
                self._store, source_desc=str(data["origin"]), target=str(data["table"])
            )

    def _model(self, event: Event) -> None:
        data = event.data
        model, target, sql = str(event.step), str(data["table"]), str(data["sql"])
        version = lineage_store.record_model_version(
            self._store,
            model=model,
            sql=sql,
            materialization=str(data["materialization"]),
            config=dict(data.get("config") or {}),
            columns=list(data.get("columns") or []),
            run_id=event.run_id,
        )
        tables = table_lineage(sql, target=target)
        try:
            columns = column_lineage(sql, target=target, schema=dict(data.get("schema") or {}))
        except ConfigError as exc:
            self.notes.append(f"{model}: column lineage not traced ({exc.message})")
            columns = []
        lineage_store.record_lineage(
            self._store, model=model, version=version, columns=columns, target=target, tables=tables
        )
