"""Loading a pipeline file: defaults, where paths point, and files that are not pipelines."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.core.names import TableRef
from sluiceway.engine.registry import Registry
from sluiceway.sources.files.csv import CsvSpec
from sluiceway.sources.files.json import JsonSpec
from sluiceway.sources.files.parquet import ParquetSpec
from sluiceway.spec.models import SourceDefaults, SourceSettings
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec
from tests.conftest import WritePipeline
from tests.spec_helpers import csv_source, places, problems, single

pytestmark = pytest.mark.unit


# --- a valid file ------------------------------------------------------------------------------


def test_valid_file_loads_with_defaults(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        description: Orders and customers
        sources:
          orders:
            type: csv
            path: data/orders_*.csv.gz
          customers:
            type: parquet
            path: [data/customers.parquet]
            table: bronze.customers
        """
    )

    loaded = registry.load(path, env={})

    spec = loaded.spec
    assert loaded.name == "shop"
    assert spec.description == "Orders and customers"
    assert list(spec.sources) == ["orders", "customers"]
    assert isinstance(spec.sources["orders"], CsvSpec)
    assert isinstance(spec.sources["customers"], ParquetSpec)
    assert spec.sources["customers"].path == ["data/customers.parquet"]
    assert spec.warehouse == DuckDBSpec(type="duckdb")  # the default warehouse
    assert spec.defaults == SourceDefaults()
    assert spec.settings("orders") == SourceSettings(
        name="orders",
        table=TableRef(name="orders"),
        write="append",
        primary_key=(),
        batch_size=65_536,
        lineage=True,
        on_bad_rows="fail",
    )
    assert spec.settings("customers").table == TableRef(name="customers", schema="bronze")


