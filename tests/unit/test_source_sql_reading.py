"""The pure parts of reading a database source: the SQL sent (the cursor bound in its WHERE as a
bound parameter), the bounds the engine's cursor hands over, MySQL's type mapping, and rows
into Arrow batches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from sluiceway.core.errors import MalformedInputError, SourceError
from sluiceway.engine.incremental import Cursor
from sluiceway.sources.base import CursorBounds
from sluiceway.sources.sql.arrow_rows import BatchBuilder, ColumnPlan
from sluiceway.sources.sql.catalog import ForeignKey, missing_table_hint, split_name
from sluiceway.sources.sql.mysql_arrow import column_plan
from sluiceway.sources.sql.reading import pushable
from sluiceway.sources.sql.statements import Relation, Statement, describe_rows, select_rows
from sluiceway.spec.incremental import IncrementalSpec

pytestmark = pytest.mark.unit

ORDERS = Relation(table="orders", schema="sales")
AT = datetime(2024, 3, 1, 10, 0)


# -- the statements --------------------------------------------------------------------------


def test_a_table_read_names_its_columns_quoted_and_has_no_where_without_a_cursor() -> None:
    statement = select_rows(ORDERS, dialect="postgres", columns=["id", "Amount"])
    assert statement == Statement('SELECT "id", "Amount" FROM "sales"."orders"', ())
    mysql = select_rows(Relation(table="orders"), dialect="mysql")
    assert mysql == Statement("SELECT * FROM `orders`", ())


def test_the_cursor_bound_is_a_where_with_a_bound_parameter_never_a_literal() -> None:
    bounds = CursorBounds("updated_at", lower=AT, lower_inclusive=False)

    statement = select_rows(ORDERS, dialect="postgres", columns=["id"], bounds=bounds)

    assert statement.sql == 'SELECT "id" FROM "sales"."orders" WHERE "updated_at" > %s'
    assert statement.params == (AT,)
    assert "2024" not in statement.sql


def test_both_bounds_in_mysql() -> None:
    bounds = CursorBounds("id", lower=10, upper=20)

    statement = select_rows(Relation(table="orders", schema="shop"), dialect="mysql", bounds=bounds)

    assert statement == Statement(
        "SELECT * FROM `shop`.`orders` WHERE `id` >= %s AND `id` < %s", (10, 20)
    )


def test_without_a_lower_bound_rows_without_a_cursor_are_read_as_the_engine_keeps_them() -> None:
    statement = select_rows(ORDERS, dialect="postgres", bounds=CursorBounds("at", upper=AT))
    assert statement.sql == 'SELECT * FROM "sales"."orders" WHERE ("at" < %s OR "at" IS NULL)'
    assert statement.params == (AT,)


def test_a_query_is_nested_when_its_output_is_filtered_and_its_percent_signs_escaped() -> None:
    query = Relation(query="SELECT id, at FROM t WHERE name LIKE 'a%' -- note")
    statement = select_rows(
        query, dialect="postgres", columns=["at"], bounds=CursorBounds("at", lower=AT)
    )
    assert statement.sql == (
        "SELECT \"at\" FROM (\nSELECT id, at FROM t WHERE name LIKE 'a%%' -- note\n) "
        'AS "_sluiceway_query" WHERE "at" >= %s'
    )
    # Nothing to apply: the query is sent as written (percent signs still escaped).
    assert select_rows(query, dialect="mysql").sql == (
        "SELECT id, at FROM t WHERE name LIKE 'a%%' -- note"
    )


def test_percent_signs_in_names_and_quotes_in_names_cannot_break_out() -> None:
    statement = select_rows(
        Relation(table='we"ird%'), dialect="postgres", columns=["100%"], bounds=None
    )
    assert statement.sql == 'SELECT "100%%" FROM "we""ird%%"'


def test_the_description_statement_returns_no_row() -> None:
    statement = describe_rows(ORDERS, dialect="mysql", columns=())
    assert statement.sql == "SELECT * FROM `sales`.`orders` LIMIT 0"


# -- the bounds the engine hands over --------------------------------------------------------


def cursor(stored: Any = None, window: tuple[Any, Any] | None = None, **spec: Any) -> Cursor:
    kept = json.dumps({"column": "at", "value": stored}) if stored is not None else None
    return Cursor(IncrementalSpec.model_validate({"cursor": "at", **spec}), kept, window=window)


def test_no_stored_value_and_no_limits_means_no_bounds() -> None:
    assert cursor().read_bounds() is None


def test_a_stored_value_is_an_exclusive_lower_bound() -> None:
    assert cursor("2024-03-01T10:00:00").read_bounds() == CursorBounds(
        "at", lower=AT, lower_inclusive=False
    )
    assert cursor(41).read_bounds() == CursorBounds("at", lower=41, lower_inclusive=False)
    aware = cursor("2024-03-01T10:00:00+00:00").read_bounds()
    assert aware is not None
    assert aware.lower == AT.replace(tzinfo=UTC)


def test_a_lookback_moves_the_lower_bound_back_and_includes_it() -> None:
    assert cursor("2024-03-01T10:00:00", lookback="2h").read_bounds() == CursorBounds(
        "at", lower=datetime(2024, 3, 1, 8, 0), lower_inclusive=True
    )
    assert cursor(100, lookback=10).read_bounds() == CursorBounds("at", lower=90)
    # Whole days round down: never a later bound than the engine's.
    assert cursor("2024-03-02", lookback="2h").read_bounds() == CursorBounds(
        "at", lower=date(2024, 3, 1)
    )


def test_initial_and_end_values_bound_the_first_run() -> None:
    bounds = cursor(initial_value="2024-01-01", end_value="2024-07-01 00:00:00").read_bounds()
    assert bounds == CursorBounds("at", lower=date(2024, 1, 1), upper=datetime(2024, 7, 1))


def test_a_backfill_window_replaces_the_stored_value() -> None:
    bounds = cursor("2024-03-01T10:00:00", window=("2024-01-01", "2024-02-01")).read_bounds()
    assert bounds == CursorBounds("at", lower=date(2024, 1, 1), upper=date(2024, 2, 1))


def test_values_that_read_as_nothing_leave_that_side_unbounded() -> None:
    assert cursor("yesterday").read_bounds() is None
    assert cursor("2024-03-01", lookback=5).read_bounds() is None  # a number for a date
    assert cursor(True).read_bounds() is None


# -- what the database may apply ---------------------------------------------------------------


def plans(type_: pa.DataType) -> list[ColumnPlan]:
    return [ColumnPlan("id", pa.int64(), "bigint"), ColumnPlan("at", type_, "t")]


def test_bounds_apply_only_to_a_column_of_a_fitting_type() -> None:
    bounds = CursorBounds("at", lower=AT, upper=5)
    assert pushable(bounds, plans(pa.timestamp("us"))) == CursorBounds("at", lower=AT)
    assert pushable(bounds, plans(pa.string())) is None
    assert pushable(CursorBounds("gone", lower=1), plans(pa.int64())) is None
    assert pushable(None, plans(pa.int64())) is None


def test_times_get_the_columns_zone_semantics() -> None:
    plus_two = timezone(timedelta(hours=2))
    zoned = pushable(CursorBounds("at", lower=AT), plans(pa.timestamp("us", tz="UTC")))
    assert zoned is not None
    assert zoned.lower == AT.replace(tzinfo=UTC)  # naive reads as UTC, as in the engine
    naive = pushable(
        CursorBounds("at", lower=AT.replace(tzinfo=plus_two)), plans(pa.timestamp("us"))
    )
    assert naive is not None
    assert naive.lower == datetime(2024, 3, 1, 8, 0)


# -- MySQL's field descriptions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "arrow"),
    [
        ({"type_code": 1, "length": 1}, pa.bool_()),  # tinyint(1)
        ({"type_code": 1, "length": 4}, pa.int8()),
        ({"type_code": 1, "length": 3, "flags": 32}, pa.uint8()),
        ({"type_code": 8, "length": 20, "flags": 32}, pa.uint64()),
        ({"type_code": 9, "length": 9}, pa.int32()),
        ({"type_code": 246, "length": 12, "scale": 2}, pa.decimal128(10, 2)),
        ({"type_code": 246, "length": 13, "scale": 3, "flags": 32}, pa.decimal128(12, 3)),
        ({"type_code": 246, "length": 6}, pa.decimal128(5, 0)),
        ({"type_code": 246, "length": 67, "scale": 30}, pa.decimal256(65, 30)),
        ({"type_code": 7, "length": 23}, pa.timestamp("us", tz="UTC")),
        ({"type_code": 12, "length": 26}, pa.timestamp("us")),
        ({"type_code": 11, "length": 10}, pa.time64("us")),
        ({"type_code": 16, "length": 1}, pa.bool_()),
        ({"type_code": 16, "length": 64}, pa.uint64()),
        ({"type_code": 253, "length": 80, "charset": 45}, pa.string()),
        ({"type_code": 253, "length": 10, "charset": 63}, pa.binary()),
        ({"type_code": 252, "length": 65535, "charset": 63}, pa.binary()),
        ({"type_code": 245, "length": 0, "charset": 63}, pa.string()),  # MySQL 8 json
        ({"type_code": 254, "length": 4, "flags": 256, "charset": 45}, pa.string()),  # enum
    ],
)
def test_mysql_fields_map_to_arrow_types(field: dict[str, int], arrow: pa.DataType) -> None:
    described = {"flags": 0, "charset": 45, "scale": 0, **field}
    assert column_plan("c", **described).arrow == arrow


def test_mysql_values_are_converted_where_python_and_arrow_disagree() -> None:
    builder = BatchBuilder(
        [
            column_plan("ok", type_code=1, length=1, flags=0, charset=63, scale=0),
            column_plan("bits", type_code=16, length=9, flags=32, charset=63, scale=0),
            column_plan("clock", type_code=11, length=10, flags=128, charset=63, scale=0),
            column_plan("day", type_code=10, length=10, flags=128, charset=63, scale=0),
        ]
    )

    batch = builder.build(
        [
            (1, b"\x01\x01", timedelta(hours=1, seconds=2), date(2024, 1, 1)),
            (0, None, timedelta(hours=-1), "0000-00-00"),
            (None, b"\x00\x00", timedelta(hours=30), None),
        ]
    )

    assert batch.to_pylist() == [
        {"ok": True, "bits": 257, "clock": time(1, 0, 2), "day": date(2024, 1, 1)},
        {"ok": False, "bits": None, "clock": None, "day": None},
        {"ok": None, "bits": 0, "clock": None, "day": None},
    ]
    assert builder.nulled == 3


# -- rows into batches -------------------------------------------------------------------------


def test_every_batch_has_the_schema_even_an_empty_one_and_lineage_names_the_origin() -> None:
    builder = BatchBuilder(
        [ColumnPlan("id", pa.int32(), "integer")], origin="db:5432/shop/public.t"
    )
    assert builder.build([]).schema == builder.schema
    assert builder.build([(1,), (2,)]).to_pylist() == [
        {"id": 1, "_sluiceway_source": "db:5432/shop/public.t"},
        {"id": 2, "_sluiceway_source": "db:5432/shop/public.t"},
    ]


def test_a_column_named_like_the_lineage_column_is_refused() -> None:
    with pytest.raises(SourceError, match="already has a column named _sluiceway_source"):
        BatchBuilder([ColumnPlan("_sluiceway_source", pa.string(), "text")], origin="x")


def test_numeric_text_is_cast_and_non_finite_values_are_repaired_to_null() -> None:
    plan = ColumnPlan(
        "amount",
        pa.decimal128(6, 2),
        "numeric",
        via=pa.string(),
        repair=lambda text: None if text == "NaN" else text,
    )
    builder = BatchBuilder([plan])

    batch = builder.build([("1.50",), ("NaN",), (None,)])

    assert batch.column(0).to_pylist() == [Decimal("1.50"), None, None]
    assert builder.nulled == 1


def test_a_value_without_a_repair_stops_the_read_naming_its_column() -> None:
    builder = BatchBuilder([ColumnPlan("grid", pa.list_(pa.int32()), "int4[]")])

    with pytest.raises(MalformedInputError, match="column 'grid' \\(int4\\[\\]\\)"):
        builder.build([([[1, 2], [3, 4]],)])


# -- names and hints ---------------------------------------------------------------------------


def test_table_names_split_on_dots_outside_quotes() -> None:
    assert split_name("orders", '"') == ["orders"]
    assert split_name('sales."Order ""Items"""', '"') == ["sales", 'Order "Items"']
    assert split_name("`my.db`.`t`", "`") == ["my.db", "t"]
    with pytest.raises(ValueError, match="unterminated quote"):
        split_name('"open', '"')
    with pytest.raises(ValueError, match="empty part"):
        split_name("a..b", '"')


def test_a_missing_table_hint_guesses_then_lists() -> None:
    tables = ["public.customers", "public.orders", "sales.order_lines"]
    assert missing_table_hint("custmers", tables) == (
        "Did you mean public.customers? Tables: public.customers, public.orders, sales.order_lines."
    )
    assert missing_table_hint("sales.ordre_lines", tables).startswith(
        "Did you mean sales.order_lines? "
    )
    assert missing_table_hint("x", []).startswith("The database has no table")
    many = [f"s.t{i}" for i in range(25)]
    assert missing_table_hint("zzz", many).endswith("s.t19 and 5 more.")


def test_a_foreign_key_reads_as_columns_to_referenced_columns() -> None:
    key = ForeignKey("fk", ("a", "b"), "ref", "parent", ("x", "y"))
    assert (str(key), key.referenced) == ("(a, b) -> ref.parent(x, y)", "ref.parent")
