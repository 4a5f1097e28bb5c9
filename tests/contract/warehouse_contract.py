"""The contract every warehouse passes. A warehouse's test module subclasses
:class:`WarehouseContract` and provides the ``warehouse`` fixture (an open warehouse).

What the contract pins down: append/replace/merge semantics, "last row wins" inside a merge,
and above all atomicity — rows, rejects and the load record commit together, and a failure at
any point before commit leaves the target exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from sluiceway.core.errors import DataError, MalformedInputError, SluicewayError
from sluiceway.core.ids import new_id
from sluiceway.core.names import LOAD_ID_COLUMN, TableRef
from sluiceway.core.rejects import Reject
from sluiceway.core.sql_compile import compile_sql
from sluiceway.schema.contract import AddColumn, RenameColumn, SchemaChange, SetColumnType
from sluiceway.schema.model import ColumnSchema
from sluiceway.warehouses.base import LoadRequest, LoadResult, Warehouse, WriteDisposition

Rows = Sequence[dict[str, Any]]
# Any character but NUL, which PostgreSQL's text cannot hold (it refuses such rows; see
# test_warehouse_postgres.py).
TEXT = st.characters(exclude_characters="\x00")


def reader_of(
    rows: Rows, schema: pa.Schema | None = None, *, batch: int = 2
) -> pa.RecordBatchReader:
    table = pa.Table.from_pylist(list(rows), schema=schema)
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch))


def failing_reader(rows: Rows, *, after: int) -> pa.RecordBatchReader:
    """Yields ``after`` one-row batches, then raises as a broken source would."""
    table = pa.Table.from_pylist(list(rows))

    def batches() -> Iterator[pa.RecordBatch]:
        for index, batch in enumerate(table.to_batches(max_chunksize=1)):
            if index == after:
                raise MalformedInputError("the source broke mid-stream")
            yield batch

    return pa.RecordBatchReader.from_batches(table.schema, batches())


class WarehouseContract:
    """Subclass and override the ``warehouse`` fixture."""

    @pytest.fixture
    def warehouse(self) -> Iterator[Warehouse[Any]]:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------

    def request(
        self,
        table: str = "items",
        *,
        write: WriteDisposition = "append",
        key: tuple[str, ...] = (),
        lineage: bool = False,
        on_bad_rows: str = "fail",
        separate_staging: bool = False,
        schema_changes: tuple[SchemaChange, ...] = (),
        replays: tuple[tuple[str, int], ...] = (),
    ) -> LoadRequest:
        return LoadRequest(
            load_id=new_id(),
            run_id="run-1",
            pipeline="contract",
            source="src",
            table=TableRef.parse(table),
            write=write,
            primary_key=key,
            lineage=lineage,
            on_bad_rows=on_bad_rows,  # type: ignore[arg-type]
            separate_staging=separate_staging,
            schema_changes=schema_changes,
            replays=replays,
        )

    def load(
        self,
        warehouse: Warehouse[Any],
        rows: Rows,
        *,
        rejects: Sequence[Reject] = (),
        schema: pa.Schema | None = None,
        **request: Any,
    ) -> LoadResult:
        with warehouse.begin(self.request(**request)) as load:
            load.stage(reader_of(rows, schema))
            return load.commit(rejects)

    def rows(
        self, warehouse: Warehouse[Any], table: str, order: str = "id"
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.select(
            warehouse, f"SELECT * FROM {table} ORDER BY {order}"
        ).to_pylist()
        for row in result:
            row.pop(LOAD_ID_COLUMN, None)
        return result

    def select(
        self, warehouse: Warehouse[Any], sql: str, params: Sequence[Any] | None = None
    ) -> pa.Table:
        """Run ``sql`` written in DuckDB's dialect (``?`` placeholders) on any warehouse."""
        compiled = compile_sql(sql, warehouse.capabilities.dialect, params=bool(params))
        return warehouse.query(compiled, params)

    def count(self, warehouse: Warehouse[Any], table: str) -> int:
        return int(self.select(warehouse, f"SELECT count(*) AS n FROM {table}").to_pylist()[0]["n"])

    # -- write dispositions ----------------------------------------------------------------

    def test_append_creates_the_table_then_adds(self, warehouse: Warehouse[Any]) -> None:
        first = self.load(warehouse, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
        assert (first.rows_staged, first.rows_inserted, first.rows_updated) == (2, 2, 0)
        self.load(warehouse, [{"id": 3, "v": "c"}])
        assert self.rows(warehouse, "items") == [
            {"id": 1, "v": "a"},
            {"id": 2, "v": "b"},
            {"id": 3, "v": "c"},
        ]

    @pytest.mark.parametrize("separate_staging", [False, True])
    def test_append_through_either_staging_path(
        self, warehouse: Warehouse[Any], separate_staging: bool
    ) -> None:
        self.load(warehouse, [{"id": 1}], separate_staging=separate_staging)
        result = self.load(warehouse, [{"id": 2}, {"id": 3}], separate_staging=separate_staging)
        assert result.rows_inserted == 2
        assert self.count(warehouse, "items") == 3

    @pytest.mark.parametrize("separate_staging", [False, True])
    def test_replace_swaps_the_rows_and_keeps_the_table(
        self, warehouse: Warehouse[Any], separate_staging: bool
    ) -> None:
        self.load(warehouse, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
        new_column = AddColumn(ColumnSchema("w", pa.float64()))
        result = self.load(
            warehouse,
            [{"id": 9, "w": 1.5}],
            write="replace",
            schema_changes=(new_column,),
            separate_staging=separate_staging,
        )
        assert result.rows_inserted == 1
        # The contract decided the new column; the old one stays, NULL for the new rows.
        assert self.rows(warehouse, "items") == [{"id": 9, "v": None, "w": 1.5}]

    def test_schema_changes_apply_inside_the_load_transaction(
        self, warehouse: Warehouse[Any]
    ) -> None:
        self.load(warehouse, [{"id": 1, "phone": "555", "amount": 1}])
        changes = (
            RenameColumn("phone", "phone_number"),
            SetColumnType("amount", pa.float64()),
            AddColumn(ColumnSchema("tier", None)),
        )
        with warehouse.begin(self.request(schema_changes=changes)) as load:
            load.stage(reader_of([{"id": 2, "phone_number": "556", "amount": 2.5}]))
            load.rollback()
        untouched = warehouse.table_schema(TableRef("items"))
        assert untouched is not None
        assert untouched.names == ["id", "phone", "amount"]
        self.load(
            warehouse,
            [{"id": 2, "phone_number": "556", "amount": 2.5}],
            schema_changes=changes,
        )
        schema = warehouse.table_schema(TableRef("items"))
        assert schema is not None
        assert [(f.name, f.type) for f in schema] == [
            ("id", pa.int64()),
            ("phone_number", pa.string()),
            ("amount", pa.float64()),
            ("tier", pa.string()),  # unresolved columns are stored as text
        ]
        assert self.rows(warehouse, "items") == [
            {"id": 1, "phone_number": "555", "amount": 1.0, "tier": None},
            {"id": 2, "phone_number": "556", "amount": 2.5, "tier": None},
        ]

    def test_merge_inserts_updates_and_last_row_wins(self, warehouse: Warehouse[Any]) -> None:
        self.load(warehouse, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], write="merge", key=("id",))
        result = self.load(
            warehouse,
            [{"id": 2, "v": "b1"}, {"id": 3, "v": "c"}, {"id": 2, "v": "b2"}, {"id": 3, "v": "c2"}],
            write="merge",
            key=("id",),
        )
        assert (result.rows_staged, result.rows_inserted, result.rows_updated) == (4, 1, 1)
        assert self.rows(warehouse, "items") == [
            {"id": 1, "v": "a"},
            {"id": 2, "v": "b2"},
            {"id": 3, "v": "c2"},
        ]

    def test_merge_rewrites_only_changed_rows(self, warehouse: Warehouse[Any]) -> None:
        before: Rows = [{"id": 1, "v": "a"}, {"id": 2, "v": None}, {"id": 3, "v": "c"}]
        first = self.load(warehouse, before, write="merge", key=("id",), lineage=True)
        again: Rows = [{"id": 1, "v": "a"}, {"id": 2, "v": None}, {"id": 3, "v": "c3"}]
        second = self.load(warehouse, again, write="merge", key=("id",), lineage=True)

        assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (0, 1, 2)
        owners = self.select(
            warehouse, f"SELECT id, {LOAD_ID_COLUMN} AS load FROM items ORDER BY id"
        ).to_pylist()
        # Lineage says which load last changed a row: unchanged rows keep the first load's id.
        assert [r["load"] for r in owners] == [first.load_id, first.load_id, second.load_id]
        assert self.rows(warehouse, "items") == again

    def test_merge_on_a_composite_key(self, warehouse: Warehouse[Any]) -> None:
        key = ("region", "id")
        self.load(
            warehouse,
            [{"region": "eu", "id": 1, "v": 1}, {"region": "us", "id": 1, "v": 2}],
            write="merge",
            key=key,
        )
        self.load(warehouse, [{"region": "us", "id": 1, "v": 20}], write="merge", key=key)
        assert self.rows(warehouse, "items", order="region") == [
            {"region": "eu", "id": 1, "v": 1},
            {"region": "us", "id": 1, "v": 20},
        ]

    def test_merge_with_null_keys_fails_by_default(self, warehouse: Warehouse[Any]) -> None:
        self.load(warehouse, [{"id": 1, "v": "a"}], write="merge", key=("id",))
        rows: list[dict[str, Any]] = [{"id": None, "v": "x"}, {"id": 1, "v": "b"}]
        with pytest.raises(DataError, match="NULL primary key"):
            self.load(warehouse, rows, write="merge", key=("id",))
        assert self.rows(warehouse, "items") == [{"id": 1, "v": "a"}]

    def test_merge_with_null_keys_sends_them_to_the_dlq(self, warehouse: Warehouse[Any]) -> None:
        result = self.load(
            warehouse,
            [{"id": None, "v": "x"}, {"id": 1, "v": "b"}],
            write="merge",
            key=("id",),
            on_bad_rows="dlq",
        )
        assert (result.rows_inserted, result.rows_rejected) == (1, 1)
        dlq = self.select(
            warehouse,
            "SELECT error_class, raw FROM _sluiceway.dlq WHERE load_id = ?",
            [result.load_id],
        ).to_pylist()
        assert len(dlq) == 1
        assert dlq[0]["error_class"] == "null_primary_key"
        assert '"x"' in dlq[0]["raw"]

    # -- atomicity -------------------------------------------------------------------------

    @pytest.mark.parametrize("write", ["append", "replace", "merge"])
    def test_a_source_failing_mid_stage_leaves_the_target_unchanged(
        self, warehouse: Warehouse[Any], write: WriteDisposition
    ) -> None:
        before = [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]
        self.load(warehouse, before, write="merge", key=("id",))
        incoming = [{"id": i, "v": f"new{i}"} for i in range(2, 8)]
        with warehouse.begin(self.request(write=write, key=("id",))) as load:
            with pytest.raises(SluicewayError):
                load.stage(failing_reader(incoming, after=3))
            load.rollback()
        assert self.rows(warehouse, "items") == before
        assert self.count(warehouse, "_sluiceway.loads") == 1

    def test_an_error_after_staging_rolls_everything_back(self, warehouse: Warehouse[Any]) -> None:
        self.load(warehouse, [{"id": 1}])

        def check_fails_after_staging() -> None:
            with warehouse.begin(self.request()) as load:
                load.stage(reader_of([{"id": 2}, {"id": 3}]))
                raise RuntimeError("a check failed before commit")

        with pytest.raises(RuntimeError):
            check_fails_after_staging()
        assert self.count(warehouse, "items") == 1
        assert self.count(warehouse, "_sluiceway.loads") == 1

    def test_rejects_and_the_load_record_commit_with_the_rows(
        self, warehouse: Warehouse[Any]
    ) -> None:
        rejects = [
            Reject("src", "malformed", "too many fields", file="a.csv", line=7, raw="1,2,3"),
            Reject("src", "type_mismatch", "bad int", file="a.csv", column="id", raw="x"),
        ]
        result = self.load(warehouse, [{"id": 1}], rejects=rejects)
        assert result.rows_rejected == 2
        dlq = self.select(
            warehouse,
            "SELECT seq, error_class, file, line, column_name, raw, status, attempts "
            "FROM _sluiceway.dlq "
            "WHERE load_id = ? ORDER BY seq",
            [result.load_id],
        ).to_pylist()
        assert dlq == [
            {
                "seq": 0,
                "error_class": "malformed",
                "file": "a.csv",
                "line": 7,
                "column_name": None,
                "raw": "1,2,3",
                "status": "open",
                "attempts": 0,
            },
            {
                "seq": 1,
                "error_class": "type_mismatch",
                "file": "a.csv",
                "line": None,
                "column_name": "id",
                "raw": "x",
                "status": "open",
                "attempts": 0,
            },
        ]
        record = self.select(
            warehouse,
            "SELECT table_name, write_disposition, rows_staged, rows_inserted, rows_rejected, "
            "status FROM _sluiceway.loads WHERE load_id = ?",
            [result.load_id],
        ).to_pylist()
        assert record == [
            {
                "table_name": "items",
                "write_disposition": "append",
                "rows_staged": 1,
                "rows_inserted": 1,
                "rows_rejected": 2,
                "status": "committed",
            }
        ]

    def test_a_replay_marks_its_dead_letter_rows_in_the_same_transaction(
        self, warehouse: Warehouse[Any]
    ) -> None:
        rejects = [Reject("src", "rule", f"bad {i}", raw=f'{{"id": {i}}}') for i in range(3)]
        first = self.load(warehouse, [{"id": 0}], rejects=rejects)
        taken = ((first.load_id, 0), (first.load_id, 2))

        def replay_breaks_before_commit() -> None:
            with warehouse.begin(self.request(replays=taken)) as load:
                load.stage(reader_of([{"id": 10}]))
                raise RuntimeError("the replay broke before commit")

        with pytest.raises(RuntimeError):
            replay_breaks_before_commit()
        assert self.count(warehouse, "items") == 1
        still_open = self.select(
            warehouse, "SELECT count(*) AS n FROM _sluiceway.dlq WHERE status = 'open'"
        ).to_pylist()
        assert still_open == [{"n": 3}]

        replay = self.load(warehouse, [{"id": 10}, {"id": 12}], replays=taken)
        marked = self.select(
            warehouse,
            "SELECT seq, status, replayed_by, attempts FROM _sluiceway.dlq "
            "WHERE load_id = ? ORDER BY seq",
            [first.load_id],
        ).to_pylist()
        assert marked == [
            {"seq": 0, "status": "replayed", "replayed_by": replay.load_id, "attempts": 1},
            {"seq": 1, "status": "open", "replayed_by": None, "attempts": 0},
            {"seq": 2, "status": "replayed", "replayed_by": replay.load_id, "attempts": 1},
        ]

        # The same rows again: someone replayed them already, so this load must not commit.
        with pytest.raises(DataError, match="replayed or purged by someone else"):
            self.load(warehouse, [{"id": 20}], replays=taken[:1])
        assert self.count(warehouse, "items") == 3

    def test_state_commits_with_the_load_and_only_then(self, warehouse: Warehouse[Any]) -> None:
        def remembering(value: str, *, fail: bool) -> None:
            with warehouse.begin(self.request()) as load:
                load.stage(reader_of([{"id": 1}]))
                load.remember("cursor", value)
                if fail:
                    raise RuntimeError("the load broke before commit")
                load.commit([])

        with pytest.raises(RuntimeError):
            remembering('"a"', fail=True)
        assert warehouse.read_state("contract", "src") == {}

        remembering('"b"', fail=False)
        remembering('"c"', fail=False)
        state = warehouse.read_state("contract", "src")
        assert list(state) == ["cursor"]
        assert state["cursor"].value == '"c"'
        assert state["cursor"].load_id is not None

        warehouse.set_state("contract", "src", "cursor", None, by="test")
        assert warehouse.read_state("contract", "src") == {}

    # -- shape -----------------------------------------------------------------------------

    def test_table_schema(self, warehouse: Warehouse[Any]) -> None:
        assert warehouse.table_schema(TableRef("items")) is None
        schema = pa.schema([("id", pa.int64()), ("price", pa.float64()), ("name", pa.string())])
        self.load(warehouse, [{"id": 1, "price": 2.5, "name": "x"}], schema=schema)
        found = warehouse.table_schema(TableRef("items"))
        assert found is not None
        assert [(f.name, f.type) for f in found] == [(f.name, f.type) for f in schema]

    def test_schema_qualified_tables_and_odd_identifiers(self, warehouse: Warehouse[Any]) -> None:
        rows = [{"select": 1, "two words": "a", 'quote"d': True}]
        self.load(warehouse, rows, table="bronze.items", write="merge", key=("select",))
        result = self.select(warehouse, "SELECT * FROM bronze.items").to_pylist()
        assert result == rows

    def test_lineage_adds_the_load_id(self, warehouse: Warehouse[Any]) -> None:
        result = self.load(warehouse, [{"id": 1}, {"id": 2}], lineage=True)
        ids = self.select(
            warehouse, f"SELECT DISTINCT {LOAD_ID_COLUMN} AS l FROM items"
        ).to_pylist()
        assert ids == [{"l": result.load_id}]

    def test_query_errors_are_warehouse_errors(self, warehouse: Warehouse[Any]) -> None:
        with pytest.raises(SluicewayError, match="query failed"):
            warehouse.query("SELECT * FROM no_such_table")  # native SQL: no compile

    def test_sql_runner_reads_committed_rows_in_the_warehouse_dialect(
        self, warehouse: Warehouse[Any]
    ) -> None:
        self.load(warehouse, [{"id": 1, "v": "a"}, {"id": 2, "v": None}], table="bronze.items")
        runner = warehouse.sql_runner()
        assert runner.dialect == warehouse.capabilities.dialect
        query = exp.select(exp.Count(this=exp.column("v", quoted=True)).as_("n")).from_(
            exp.table_("items", db="bronze", quoted=True)
        )
        assert runner.fetch(query).to_pylist() == [{"n": 1}]

    # -- merge equals a reference computed in plain Python ---------------------------------

    # Hypothesis runs inside the test: the contract's method is shared by every warehouse's
    # subclass, and one @given method called from two classes trips its differing-executors
    # check (under xdist both may land on one worker).
    def test_merge_matches_a_python_reference(self, warehouse: Warehouse[Any]) -> None:
        @settings(max_examples=25, deadline=None)
        @given(
            loads=st.lists(
                st.lists(
                    st.tuples(st.integers(0, 6), st.integers(0, 3), st.text(TEXT, max_size=3)),
                    max_size=8,
                ),
                min_size=1,
                max_size=4,
            )
        )
        def merges_like_the_reference(loads: list[list[tuple[int, int, str]]]) -> None:
            self.check_merge_against_reference(warehouse, loads)

        merges_like_the_reference()

    def check_merge_against_reference(
        self, warehouse: Warehouse[Any], loads: list[list[tuple[int, int, str]]]
    ) -> None:
        table = f"prop_{new_id().lower()}"
        expected: dict[tuple[int, int], str] = {}
        schema = pa.schema([("a", pa.int64()), ("b", pa.int64()), ("v", pa.string())])
        for batch in loads:
            rows = [{"a": a, "b": b, "v": v} for a, b, v in batch]
            self.load(warehouse, rows, schema=schema, table=table, write="merge", key=("a", "b"))
            for a, b, v in batch:
                expected[(a, b)] = v  # the last row for a key wins
        if warehouse.table_schema(TableRef(table)) is None:
            assert expected == {}
            return
        got = {
            (r["a"], r["b"]): r["v"]
            for r in self.select(warehouse, f"SELECT a, b, v FROM {table}").to_pylist()
        }
        assert got == expected
