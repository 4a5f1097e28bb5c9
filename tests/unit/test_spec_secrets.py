"""Secrets never leave the loader: environment values and `SecretStr` fields stay hidden."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, field_validator

from sluiceway.core.errors import ConfigError, ConfigIssue
from sluiceway.engine.registry import Registry
from sluiceway.spec.loader import load_pipeline
from sluiceway.spec.models import PipelineSpec, SourceSpec
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec
from tests.conftest import WritePipeline
from tests.spec_helpers import csv_source

pytestmark = pytest.mark.unit

SECRET = "supersecret-7f3a"


class VaultSpec(SourceSpec):
    """A test-only source kind with a secret, whose validator carelessly echoes what it got."""

    type: Literal["vault"]
    url: str
    password: SecretStr

    @field_validator("password")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 20:
            raise ValueError(f"password {value.get_secret_value()!r} is shorter than 20 characters")
        return value


VaultPipeline: type[PipelineSpec[Any, Any]] = PipelineSpec[VaultSpec, DuckDBSpec]


def failure(registry: Registry, path: Path, env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        registry.load(path, env=env)
    return caught.value


def vault_failure(path: Path, env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path, VaultPipeline, env=env, default_warehouse={"type": "duckdb"})
    return caught.value


def test_a_literal_bad_value_is_echoed(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(csv_source("write: upsert"))

    (issue,) = failure(registry, path, {}).issues

    assert (
        issue.message
        == "Input should be 'append', 'replace', 'merge', 'scd2' or 'insert_overwrite', "
        "got 'upsert'"
    )


def test_a_bad_value_from_the_environment_is_not_echoed(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source("write: ${MODE}"))

    error = failure(registry, path, {"MODE": SECRET})

    (issue,) = error.issues
    assert (issue.line, issue.column, issue.path) == (6, 12, "sources.orders.write")
    assert (
        issue.message
        == "Input should be 'append', 'replace', 'merge', 'scd2' or 'insert_overwrite'"
    )
    assert SECRET not in str(error)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("delimiter: ${VALUE}", "sources.orders.delimiter"),
        ("encoding: ${VALUE}", "sources.orders.encoding"),
        ("table: ${VALUE}", "sources.orders.table"),
        ("table: bronze.${VALUE}", "sources.orders.table"),  # partly from the environment
        ("columns: {price: '${VALUE}'}", "sources.orders.columns.price"),
    ],
)
def test_validator_messages_do_not_echo_environment_values(
    registry: Registry, write_pipeline: WritePipeline, line: str, field: str
) -> None:
    path = write_pipeline(csv_source(line))

    error = failure(registry, path, {"VALUE": f"bad {SECRET}"})

    assert [issue.path for issue in error.issues] == [field]
    assert SECRET not in str(error)
    assert "not shown" in error.issues[0].message


def test_a_pipeline_name_from_the_environment_is_not_echoed(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline("pipeline: ${NAME}\nsources:\n  orders: {type: csv, path: a.csv}\n")

    (issue,) = failure(registry, path, {"NAME": f"my {SECRET}"}).issues

    assert issue.message == "(value not shown) is not a valid name; use letters, digits, _ and -"


def test_an_unknown_type_from_the_environment_is_not_echoed(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline("pipeline: shop\nsources:\n  orders:\n    type: ${KIND}\n")

    (issue,) = failure(registry, path, {"KIND": SECRET}).issues

    assert (issue.line, issue.column, issue.path) == (4, 11, "sources.orders.type")
    assert issue.message == (
        "unknown type (value not shown); allowed types: csv, excel, json, mysql, ndjson, "
        "parquet, postgres, postgres_cdc, xlsx"
    )


def test_a_short_secret_that_the_message_happens_to_contain_hides_the_whole_message(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(csv_source("encoding: ${ENC}"))

    (issue,) = failure(registry, path, {"ENC": "use"}).issues

    # "unsupported encoding '***'; use utf-8 ..." would still contain "use"
    assert issue.message == "invalid value (not shown: it is secret or comes from the environment)"


def test_a_table_clash_through_the_environment_does_not_name_the_table(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: a.csv
            table: ${TARGET}
          customers:
            type: csv
            path: b.csv
            table: ${TARGET}
        """
    )

    (issue,) = failure(registry, path, {"TARGET": "secret_table"}).issues

    assert issue.path == "sources.customers"
    assert issue.message == (
        "sources 'orders' and 'customers' both load the same table; "
        "give one of them another `table`"
    )


@settings(max_examples=30, deadline=None)
@given(value=st.text(min_size=1, max_size=30))
def test_no_environment_value_is_ever_echoed(value: str) -> None:
    # a marker no message contains on its own: if it shows up, the value leaked
    secret = f"\N{SNOWMAN}{value}\N{SNOWMAN}"
    text = (
        "pipeline: ${V}\n"
        "warehouse: {type: duckdb, threads: '${V}'}\n"
        "sources:\n"
        "  orders:\n"
        "    type: csv\n"
        "    path: a.csv\n"
        "    delimiter: ${V}\n"
        "    encoding: ${V}\n"
        "    table: ${V}\n"
        "    write: ${V}\n"
        "  customers:\n"
        "    type: ${V}\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            Registry().load(path, env={"V": secret})

    assert len(caught.value.issues) == 7
    assert "\N{SNOWMAN}" not in str(caught.value)


# --- SecretStr fields ----------------------------------------------------------------------------


def test_an_invalid_secret_field_is_not_echoed(write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: vaulted
        sources:
          keys:
            type: vault
            url: https://vault.example
            password: hunter2
        """
    )

    error = vault_failure(path, {})

    issue: ConfigIssue = error.issues[0]
    assert len(error.issues) == 1
    assert (issue.line, issue.column, issue.path) == (6, 15, "sources.keys.password")
    assert issue.message == "password (value not shown) is shorter than 20 characters"
    assert "hunter2" not in str(error)


def test_a_secret_field_is_masked_in_repr_and_json(write_pipeline: WritePipeline) -> None:
    path = write_pipeline(
        """\
        pipeline: vaulted
        sources:
          keys:
            type: vault
            url: https://vault.example
            password: ${VAULT_PASSWORD}
        """
    )
    password = "correct-horse-battery-staple"

    loaded = load_pipeline(
        path, VaultPipeline, env={"VAULT_PASSWORD": password}, default_warehouse={"type": "duckdb"}
    )

    source = loaded.spec.sources["keys"]
    assert isinstance(source, VaultSpec)
    assert source.password.get_secret_value() == password
    assert password not in repr(loaded.spec)
    assert password not in repr(loaded)
    assert password not in loaded.spec.model_dump_json()
    assert "**********" in loaded.spec.model_dump_json()
