"""A load that stages rows, then merges them into the target in one transaction.

The orchestration every SQL warehouse shares: what a commit does for each write disposition
(append, replace, merge, scd2, insert_overwrite), deletions and snapshots, the dead-letter queue,
quarantines, state and the load record. Its SQL is written once, in DuckDB's dialect; a warehouse
subclass supplies the primitives (run a statement, stage batches, expose Arrow rows to SQL,
commit, roll back) and compiles that SQL to its own dialect on the way
(:func:`sluiceway.core.sql_compile.compile_sql`).

Appends and replaces may write straight into the target inside the transaction; merges (and
loads whose staged rows must be inspected first) stage into a table in ``_sluiceway_staging``,
also inside it, so no one else ever sees staged rows and a rollback, or a killed process,
removes them with everything else.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from sqlglot import exp

from sluiceway.core.clock import utcnow
from sluiceway.core.errors import DataError, Location, WarehouseError
from sluiceway.core.names import LOAD_ID_COLUMN, SOURCE_COLUMN, TableRef
from sluiceway.core.rejects import Reject, RowRejection
from sluiceway.core.sql_quoting import quote_identifier
from sluiceway.core.sql_types import sql_type
from sluiceway.quality.sql import SqlRunner
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
from sluiceway.warehouses.changes import Changes
from sluiceway.warehouses.scd2 import Scd2

SQL_DIALECT = "duckdb"  # the dialect load SQL is written in
# The arrival order of staged rows, numbered as they stream in: "the last row for a key wins"
# must not depend on the order a parallel insert happens to store them in.
SEQ_COLUMN = "__sluiceway_seq"


def numbered(reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """``reader`` with :data:`SEQ_COLUMN` appended: each row's arrival number."""
    schema = reader.schema.append(pa.field(SEQ_COLUMN, pa.int64()))

    def batches() -> Iterator[pa.RecordBatch]:
        start = 0
        for batch in reader:
            seq = pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64))
            start += batch.num_rows
            yield pa.RecordBatch.from_arrays([*batch.columns, seq], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


class StagedLoad(Load):
    """One load in one open transaction; subclasses provide the primitives at the end."""

    default_schema: str

    def __init__(self, request: LoadRequest) -> None:
        self._request = request
        self._started = utcnow()
        target = request.table
        # Short enough for PostgreSQL's 63-byte names with a helper table's suffix: the
        # load id makes it unique, the table's name (cut) makes it recognisable.
        label = f"{target.schema or self.default_schema}__{target.name}"[:24]
        self._staging = TableRef(f"{label}__{request.load_id}".lower(), STAGING_SCHEMA)
        self._target = sb.table(target, self.default_schema)
        self._staged = 0
        self._quarantined = 0  # staged rows moved to the DLQ by quality rules
        self._removed = 0  # staged rows folded into another of their key by a dedupe
        self._unchanged = 0  # merged rows equal to the target's: left as they are
        self._window_deleted = 0  # rows of a backfill's window replaced by a direct append
        self._open = True
        self.notes: list[str] = []  # what this load did on the way, for the run report
        # Appends and replaces need no separate staging table: inside the transaction the
        # target itself is the staging area, and a rollback undoes it. Saves a full copy.
        self._direct = request.write in ("append", "replace") and not request.separate_staging

    # -- the primitives a warehouse provides -------------------------------------------------

    @abstractmethod
    def stage(self, reader: pa.RecordBatchReader) -> int:
        """Write the batches: into the target (``self._direct``) or into ``self._staging``
        with :data:`SEQ_COLUMN` (see :func:`numbered`), after :meth:`_apply_schema_changes`."""

    @abstractmethod
    def _count(self, sql: str, params: dict[str, Any]) -> int:
        """Run one DuckDB-dialect statement (``$name`` parameters); the first value of its
        first row, or the rows it changed."""

    @abstractmethod
    def _fetch(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run one DuckDB-dialect query; its rows."""

    @abstractmethod
    def _rows_view(self, rows: pa.Table) -> AbstractContextManager[str]:
        """Make ``rows`` readable by SQL in this transaction; yields the name to select from."""

    @abstractmethod
    def _runner(self) -> SqlRunner:
        """A runner of sqlglot expressions inside this load's transaction."""

    @abstractmethod
    def _commit_transaction(self) -> None: ...

    @abstractmethod
    def _abort(self) -> None:
        """Roll the transaction back and let the connection go; never raises."""

    def _before_finish(self) -> None:
        """Called once the rows are in the target, before checks, the record and COMMIT."""

    def _create_target(self, staging: exp.Table, columns: list[str]) -> None:
        """Create the target, empty, with the staged columns' types."""
        self._execute(
            sb.create_table_as(self._target, sb.select_columns(staging, columns), empty=True)
        )

    def _run(self, sql: str) -> None:
        self._count(sql, {})

    def _run_params(self, sql: str, params: dict[str, Any]) -> None:
        self._count(sql, params)

    def rollback(self) -> None:
        if not self._open:
            return
        self._open = False
        self._abort()

    # -- the three steps -------------------------------------------------------------------

    def _apply_schema_changes(self) -> None:
        """The contract's DDL, inside the load's transaction: it commits with the rows."""
        if not self._request.schema_changes or not self._exists(self._request.table):
            return
        for change in self._request.schema_changes:
            self._execute(_ddl(self._target, change))

    def commit(self, rejects: Sequence[Reject], verify: Verify | None = None) -> LoadResult:
        if self._direct:
            return self._finish(
                rejects,
                _Counts(inserted=self._staged, rejected=len(rejects), deleted=self._window_deleted),
                verify=verify,
            )
        request = self._request
        staging = sb.table(self._staging, self.default_schema)
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
            counts.deleted = changes.truncate(staging.sql(SQL_DIALECT), exists=exists, close=close)
            self._reject_null_keys(first_seq=len(rejects) + self._quarantined)
            counts.rejected = len(rejects) + self._quarantined  # with the NULL keys
        if request.write == "scd2":
            assert request.scd2 is not None
            history = Scd2(changes, request.scd2, table=self._aux, columns=self._aux_columns)
            done = history.apply(staging.sql(SQL_DIALECT), types, exists=exists)
            counts.inserted, counts.closed = done.inserted, done.closed
            counts.deleted += done.deleted
            counts.marks = done.marks
            counts.merged += done.merged
            self._unchanged = done.unchanged
            self._execute(sb.drop_table(staging))
            return self._finish(rejects, counts, verify=verify)
        if not exists:
            self._create_target(staging, columns)
        elif request.write == "replace":
            self._execute(sb.delete_all(self._target))
        if request.write == "merge":
            self._merge(changes, columns, counts, exists=exists)
        else:
            if request.write == "insert_overwrite":
                counts.partitions, counts.deleted = changes.overwrite_partitions(
                    staging.sql(SQL_DIALECT), types
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
        staging = sb.table(self._staging, self.default_schema)
        changes.ensure_deleted_at()
        before = self._row_count(staging)
        latest = sb.table(
            TableRef(f"{self._staging.name}__latest", STAGING_SCHEMA), self.default_schema
        )
        self._execute(
            sb.create_table_as(
                latest, sb.last_row_per_key(staging, request.primary_key, sb.column(SEQ_COLUMN))
            )
        )
        counts.merged += before - self._row_count(latest)
        latest_sql = latest.sql(SQL_DIALECT)
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
            self._count, self._request, target=self._target.sql(SQL_DIALECT), now=self._started
        )

    def _aux(self, suffix: str) -> str:
        """A helper table of this load in the staging schema, as SQL."""
        ref = TableRef(f"{self._staging.name}__{suffix}", STAGING_SCHEMA)
        return sb.table(ref, self.default_schema).sql(SQL_DIALECT)

    def _aux_columns(self, suffix: str) -> list[str]:
        """The columns of the target (``target``) or of a helper table."""
        if suffix == "target":
            return self._columns(self._request.table)
        return self._columns(TableRef(f"{self._staging.name}__{suffix}", STAGING_SCHEMA))

    def _finish(
        self, rejects: Sequence[Reject], counts: _Counts, *, verify: Verify | None = None
    ) -> LoadResult:
        """DLQ rows, checks on the result, the load record, then COMMIT: all or nothing."""
        self._before_finish()
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
            notes=tuple(self.notes),
        )
        if verify is not None and self._exists(self._request.table):
            verify(self._relation(self._target), result)
        if self._request.replays:
            self._mark_replayed(finished)
        if self.state_updates:
            self._write_state(finished)
        self._record(result)
        self._commit_transaction()
        self._open = False
        return result

    # -- what quality rules need ------------------------------------------------------------

    def staged(self) -> Relation:
        if self._direct:
            raise WarehouseError(
                "this load writes straight into the target; set separate_staging to check rows"
            )
        relation = self._relation(sb.table(self._staging, self.default_schema))
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
            runner=self._runner(),
            table=aliased,
            hidden=frozenset({LOAD_ID_COLUMN, SOURCE_COLUMN}),
        )

    def keep_only(self, query: Any) -> int:
        staging = sb.table(self._staging, self.default_schema)
        kept = TableRef(f"{self._staging.name}__kept", STAGING_SCHEMA)
        kept_table = sb.table(kept, self.default_schema)
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
        staging = sb.table(self._staging, self.default_schema)
        flags = TableRef(f"{self._staging.name}__flags", STAGING_SCHEMA)
        flags_table = sb.table(flags, self.default_schema)
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
            f"DELETE FROM {staging.sql(SQL_DIALECT)} WHERE {quote_identifier(SEQ_COLUMN)} IN "
            f"(SELECT {quote_identifier(SEQ_COLUMN)} FROM {flags_table.sql(SQL_DIALECT)})"
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
            f"{exp.Literal.string(c).sql(SQL_DIALECT)}, s.{quote_identifier(c)}" for c in data
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
            f"INSERT INTO {sb.table(DLQ_TABLE, self.default_schema).sql(SQL_DIALECT)} ({columns}) "
            f"SELECT $load_id, $first_seq + row_number() OVER (ORDER BY s.{seq}) - 1, $run_id, "
            f"$pipeline, $source, $table_name, {class_case}, {rule_case}, {message_case}, "
            f"{self._source_column('s')}, NULL, {column_case}, json_object({raw})::VARCHAR, "
            f"'open', $now, 0 FROM {staging.sql(SQL_DIALECT)} AS s "
            f"JOIN {flags.sql(SQL_DIALECT)} AS f ON s.{seq} = f.{seq}",
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
        staging = sb.table(self._staging, self.default_schema)
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
        target = sb.table(LOADS_TABLE, self.default_schema).sql(SQL_DIALECT)
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
            TableRef(f"{self._staging.name}__current", STAGING_SCHEMA), self.default_schema
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
        state = sb.table(STATE_TABLE, self.default_schema).sql(SQL_DIALECT)
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
        rows = pa.table(
            {
                "load_id": pa.array([r[0] for r in refs], pa.string()),
                "seq": pa.array([r[1] for r in refs], pa.int64()),
            }
        )
        with self._rows_view(rows) as view:
            dlq = sb.table(DLQ_TABLE, self.default_schema).sql(SQL_DIALECT)
            taken = self._count(
                f"UPDATE {dlq} AS d SET status = 'replayed', replayed_by = $load, "
                "attempts = coalesce(d.attempts, 0) + 1, last_attempt_at = $at "
                f"FROM {view} AS r "
                "WHERE d.load_id = r.load_id AND d.seq = r.seq AND d.status = 'open'",
                {"load": self._request.load_id, "at": at},
            )
        if taken != len(refs):
            raise DataError(
                f"{len(refs) - taken} of the {len(refs)} dead-letter rows this replay read were "
                "replayed or purged by someone else meanwhile; nothing was loaded",
                hint="Run the replay again: it takes the rows that are still open.",
            )

    def _insert_arrow(self, target: TableRef, rows: pa.Table) -> None:
        with self._rows_view(rows) as view:
            columns = ", ".join(quote_identifier(c) for c in rows.column_names)
            self._run(
                f"INSERT INTO {sb.table(target, self.default_schema).sql(SQL_DIALECT)} "
                f"({columns}) SELECT {columns} FROM {view}"
            )

    def _columns(self, ref: TableRef) -> list[str]:
        rows = self._fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = $schema AND table_name = $name ORDER BY ordinal_position",
            {"schema": ref.schema or self.default_schema, "name": ref.name},
        )
        return [str(r[0]) for r in rows]

    def _types(self, ref: TableRef) -> dict[str, str]:
        rows = self._fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = $schema AND table_name = $name ORDER BY ordinal_position",
            {"schema": ref.schema or self.default_schema, "name": ref.name},
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def _exists(self, ref: TableRef) -> bool:
        rows = self._fetch(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE lower(table_schema) = lower($schema) AND lower(table_name) = lower($name)",
            {"schema": ref.schema or self.default_schema, "name": ref.name},
        )
        return bool(rows[0][0])

    def _execute(self, statement: exp.Expr) -> None:
        self._run(statement.sql(SQL_DIALECT))

    def _count_expr(self, statement: exp.Expr) -> int:
        return self._count(statement.sql(SQL_DIALECT), {})


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