def test_sources_inherit_defaults_and_can_override_each(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        defaults:
          write: replace
          batch_size: 1000
          lineage: false
          on_bad_rows: dlq
        sources:
          inherits:
            type: csv
            path: a.csv
          overrides:
            type: csv
            path: b.csv
            table: silver.orders
            write: merge
            primary_key: id
            batch_size: 10
            lineage: true
            on_bad_rows: fail
        """
    )

    spec = registry.load(path, env={}).spec

    assert spec.settings("inherits") == SourceSettings(
        name="inherits",
        table=TableRef(name="inherits"),
        write="replace",
        primary_key=(),
        batch_size=1000,
        lineage=False,
        on_bad_rows="dlq",
    )
    assert spec.settings("overrides") == SourceSettings(
        name="overrides",
        table=TableRef(name="orders", schema="silver"),
        write="merge",
        primary_key=("id",),
        batch_size=10,
        lineage=True,
        on_bad_rows="fail",
    )


def test_a_false_override_beats_a_true_default(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source("lineage: false"))

    assert registry.load(path, env={}).spec.settings("orders").lineage is False


@pytest.mark.parametrize(
    ("written", "expected"),
    [("id", ("id",)), ("[region, id]", ("region", "id"))],
)
def test_primary_key_is_a_column_or_a_list(
    registry: Registry, write_pipeline: WritePipeline, written: str, expected: tuple[str, ...]
) -> None:
    path = write_pipeline(csv_source(f"primary_key: {written}"))

    assert registry.load(path, env={}).spec.settings("orders").primary_key == expected


def test_declared_types_and_encoding_aliases_are_accepted(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        csv_source('columns: {price: "DECIMAL(10,2)", tags: "VARCHAR[]"}\n    encoding: LATIN1')
    )

    orders = registry.load(path, env={}).spec.sources["orders"]

    assert isinstance(orders, CsvSpec)
    assert orders.columns == {"price": "DECIMAL(10,2)", "tags": "VARCHAR[]"}
    assert orders.encoding == "latin-1"


def test_ndjson_is_the_json_source(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        "pipeline: shop\nsources:\n  events:\n    type: ndjson\n    path: e.jsonl\n"
    )

    events = registry.load(path, env={}).spec.sources["events"]

    assert isinstance(events, JsonSpec)
    assert events.type == "ndjson"


# --- where things are --------------------------------------------------------------------------


def _project_with_subfolder_pipeline(project: Path, extra: str = "") -> Path:
    (project / "sluiceway.yaml").write_text("pipeline: main\n", encoding="utf-8")
    folder = project / "pipelines"
    folder.mkdir()
    path = folder / "shop.yaml"
    path.write_text(
        "pipeline: shop\n" + extra + "sources:\n  a:\n    type: csv\n    path: a.csv\n",
        encoding="utf-8",
    )
    return path


def test_relative_paths_resolve_against_the_files_folder(
    registry: Registry, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = project / "home"
    monkeypatch.setenv("HOME", str(home))
    path = _project_with_subfolder_pipeline(project)

    loaded = registry.load(path, env={})

    folder = (project / "pipelines").resolve()
    assert loaded.file == path.resolve()
    assert loaded.base_dir == folder
    assert loaded.resolve("data/a.csv") == folder / "data" / "a.csv"
    assert loaded.resolve("../shared/b.csv") == folder / ".." / "shared" / "b.csv"
    assert loaded.resolve(str(project / "abs.csv")) == project / "abs.csv"
    assert loaded.resolve("~/c.csv") == home / "c.csv"


def test_state_dir_defaults_to_dot_sluiceway_in_the_project_root(
    registry: Registry, project: Path
) -> None:
    path = _project_with_subfolder_pipeline(project)

    loaded = registry.load(path, env={})

    assert loaded.root == project.resolve()
    assert loaded.state_dir == project.resolve() / ".sluiceway"


def test_a_lone_file_is_a_project_of_its_own(registry: Registry, project: Path) -> None:
    folder = project / "elsewhere"
    folder.mkdir()
    path = folder / "p.yaml"
    path.write_text(csv_source("header: true"), encoding="utf-8")

    loaded = registry.load(path, env={})

    assert loaded.root == folder.resolve()
    assert loaded.state_dir == folder.resolve() / ".sluiceway"


def test_state_dir_in_the_file_resolves_against_its_folder(
    registry: Registry, project: Path
) -> None:
    path = _project_with_subfolder_pipeline(project, extra="state_dir: run-state\n")

    loaded = registry.load(path, env={})

    assert loaded.state_dir == (project / "pipelines").resolve() / "run-state"


def test_an_absolute_state_dir_in_the_file_is_kept(registry: Registry, project: Path) -> None:
    target = project / "somewhere" / "state"
    path = _project_with_subfolder_pipeline(project, extra=f"state_dir: {target}\n")

    assert registry.load(path, env={}).state_dir == target


def test_arguments_override_base_dir_and_state_dir(registry: Registry, project: Path) -> None:
    path = _project_with_subfolder_pipeline(project, extra="state_dir: run-state\n")
    base, state = project / "bundle", project / "demo-state"

    loaded = registry.load(path, env={}, base_dir=base, state_dir=state)

    assert loaded.base_dir == base.resolve()
    assert loaded.resolve("a.csv") == base.resolve() / "a.csv"
    assert loaded.state_dir == state.resolve()


# --- YAML ----------------------------------------------------------------------------------------


def test_bad_indentation_is_a_yaml_error_with_a_position(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
           path: a.csv
        """
    )

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    assert caught.value.message == "sluiceway.yaml is not valid YAML:"
    assert places(caught.value.issues) == [(5, 4, "")]
    assert caught.value.issues[0].message.startswith("did not find expected key")


