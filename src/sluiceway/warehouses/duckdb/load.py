"""One load into DuckDB: a transaction that stages, merges, rejects and records.

Each load has its own connection (a cursor of the warehouse's) and its own transaction.
Appends and replaces write straight into the target inside it; merges (and loads whose staged
rows must be inspected first) stage into a table in ``_sluiceway_staging``, also inside it, so
no one else ever sees staged rows and a rollback, or a killed process, removes them with
everything else. DuckDB writes large uncommitted inserts to the database file as it goes, so
staging a file larger than memory does not grow memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import DataError, Location, SluicewayError, WarehouseError
from sluiceway.core.names import LOAD_ID_COLUMN, SOURCE_COLUMN, TableRef
from sluiceway.core.rejects import Reject, RowRejection
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.core.sql_types import sql_type
from sluiceway.quality.sql import DuckDBRunner
from sluiceway.schema.contract import AddColumn, RenameColumn, SchemaChange, SetColumnType
from sluiceway.warehouses import sql_builders as sb
from sluiceway.warehouses.base import Load, LoadRequest, LoadResult, Relation, Verify
from sluiceway.warehouses.bookkeeping import (
    DLQ_TABLE,
    LOADS_TABLE,
    STAGING_SCHEMA,
    STATE_TABLE,
    dlq_rows,
)
from sluiceway.warehouses.duckdb.changes import Changes
from sluiceway.warehouses.duckdb.errors import translate_load
from sluiceway.warehouses.duckdb.scd2 import Scd2

DIALECT = "duckdb"
DEFAULT_SCHEMA = "main"
# The arrival order of staged rows, numbered as they stream in: "the last row for a key wins"
# must not depend on the order a parallel insert happens to store them in.
SEQ_COLUMN = "__sluiceway_seq"


def _numbered(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    schema = reader.schema.append(pa.field(SEQ_COLUMN, pa.int64()))

    def batches() -> Iterator[pa.RecordBatch]:
        start = 0
        for batch in reader:
            seq = pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64))
            start += batch.num_rows
            yield pa.RecordBatch.from_arrays([*batch.columns, seq], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


class DuckDBLoad(Load):
    def __init__(self, con: duckdb.DuckDBPyConnection, request: LoadRequest) -> None:
        self._con = con
        self._request = request
        self._started = utcnow()
        target = request.table
        stem = f"{target.schema or DEFAULT_SCHEMA}__{target.name}__{request.load_id}".lower()
        self._staging = TableRef(stem, STAGING_SCHEMA)
        self._target = sb.table(target, DEFAULT_SCHEMA)
        self._staged = 0
        self._quarantined = 0  # staged rows moved to the DLQ by quality rules
        self._removed = 0  # staged rows folded into another of their key by a dedupe
        self._unchanged = 0  # merged rows equal to the target's: left as they are
        self._window_deleted = 0  # rows of a backfill's window replaced by a direct append
        self._open = True
        # Appends and replaces need no separate staging table: inside the transaction the
        # target itself is the staging area, and a rollback undoes it. Saves a full copy.
        self._direct = request.write in ("append", "replace") and not request.separate_staging
        self._run("BEGIN TRANSACTION")

    # -- the three steps -------------------------------------------------------------------

    def stage(self, reader: pa.RecordBatchReader) -> int:
        self._apply_schema_changes()
        view = f"__sluiceway_batches_{self._request.load_id.lower()}"
        if not self._direct:
            reader = _numbered(reader)
        self._con.register(view, reader)
        try:
            items = "*"
            params: dict[str, Any] = {}
            if self._request.lineage:
                items = f"*, $load_id AS {quote_identifier(LOAD_ID_COLUMN)}"
                params["load_id"] = self._request.load_id
            source = f"SELECT {items} FROM {quote_identifier(view)}"
            if self._direct:
                names = list(reader.schema.names)
                if self._request.lineage:
                    names.append(LOAD_ID_COLUMN)
                self._staged = self._write_target(source, params, names)
            else:
                staging = sb.table(self._staging, DEFAULT_SCHEMA).sql(DIALECT)
                self._staged = self._count(f"CREATE TABLE {staging} AS {source}", params)
        finally:
            self._unregister(view)
        return self._staged

    def _apply_schema_changes(self) -> None:
        """The contract's DDL, inside the load's transaction: it commits with the rows."""
        if not self._request.schema_changes or not self._exists(self._request.table):
            return
        for change in self._request.schema_changes:
            self._execute(_ddl(self._target, change))

    def _write_target(self, source: str, params: dict[str, Any], names: list[str]) -> int:
        """Append or replace straight into the target (still inside the transaction).

        A replace keeps the table (and the schema the contract evolved) and swaps its rows.
        """
        target = self._target.sql(DIALECT)
        if not self._exists(self._request.table):
            return self._count(f"CREATE TABLE {target} AS {source}", params)
        if self._request.write == "replace":
            self._execute(sb.delete_all(self._target))
        self._window_deleted = self._changes().clear_window()
        columns = ", ".join(quote_identifier(c) for c in names)
        return self._count(f"INSERT INTO {target} ({columns}) SELECT * FROM ({source})", params)

    def commit(self, rejects: Sequence[Reject], verify: Verify | None = None) -> LoadResult:
        if self._direct:
            return self._finish(
                rejects,
                _Counts(inserted=self._staged, rejected=len(rejects), deleted=self._window_deleted),
                verify=verify,
            )
        request = self._request
        staging = sb.table(self._staging, DEFAULT_SCHEMA)
        types = {c: t for c, t in self._types(self._staging).items() if c != SEQ_COLUMN}
        columns = list(types)
        exists = self._exists(request.table)
        changes = self._changes()
        changes.check_columns(columns)
        counts = _Counts(rejected=len(rejects) + self._quarantined, merged=self._removed)
        if request.write in ("merge", "scd2"):
            # A truncate (a key-less change row) goes first: it drops the changes before it.
            scd2 = request.scd2
            close = (scd2.valid_to, scd2.is_current) if scd2 is not None else None
            counts.deleted = changes.truncate(staging.sql(DIALECT), exists=exists, close=close)
            self._reject_null_keys(first_seq=len(rejects) + self._quarantined)
            counts.rejected = len(rejects) + self._quarantined  # with the NULL keys
        if request.write == "scd2":
            assert request.scd2 is not None
            history = Scd2(changes, request.scd2, table=self._aux, columns=self._aux_columns)
            done = history.apply(staging.sql(DIALECT), types, exists=exists)
            counts.inserted, counts.closed = done.inserted, done.closed
            counts.deleted += done.deleted
            counts.marks = done.marks
            counts.merged += done.merged
            self._unchanged = done.unchanged
            self._execute(sb.drop_table(staging))
            return self._finish(rejects, counts, verify=verify)
        if not exists:
            self._execute(
                sb.create_table_as(self._target, sb.select_columns(staging, columns), empty=True)
            )
        elif request.write == "replace":
            self._execute(sb.delete_all(self._target))
        if request.write == "merge":
            self._merge(changes, columns, counts, exists=exists)
        else:
            if request.write == "insert_overwrite":
                counts.partitions, counts.deleted = changes.overwrite_partitions(
                    staging.sql(DIALECT), types
                )
            if exists:
                counts.deleted += changes.clear_window()
            counts.inserted = self._count_expr(sb.insert_columns(self._target, staging, columns))
        self._execute(sb.drop_table(staging))
        return self._finish(rejects, counts, verify=verify)

    def _merge(
        self, changes: Changes, columns: Sequence[str], counts: _Counts, *, exists: bool
    ) -> None:
        """Upsert the last staged row per key; apply truncates, deletions and snapshots."""
        request = self._request
        staging = sb.table(self._staging, DEFAULT_SCHEMA)
        changes.ensure_deleted_at()
        before = self._row_count(staging)
        latest = sb.table(TableRef(f"{self._staging.name}__latest", STAGING_SCHEMA), DEFAULT_SCHEMA)
        self._execute(
            sb.create_table_as(
                latest, sb.last_row_per_key(staging, request.primary_key, sb.column(SEQ_COLUMN))
            )
        )
        counts.merged += before - self._row_count(latest)
        latest_sql = latest.sql(DIALECT)
        if exists:
            changes.fill_unchanged(latest_sql, columns)
        counts.deleted += changes.delete_missing(latest_sql, exists=exists)
        counts.marks, deleted = changes.apply_deletes(latest_sql, exists=exists)
        counts.deleted += deleted
        self._unchanged = self._drop_unchanged(latest, columns, changes) if exists else 0
        counts.updated = self._count_expr(
            sb.delete_matching(self._target, latest, request.primary_key)
        )
        written = self._count_expr(sb.insert_columns(self._target, latest, columns))
        counts.inserted = written - counts.updated
        self._execute(sb.drop_table(latest))

    def _changes(self) -> Changes:
        return Changes(
            self._count, self._request, target=self._target.sql(DIALECT), now=self._started
        )

    def _aux(self, suffix: str) -> str:
        """A helper table of this load in the staging schema, as SQL."""
        ref = TableRef(f"{self._staging.name}__{suffix}", STAGING_SCHEMA)
        return sb.table(ref, DEFAULT_SCHEMA).sql(DIALECT)

    def _aux_columns(self, suffix: str) -> list[str]:
        """The columns of the target (``target``) or of a helper table."""
        if suffix == "target":
            return self._columns(self._request.table)
        return self._columns(TableRef(f"{self._staging.name}__{suffix}", STAGING_SCHEMA))

    def _finish(
        self, rejects: Sequence[Reject], counts: _Counts, *, verify: Verify | None = None
    ) -> LoadResult:
        """DLQ rows, checks on the result, the load record, then COMMIT: all or nothing."""
        finished = utcnow()
        if rejects:
            self._insert_rejects(rejects, first_seq=0, at=finished)
        result = LoadResult(
            load_id=self._request.load_id,
            table=self._request.table,
            rows_staged=self._staged,
            rows_inserted=counts.inserted,
            rows_updated=counts.updated,
            rows_rejected=counts.rejected,
            started_at=self._started,
            finished_at=finished,
            rows_merged=counts.merged,
            rows_unchanged=self._unchanged,
            rows_deleted=counts.deleted,
            delete_marks=counts.marks,
            versions_closed=counts.closed,
            partitions=counts.partitions,
        )
        if verify is not None and self._exists(self._request.table):
            verify(self._relation(self._target), result)
        if self._request.replays:
            self._mark_replayed(finished)
        if self.state_updates:
            self._write_state(finished)
        self._record(result)
        self._run("COMMIT")
        self._open = False
        self._con.close()
        return result

    def rollback(self) -> None:
        if not self._open:
            return
        self._open = False
        # The connection may already be gone; nothing was committed either way.
        with contextlib.suppress(duckdb.Error):
            self._con.execute("ROLLBACK")
        with contextlib.suppress(duckdb.Error):
            self._con.close()

    # -- what quality rules need ------------------------------------------------------------

    def staged(self) -> Relation:
        if self._direct:
            raise WarehouseError(
                "this load writes straight into the target; set separate_staging to check rows"
            )
        relation = self._relation(sb.table(self._staging, DEFAULT_SCHEMA))
        return Relation(
            runner=relation.runner,
            table=relation.table,
            order=sb.column(SEQ_COLUMN),
            hidden=relation.hidden | {SEQ_COLUMN},
        )

    def _relation(self, table: exp.Table) -> Relation:
        aliased = table.copy()
        alias = exp.TableAlias(this=exp.to_identifier(self._request.table.name, quoted=True))
        aliased.set("alias", alias)
        return Relation(
            runner=DuckDBRunner(self._con),
            table=aliased,
            hidden=frozenset({LOAD_ID_COLUMN, SOURCE_COLUMN}),
        )

    def keep_only(self, query: Any) -> int:
        staging = sb.table(self._staging, DEFAULT_SCHEMA)
        kept = TableRef(f"{self._staging.name}__kept", STAGING_SCHEMA)
        kept_table = sb.table(kept, DEFAULT_SCHEMA)
        before = self._row_count(staging)
        self._execute(sb.create_table_as(kept_table, query))
        self._execute(sb.delete_all(staging))
        self._execute(exp.insert(exp.select(exp.Star()).from_(kept_table.copy()), staging.copy()))
        self._execute(sb.drop_table(kept_table))
        removed = before - self._row_count(staging)
        self._removed += removed
        return removed

    def quarantine(self, rejections: Sequence[RowRejection], *, first_seq: int) -> dict[str, int]:
        """Flag rows once (a projection: conditions may use windows), copy them, delete them."""
        if not rejections:
            return {}
        staging = sb.table(self._staging, DEFAULT_SCHEMA)
        flags = TableRef(f"{self._staging.name}__flags", STAGING_SCHEMA)
        flags_table = sb.table(flags, DEFAULT_SCHEMA)
        names = [f"__q{i}" for i in range(len(rejections))]
        aliased = self._relation(staging).table
        projection = exp.select(
            sb.column(SEQ_COLUMN),
            *[
                exp.alias_(exp.func("COALESCE", exp.paren(r.condition.copy()), exp.false()), n)
                for r, n in zip(rejections, names, strict=True)
            ],
        ).from_(aliased)
        flagged = (
            exp.select(exp.Star())
            .from_(projection.subquery("f"))
            .where(exp.or_(*[exp.column(n) for n in names]))
        )
        self._execute(sb.create_table_as(flags_table, flagged))
        counts = self._first_rule_counts(flags_table, names, rejections)
        self._insert_quarantined(staging, flags_table, names, rejections, first_seq)
        self._run(
            f"DELETE FROM {staging.sql(DIALECT)} WHERE {quote_identifier(SEQ_COLUMN)} IN "
            f"(SELECT {quote_identifier(SEQ_COLUMN)} FROM {flags_table.sql(DIALECT)})"
        )
        self._execute(sb.drop_table(flags_table))
        self._quarantined += sum(counts.values())
        return counts

    def _first_rule_counts(
        self, flags: exp.Table, names: list[str], rejections: Sequence[RowRejection]
    ) -> dict[str, int]:
        """Rows per rule, each row counted under the first rule it fails."""
        counts: dict[str, int] = {}
        for index, rejection in enumerate(rejections):
            earlier = [exp.column(n) for n in names[:index]]
            first: exp.Expr = exp.column(names[index])
            if earlier:
                first = exp.and_(first, exp.not_(exp.or_(*earlier)))
            query = exp.select(exp.CountIf(this=first)).from_(flags.copy())
            key = rejection.rule or rejection.error_class
            counts[key] = counts.get(key, 0) + self._count_expr(query)
        return counts

    def _insert_quarantined(
        self,
        staging: exp.Table,
        flags: exp.Table,
        names: list[str],
        rejections: Sequence[RowRejection],
        first_seq: int,
    ) -> None:
        data = [
            c
            for c in self._columns(self._staging)
            if c not in (SEQ_COLUMN, LOAD_ID_COLUMN, SOURCE_COLUMN)
        ]
        raw = ", ".join(
            f"{exp.Literal.string(c).sql(DIALECT)}, s.{quote_identifier(c)}" for c in data
        )
        params: dict[str, Any] = {}
        cases: dict[str, str] = {}
        for prefix, values in (
            ("e", [r.error_class for r in rejections]),
            ("r", [r.rule for r in rejections]),
            ("m", [r.message for r in rejections]),
            ("c", [r.column for r in rejections]),
        ):
            whens = []
            for index, (name, value) in enumerate(zip(names, values, strict=True)):
                params[f"{prefix}{index}"] = value
                whens.append(f"WHEN f.{quote_identifier(name)} THEN ${prefix}{index}")
            cases[prefix] = f"CASE {' '.join(whens)} END"
        class_case, rule_case = cases["e"], cases["r"]
        message_case, column_case = cases["m"], cases["c"]
        request = self._request
        params.update(
            load_id=request.load_id,
            first_seq=first_seq,
            run_id=request.run_id,
            pipeline=request.pipeline,
            source=request.source,
            table_name=str(request.table),
            now=utcnow(),
        )
        seq = quote_identifier(SEQ_COLUMN)
        columns = (
            "load_id, seq, run_id, pipeline, source, table_name, error_class, rule, message, "
            "file, line, column_name, raw, status, first_seen_at, attempts"
        )
        self._run_params(
            f"INSERT INTO {sb.table(DLQ_TABLE, DEFAULT_SCHEMA).sql(DIALECT)} ({columns}) "
            f"SELECT $load_id, $first_seq + row_number() OVER (ORDER BY s.{seq}) - 1, $run_id, "
            f"$pipeline, $source, $table_name, {class_case}, {rule_case}, {message_case}, "
            f"{self._source_column('s')}, NULL, {column_case}, json_object({raw})::VARCHAR, "
            f"'open', $now, 0 FROM {staging.sql(DIALECT)} AS s "
            f"JOIN {flags.sql(DIALECT)} AS f ON s.{seq} = f.{seq}",
            params,
        )

    def _row_count(self, table: exp.Table) -> int:
        return self._count_expr(exp.select(exp.Count(this=exp.Star())).from_(table.copy()))

    # -- pieces ----------------------------------------------------------------------------

    def _reject_null_keys(self, *, first_seq: int) -> None:
        """Rows whose key is NULL cannot be merged: an error, or the DLQ with the row as JSON."""
        keys = self._request.primary_key
        key_list = ", ".join(keys)
        if self._request.on_bad_rows == "dlq":
            message = f"primary key ({key_list}) is NULL; a merge needs every key column"
            rejection = RowRejection(
                None, message, key_list, sb.any_null(keys), error_class="null_primary_key"
            )
            self.quarantine([rejection], first_seq=first_seq)
            return
        staging = sb.table(self._staging, DEFAULT_SCHEMA)
        nulls = self._count_expr(
            exp.select(exp.Count(this=exp.Star())).from_(staging).where(sb.any_null(keys))
        )
        if nulls:
            raise DataError(
                f"{nulls} row(s) have a NULL primary key ({key_list}); a merge needs every "
                "key column",
                location=Location(table=str(self._request.table)),
                hint="Fix the input, or set `on_bad_rows: dlq` to load the other rows and "
                "keep these in the dead-letter queue.",
            )

    def _source_column(self, alias: str) -> str:
        if SOURCE_COLUMN in self._columns(self._staging):
            return f"{alias}.{quote_identifier(SOURCE_COLUMN)}"
        return "NULL"

    def _insert_rejects(self, rejects: Sequence[Reject], *, first_seq: int, at: Any) -> None:
        request = self._request
        rows = dlq_rows(
            rejects,
            load_id=request.load_id,
            run_id=request.run_id,
            pipeline=request.pipeline,
            table=request.table,
            first_seq=first_seq,
            created_at=at,
        )
        self._insert_arrow(DLQ_TABLE, rows)

    def _record(self, result: LoadResult) -> None:
        # Bound parameters, not a one-row Arrow table: building Arrow arrays from Python values
        # makes pyarrow import pandas when it is installed (half a second per process).
        request = self._request
        values = {
            "load_id": request.load_id,
            "run_id": request.run_id,
            "pipeline": request.pipeline,
            "source": request.source,
            "table_name": str(request.table),
            "write_disposition": request.write,
            "rows_staged": result.rows_staged,
            "rows_inserted": result.rows_inserted,
            "rows_updated": result.rows_updated,
            "rows_rejected": result.rows_rejected,
            "rows_deleted": result.rows_deleted,
            "status": "committed",
            "started_at": result.started_at,
            "finished_at": result.finished_at,
        }
        columns = ", ".join(quote_identifier(c) for c in values)
        placeholders = ", ".join(f"${c}" for c in values)
        target = sb.table(LOADS_TABLE, DEFAULT_SCHEMA).sql(DIALECT)
        self._count(f"INSERT INTO {target} ({columns}) VALUES ({placeholders})", values)

    def _drop_unchanged(self, latest: exp.Table, columns: Sequence[str], changes: Changes) -> int:
        """Take out of a merge the rows equal to the target's row of their key: they are not
        rewritten. Every data column compares NULL-safely; the lineage columns (which differ per
        load) do not count. Returns how many rows were unchanged.

        The target's rows for the merged keys are copied first (a join on the key alone), so
        the column-by-column comparison reads those rows, not every column of the whole table.
        """
        keys = self._request.primary_key
        compared = [c for c in columns if c not in (LOAD_ID_COLUMN, SOURCE_COLUMN)]
        current = sb.table(
            TableRef(f"{self._staging.name}__current", STAGING_SCHEMA), DEFAULT_SCHEMA
        )
        target = self._target.copy()
        target.set("alias", exp.TableAlias(this=exp.to_identifier("t")))
        aliased = latest.copy()
        aliased.set("alias", exp.TableAlias(this=exp.to_identifier("s")))
        held = exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(aliased)
            .where(sb.key_match(keys, "s", "t"))
        )
        self._execute(
            sb.create_table_as(
                current,
                exp.select(*[sb.column(c, "t") for c in compared])
                .from_(target)
                .where(exp.and_(held, exp.condition(changes.live("t")))),
            )
        )
        same = [
            exp.NullSafeEQ(this=sb.column(c, "s"), expression=sb.column(c, "t")) for c in compared
        ]
        found = current.copy()
        found.set("alias", exp.TableAlias(this=exp.to_identifier("t")))
        match = exp.Exists(
            this=exp.select(exp.Literal.number(1))
            .from_(found)
            .where(exp.and_(sb.key_match(keys, "s", "t"), *same))
        )
        unchanged = self._count_expr(exp.delete(aliased.copy(), where=match))
        self._execute(sb.drop_table(current))
        return unchanged

    def _write_state(self, at: datetime) -> None:
        """The source's new state values, replacing the old ones, inside the transaction."""
        request = self._request
        state = sb.table(STATE_TABLE, DEFAULT_SCHEMA).sql(DIALECT)
        for name, value in self.state_updates.items():
            params = {"pipeline": request.pipeline, "source": request.source, "name": name}
            self._run_params(
                f"DELETE FROM {state} WHERE pipeline = $pipeline AND source = $source "
                "AND name = $name",
                params,
            )
            self._run_params(
                f"INSERT INTO {state} (pipeline, source, name, value, load_id, run_id, "
                "updated_at) VALUES ($pipeline, $source, $name, $value, $load, $run, $at)",
                {
                    **params,
                    "value": value,
                    "load": request.load_id,
                    "run": request.run_id,
                    "at": at,
                },
            )

    def _mark_replayed(self, at: datetime) -> None:
        """The dead-letter rows this load replays: ``replayed`` by it, one attempt more.

        Only rows still open are taken; if another replay took one first, this load fails
        (and rolls back) rather than load a row twice.
        """
        refs = self._request.replays
        view = f"__sluiceway_replays_{self._request.load_id.lower()}"
        self._con.register(
            view,
            pa.table(
                {
                    "load_id": pa.array([r[0] for r in refs], pa.string()),
                    "seq": pa.array([r[1] for r in refs], pa.int64()),
                }
            ),
        )
        try:
            dlq = sb.table(DLQ_TABLE, DEFAULT_SCHEMA).sql(DIALECT)
            taken = self._count(
                f"UPDATE {dlq} AS d SET status = 'replayed', replayed_by = $load, "
                "attempts = coalesce(d.attempts, 0) + 1, last_attempt_at = $at "
                f"FROM {quote_identifier(view)} AS r "
                "WHERE d.load_id = r.load_id AND d.seq = r.seq AND d.status = 'open'",
                {"load": self._request.load_id, "at": at},
            )
        finally:
            self._unregister(view)
        if taken != len(refs):
            raise DataError(
                f"{len(refs) - taken} of the {len(refs)} dead-letter rows this replay read were "
                "replayed or purged by someone else meanwhile; nothing was loaded",
                hint="Run the replay again: it takes the rows that are still open.",
            )

    def _insert_arrow(self, target: TableRef, rows: pa.Table) -> None:
        view = f"__sluiceway_rows_{self._request.load_id.lower()}"
        self._con.register(view, rows)
        try:
            columns = ", ".join(quote_identifier(c) for c in rows.column_names)
            self._run(
                f"INSERT INTO {sb.table(target, DEFAULT_SCHEMA).sql(DIALECT)} ({columns}) "
                f"SELECT {columns} FROM {quote_identifier(view)}"
            )
        finally:
            self._unregister(view)

    def _unregister(self, view: str) -> None:
        # In an aborted transaction DuckDB refuses even this; the rollback that follows drops
        # the registration with the connection's state.
        with contextlib.suppress(duckdb.Error):
            self._con.unregister(view)

    def _columns(self, ref: TableRef) -> list[str]:
        rows = self._con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = $schema AND table_name = $name ORDER BY ordinal_position",
            {"schema": ref.schema or DEFAULT_SCHEMA, "name": ref.name},
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _types(self, ref: TableRef) -> dict[str, str]:
        rows = self._con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = $schema AND table_name = $name ORDER BY ordinal_position",
            {"schema": ref.schema or DEFAULT_SCHEMA, "name": ref.name},
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def _exists(self, ref: TableRef) -> bool:
        rows = self._con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE lower(table_schema) = lower($schema) AND lower(table_name) = lower($name)",
            {"schema": ref.schema or DEFAULT_SCHEMA, "name": ref.name},
        ).fetchall()
        return bool(rows[0][0])

    def _execute(self, statement: exp.Expr) -> None:
        self._run(statement.sql(DIALECT))

    def _count_expr(self, statement: exp.Expr) -> int:
        return self._count(statement.sql(DIALECT), {})

    def _count(self, sql: str, params: dict[str, Any]) -> int:
        try:
            rows = self._con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise self._translate(exc) from exc
        return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0

    def _run_params(self, sql: str, params: dict[str, Any]) -> None:
        try:
            self._con.execute(sql, params)
        except duckdb.Error as exc:
            raise self._translate(exc) from exc

    def _run(self, sql: str) -> None:
        try:
            self._con.execute(sql)
        except duckdb.Error as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: duckdb.Error) -> SluicewayError:
        if isinstance(exc, duckdb.InterruptException):
            return WarehouseError(f"loading {self._request.table} was interrupted")
        return translate_load(exc, str(self._request.table))


@dataclass
class _Counts:
    """What a commit did to the table, gathered as it goes."""

    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    merged: int = 0
    deleted: int = 0
    marks: int = 0
    closed: int = 0
    partitions: int = 0


def _ddl(target: exp.Table, change: SchemaChange) -> exp.Expr:
    if isinstance(change, AddColumn):
        # An unresolved column (only NULLs so far) is stored as text until a value arrives.
        type_ = "VARCHAR" if change.column.type is None else sql_type(change.column.type)
        return sb.add_column(target, change.column.name, type_)
    if isinstance(change, SetColumnType):
        return sb.set_column_type(target, change.name, sql_type(change.type))
    if isinstance(change, RenameColumn):
        return sb.rename_column(target, change.old, change.new)
    return sb.drop_not_null(target, change.name)
