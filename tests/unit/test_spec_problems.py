"""Problems in a pipeline file: each reported at once with file:line:column, path, and fix."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import BaseModel

from sluiceway.core.errors import ConfigError
from sluiceway.engine.registry import Registry
from sluiceway.sources.files.csv import CsvSpec
from sluiceway.sources.files.json import JsonSpec
from tests.conftest import WritePipeline
from tests.fakes import FakeSource
from tests.spec_helpers import csv_source, places, problems, single

pytestmark = pytest.mark.unit

BUILTIN_TYPES = "csv, excel, json, mysql, ndjson, parquet, postgres, postgres_cdc, xlsx"


# --- every problem at once ---------------------------------------------------------------------


def test_all_problems_are_reported_at_once_sorted_by_line(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: ${DATA_DIR}/orders.csv
            delimeter: ";"
          customers:
            type: csv
            path: customers.csv
            batch_size: 0
            path: customers2.csv
        """
    )

    issues = problems(registry, path)

    # found by four different stages (interpolation, validation of keys, of values, duplicate
    # detection), reported in the order of the file
    assert places(issues) == [
        (5, 11, "sources.orders.path"),
        (6, 5, "sources.orders.delimeter"),
        (10, 17, "sources.customers.batch_size"),
        (11, 5, "sources.customers.path"),
    ]
    assert all(issue.file == "sluiceway.yaml" for issue in issues)
    assert "DATA_DIR" in issues[0].message
    assert issues[3].message == "duplicate key"


def test_the_rendered_error_gives_file_line_column_path_and_message(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source('delimeter: ";"') + "  customers:\n    type: cvs\n")

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    lines = str(caught.value).splitlines()
    assert lines[0] == "sluiceway.yaml has 2 problems:"
    assert lines[1].startswith("  sluiceway.yaml:6:5: sources.orders.delimeter: unknown key")
    assert lines[2] == (
        f"  sluiceway.yaml:8:11: sources.customers.type: unknown type 'cvs'; "
        f"allowed types: {BUILTIN_TYPES}"
    )


def test_a_file_outside_the_working_directory_is_shown_by_its_full_path(
    registry: Registry, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("outside") / "p.yaml"
    path.write_text(csv_source("header: maybe"), encoding="utf-8")

    issue = single(registry, path)

    assert issue.file == str(path.resolve())
    assert issue.path == "sources.orders.header"


# --- unknown keys ------------------------------------------------------------------------------


def test_unknown_source_key_suggests_the_close_one_and_lists_the_allowed(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source('delimeter: ";"'))

    issue = single(registry, path)

    assert places([issue]) == [(6, 5, "sources.orders.delimeter")]
    assert issue.message == (
        "unknown key 'delimeter' (did you mean 'delimiter'?); allowed keys: "
        + ", ".join(sorted(keys(CsvSpec)))
    )


def keys(model: type[BaseModel]) -> list[str]:
    """The keys users write: field names, or their alias (`schema`)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def test_unknown_key_without_a_close_match_has_no_suggestion(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source("owner: ana"))

    issue = single(registry, path)

    assert issue.message.startswith(
        "unknown key 'owner'; allowed keys: batch_size, cdc, checks, clean, columns,"
    )
    assert "did you mean" not in issue.message


def test_unknown_key_lists_the_keys_of_the_chosen_source_kind(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          events:
            type: ndjson
            path: events.jsonl
            delimiter: ","
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(6, 5, "sources.events.delimiter")]
    # `delete` is close enough to `delimiter` to be offered.
    assert (
        issue.message
        == "unknown key 'delimiter' (did you mean 'delete'?); allowed keys: "
        + ", ".join(sorted(keys(JsonSpec)))
    )


def test_unknown_top_level_key(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sorces:
          orders: {type: csv, path: a.csv}
        """
    )

    issues = problems(registry, path)

    assert places(issues) == [(2, 1, "sorces")]
    assert issues[0].message == (
        "unknown key 'sorces' (did you mean 'sources'?); allowed keys: defaults, description, "
        "execution, models, openlineage, pipeline, quality, schedule, sources, state_dir, "
        "warehouse"
    )


def test_unknown_key_inside_defaults(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        defaults:
          write: append
          batchsize: 10
        sources:
          orders: {type: csv, path: a.csv}
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(4, 3, "defaults.batchsize")]
    assert issue.message == (
        "unknown key 'batchsize' (did you mean 'batch_size'?); "
        "allowed keys: batch_size, lineage, on_bad_rows, schema, write"
    )