def test_unclosed_quote_says_where_the_quote_began(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: "a.csv
        """
    )

    issue = single(registry, path)

    assert (issue.line, issue.column) == (6, 1)  # where the parser gave up: the end of the file
    assert issue.message == (
        "found unexpected end of stream; while scanning a quoted scalar at line 5, column 11"
    )


def test_tab_indentation_is_a_yaml_error(registry: Registry, project: Path) -> None:
    path = project / "p.yaml"
    path.write_text("pipeline: shop\nsources:\n\torders: {type: csv}\n", encoding="utf-8")

    issue = single(registry, path)

    assert (issue.line, issue.column) == (3, 1)
    assert issue.message.startswith("found character that cannot start any token")


def test_several_documents_are_an_error(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline("pipeline: a\n---\npipeline: b\n")

    issue = single(registry, path)

    assert (issue.line, issue.column) == (2, 1)
    assert "expected a single document" in issue.message


def test_duplicate_keys_are_reported_not_collapsed(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: a.csv
          orders:
            type: csv
            path: b.csv
            write: merge
            write: append
        pipeline: shop2
        """
    )

    issues = problems(registry, path)

    assert places(issues) == [
        (6, 3, "sources.orders"),
        (10, 5, "sources.orders.write"),
        (11, 1, "pipeline"),
    ]
    assert {issue.message for issue in issues} == {"duplicate key"}


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", "- orders\n- customers\n", "just text\n", "42\n"],
    ids=["empty", "comment", "list", "text", "number"],
)
def test_a_file_that_is_not_a_mapping(
    registry: Registry, write_pipeline: WritePipeline, text: str
) -> None:
    path = write_pipeline(text)

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    assert caught.value.message == (
        "sluiceway.yaml must be a mapping with `pipeline`, `sources` and optionally `warehouse`"
    )
    assert caught.value.hint is not None
    assert "sluiceway init" in caught.value.hint


def test_a_file_that_is_not_utf8_names_the_line(registry: Registry, project: Path) -> None:
    path = project / "p.yaml"
    path.write_bytes(b"pipeline: shop\n# caf\xe9 orders\nsources: {}\n")

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    assert caught.value.message == (
        "p.yaml:2: pipeline files must be UTF-8 (invalid byte at offset 20)"
    )


def test_a_utf8_byte_order_mark_is_accepted(registry: Registry, project: Path) -> None:
    path = project / "p.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + csv_source("header: false").encode())

    assert registry.load(path, env={}).name == "shop"


def test_a_missing_file(registry: Registry, project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        registry.load(project / "nope.yaml", env={})

    assert caught.value.message == "pipeline file nope.yaml does not exist"
    assert caught.value.hint is not None
    assert "sluiceway init" in caught.value.hint


def test_a_directory(registry: Registry, project: Path) -> None:
    (project / "pipelines").mkdir()

    with pytest.raises(ConfigError) as caught:
        registry.load(project / "pipelines", env={})

    assert caught.value.message == "pipelines is a directory, not a pipeline file"


# --- YAML anchors and merge keys ---------------------------------------------------------------


def test_merge_keys_share_settings_between_sources(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders: &semicolon_csv
            type: csv
            path: orders.csv
            delimiter: ";"
            encoding: latin-1
          customers:
            <<: *semicolon_csv
            path: customers.csv
        """
    )

    spec = registry.load(path, env={}).spec

    customers = spec.sources["customers"]
    assert isinstance(customers, CsvSpec)
    assert (customers.path, customers.delimiter, customers.encoding) == (
        "customers.csv",
        ";",
        "latin-1",
    )


def test_a_mistake_in_merged_settings_points_where_it_is_written(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders: &base
            type: csv
            path: orders.csv
            delimiter: ";;"
          customers:
            <<: *base
            path: customers.csv
        """
    )

    issues = problems(registry, path)

    assert places(issues) == [
        (6, 16, "sources.customers.delimiter"),
        (6, 16, "sources.orders.delimiter"),
    ]


def test_a_merge_key_that_is_not_a_mapping(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline("pipeline: shop\n<<: 5\n")

    issue = single(registry, path)

    assert (issue.line, issue.column) == (2, 5)
    assert issue.message == "a merge key `<<` must refer to a mapping or a list of mappings"


def test_a_recursive_alias_is_an_error(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline("pipeline: shop\nsources: &s\n  orders: *s\n")

    issue = single(registry, path)

    assert (issue.line, issue.column) == (2, 10)  # the anchored mapping the alias repeats
    assert issue.message == "an alias refers to a node that contains it"
