"""The SQL a load emits, pinned as text for DuckDB and PostgreSQL (golden strings)."""

from __future__ import annotations

import pytest

from sluiceway.core.names import TableRef
from sluiceway.warehouses import sql_builders as sb

pytestmark = pytest.mark.unit

TARGET = sb.table(TableRef("orders", "bronze"), "main")
STAGE = sb.table(TableRef("orders__load", "_sluiceway_staging"), "main")
UNQUALIFIED = sb.table(TableRef("items"), "main")


def test_identifiers_are_always_quoted_and_default_to_the_warehouse_schema() -> None:
    assert UNQUALIFIED.sql("duckdb") == '"main"."items"'
    odd = sb.table(TableRef('we"ird name', "select"), "main")
    assert odd.sql("duckdb") == '"select"."we""ird name"'


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_insert_names_every_column(dialect: str) -> None:
    sql = sb.insert_columns(TARGET, STAGE, ["id", "amount"]).sql(dialect)
    assert sql == (
        'INSERT INTO "bronze"."orders" ("id", "amount") '
        'SELECT "id", "amount" FROM "_sluiceway_staging"."orders__load"'
    )


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_delete_matching_on_a_composite_key(dialect: str) -> None:
    sql = sb.delete_matching(TARGET, STAGE, ["region", "id"]).sql(dialect)
    assert sql == (
        'DELETE FROM "bronze"."orders" AS t WHERE EXISTS(SELECT 1 FROM '
        '"_sluiceway_staging"."orders__load" AS s WHERE "s"."region" = "t"."region" '
        'AND "s"."id" = "t"."id")'
    )


def test_last_row_per_key_orders_by_arrival() -> None:
    sql = sb.last_row_per_key(STAGE, ["id"], sb.column("__sluiceway_seq")).sql("duckdb")
    assert sql == (
        'SELECT * FROM "_sluiceway_staging"."orders__load" QUALIFY ROW_NUMBER() OVER '
        '(PARTITION BY "id" ORDER BY "__sluiceway_seq" DESC) = 1'
    )


def test_null_keys_and_empty_tables_and_drops() -> None:
    assert sb.any_null(["a", "b"]).sql("duckdb") == '"a" IS NULL OR "b" IS NULL'
    empty = sb.create_table_as(TARGET, sb.select_columns(STAGE, ["id"]), empty=True)
    assert empty.sql("duckdb") == (
        'CREATE TABLE "bronze"."orders" AS SELECT "id" FROM "_sluiceway_staging"."orders__load" '
        "LIMIT 0"
    )
    assert sb.drop_table(TARGET).sql("postgres") == 'DROP TABLE IF EXISTS "bronze"."orders"'