def test_unknown_key_inside_the_warehouse(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        warehouse: {type: duckdb, thread: 4}
        sources:
          orders: {type: csv, path: a.csv}
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(2, 27, "warehouse.thread")]
    assert issue.message == (
        "unknown key 'thread' (did you mean 'threads'?); "
        "allowed keys: memory_limit, path, threads, type"
    )


# --- source and warehouse types ----------------------------------------------------------------


def test_unknown_source_type_lists_the_allowed_types_at_the_type_value(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            path: a.csv
            table: orders
            type: csvv
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(6, 11, "sources.orders.type")]
    assert issue.message == f"unknown type 'csvv'; allowed types: {BUILTIN_TYPES}"


def test_missing_type_lists_the_allowed_types_at_the_source(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: a.csv
          customers:
            path: c.csv
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(6, 3, "sources.customers")]
    assert issue.message == f"missing `type`; allowed types: {BUILTIN_TYPES}"


def test_allowed_types_come_from_the_registry(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    registry.sources.register(FakeSource)
    path = write_pipeline("pipeline: shop\nsources:\n  orders:\n    type: mongo\n")

    issue = single(registry, path)

    assert issue.message == (
        "unknown type 'mongo'; allowed types: csv, excel, fake, json, mysql, ndjson, parquet, "
        "postgres, postgres_cdc, xlsx"
    )


def test_unknown_warehouse_type(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        warehouse:
          type: snowflake
        sources:
          orders: {type: csv, path: a.csv}
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(3, 9, "warehouse.type")]
    assert issue.message == "unknown type 'snowflake'; allowed types: duckdb, postgres"


def test_warehouse_without_type(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        warehouse:
          path: w.duckdb
        sources:
          orders: {type: csv, path: a.csv}
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(2, 1, "warehouse")]
    assert issue.message == "missing `type`; allowed types: duckdb, postgres"


# --- missing keys and cross-field rules --------------------------------------------------------


def test_missing_required_key_points_at_the_sources_key(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            delimiter: ","
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(3, 3, "sources.orders.path")]
    assert issue.message == "missing required key 'path'"


def test_missing_pipeline_name(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline("sources:\n  orders: {type: csv, path: a.csv}\n")

    issue = single(registry, path)

    assert places([issue]) == [(1, 1, "pipeline")]
    assert issue.message == "missing required key 'pipeline'"


def test_a_pipeline_needs_at_least_one_source(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline("pipeline: shop\nsources: {}\n")

    issue = single(registry, path)

    assert places([issue]) == [(2, 1, "sources")]
    assert "at least one source, or models (files under `models/`)" in issue.message


def test_a_pipeline_of_models_only_needs_no_source(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline("pipeline: shop\n")
    (path.parent / "models").mkdir()
    (path.parent / "models" / "totals.sql").write_text("SELECT 1 AS one\n")

    loaded = registry.load(path)

    assert loaded.spec.sources == {}


def test_merge_needs_a_primary_key(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(csv_source("write: merge"))

    issue = single(registry, path)

    assert places([issue]) == [(3, 3, "sources.orders")]
    assert issue.message == "`write: merge` needs a `primary_key` (a column or a list)"


def test_merge_from_defaults_needs_a_primary_key_on_each_source_that_inherits_it(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        defaults:
          write: merge
        sources:
          no_key:
            type: csv
            path: a.csv
          keyed:
            type: csv
            path: b.csv
            primary_key: id
          appends:
            type: csv
            path: c.csv
            write: append
          also_no_key:
            type: csv
            path: d.csv
        """
    )

    issues = problems(registry, path)

    assert places(issues) == [(5, 3, "sources.no_key"), (16, 3, "sources.also_no_key")]
    assert {issue.message for issue in issues} == {
        "`write: merge` needs a `primary_key` (a column or a list)"
    }


def test_two_sources_may_not_load_one_table(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: a.csv
          bronze_orders:
            type: csv
            path: b.csv
            table: bronze.orders
          orders_again:
            type: parquet
            path: c.parquet
            table: ORDERS
        """
    )

    issue = single(registry, path)

    assert places([issue]) == [(10, 3, "sources.orders_again")]
    assert issue.message == (
        "sources 'orders' and 'orders_again' both load table 'orders'; "
        "give one of them another `table`"
    )


# --- names and values --------------------------------------------------------------------------


def test_invalid_pipeline_name(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline("pipeline: my shop\nsources:\n  orders: {type: csv, path: a.csv}\n")

    issue = single(registry, path)

    assert places([issue]) == [(1, 11, "pipeline")]
    assert issue.message == "'my shop' is not a valid name; use letters, digits, _ and -"


def test_invalid_source_name_points_at_that_name(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: a.csv
          my customers:
            type: csv
            path: c.csv
            delimiter: ";;"
        """
    )

    issues = problems(registry, path)

    # the bad name and a bad value inside the same source are both reported
    assert places(issues) == [
        (6, 3, "sources.my customers"),
        (9, 16, "sources.my customers.delimiter"),
    ]
    assert issues[0].message == (
        "source name 'my customers' is not valid; use letters, digits and _ "
        "(it names the table unless `table` is set)"
    )


class BadValue(NamedTuple):
    line: str  # written as line 6 of a csv source
    column: int
    field: str
    message: str


@pytest.mark.parametrize(
    "case",
    [
        BadValue("batch_size: 0", 17, "batch_size", "Input should be greater than or equal to 1"),
        BadValue(
            "write: upsert",
            12,
            "write",
            "Input should be 'append', 'replace', 'merge', 'scd2' or 'insert_overwrite', "
            "got 'upsert'",
        ),
        BadValue(
            "on_bad_rows: skip", 18, "on_bad_rows", "Input should be 'fail' or 'dlq', got 'skip'"
        ),
        BadValue('delimiter: ";;"', 16, "delimiter", "must be one character, got ';;'"),
        BadValue(
            "encoding: cp1252",
            15,
            "encoding",
            "unsupported encoding 'cp1252'; use utf-8, utf-16 or latin-1",
        ),
        BadValue(
            "table: bad table",
            12,
            "table",
            "'bad table' is not a table name; use letters, digits and _, optionally `schema.table`",
        ),
        BadValue(
            "header: maybe",
            13,
            "header",
            "Input should be a valid boolean, unable to interpret input",
        ),
        BadValue(
            "sample_size: -2", 18, "sample_size", "Input should be greater than or equal to -1"
        ),
    ],
    ids=lambda case: case.field,
)
def test_bad_value_is_reported_at_the_value(
    registry: Registry, write_pipeline: WritePipeline, case: BadValue
) -> None:
    path = write_pipeline(csv_source(case.line))

    issue = single(registry, path)

    assert places([issue]) == [(6, case.column, f"sources.orders.{case.field}")]
    assert issue.message == case.message


def test_bad_batch_size_in_defaults(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        "pipeline: shop\ndefaults:\n  batch_size: 0\nsources:\n  o: {type: csv, path: a.csv}\n"
    )

    issue = single(registry, path)

    assert places([issue]) == [(3, 15, "defaults.batch_size")]
    assert issue.message == "Input should be greater than or equal to 1"


def test_bad_sql_type_points_at_the_column_and_lists_known_types(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        csv_source("columns: {price: MONEYY, qty: INTEGER, shape: GEOMETRY}\n    batch_size: 0")
    )

    issues = problems(registry, path)

    # a bad type no longer escapes validation: it is one issue among the others
    assert places(issues) == [
        (6, 22, "sources.orders.columns.price"),
        (6, 51, "sources.orders.columns.shape"),
        (7, 17, "sources.orders.batch_size"),
    ]
    assert issues[0].message.startswith("'MONEYY' is not a SQL type. Use a DuckDB type: BOOLEAN,")
    assert issues[1].message == "SQL type GEOMETRY has no Arrow equivalent yet"


def test_a_stray_quote_in_a_sql_type_is_an_issue(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source("""columns: {note: "VARCHAR'"}"""))

    issue = single(registry, path)

    assert places([issue]) == [(6, 21, "sources.orders.columns.note")]


def test_a_value_of_the_wrong_shape_is_one_issue_naming_each_allowed_shape(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: 5
          sheet:
            type: xlsx
            path: [b.xlsx, ""]
            sheet: [1]
        """
    )

    issues = problems(registry, path)

    assert places(issues) == [
        (5, 11, "sources.orders.path"),
        (8, 11, "sources.sheet.path"),
        (9, 12, "sources.sheet.sheet"),
    ]
    assert [issue.message for issue in issues] == [
        "Input should be a valid string or a valid list",
        "give at least one non-empty path or glob",
        "Input should be a valid string or a valid integer",
    ]
