"""Profiles: the selected one is deep-merged over the file, and positions stay true."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.engine.registry import DEFAULT_WAREHOUSE, Registry
from sluiceway.sources.files.csv import CsvSpec
from sluiceway.sources.files.parquet import ParquetSpec
from sluiceway.spec.loader import LoadedPipeline, load_pipeline
from sluiceway.spec.profiles import PROFILE_ENV
from tests.conftest import WritePipeline
from tests.spec_helpers import places

pytestmark = pytest.mark.unit

SHOP = """\
pipeline: shop
warehouse: {type: duckdb, threads: 2, memory_limit: 1GB}
defaults: {batch_size: 1000}
sources:
  orders:
    type: csv
    path: data/orders.csv
    delimiter: ";"
    primary_key: [order_id]
    write: merge
profiles:
  dev: {}
  staging:
    defaults: {batch_size: 5000}
  prod:
    warehouse: {threads: 8}
    sources:
      orders:
        path: /srv/orders/*.csv
        primary_key: [order_id, region]
"""


def load(
    registry: Registry, path: Path, profile: str | None = None, env: dict[str, str] | None = None
) -> LoadedPipeline:
    return load_pipeline(
        path,
        registry.pipeline_model,
        env=env or {},
        default_warehouse=DEFAULT_WAREHOUSE,
        profile=profile,
    )


def failure(registry: Registry, path: Path, profile: str | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(registry, path, profile)
    return caught.value


def orders(loaded: LoadedPipeline) -> CsvSpec:
    source = loaded.spec.sources["orders"]
    assert isinstance(source, CsvSpec)
    return source


# --- selection -----------------------------------------------------------------------------------


def test_dev_is_the_default_when_the_file_defines_it(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    loaded = load(registry, write_pipeline(SHOP))

    assert loaded.provenance is not None
    assert (loaded.provenance.profile, loaded.provenance.selected_by) == ("dev", "default")
    assert loaded.provenance.defined_profiles == ("dev", "staging", "prod")
    assert orders(loaded).path == "data/orders.csv"


def test_without_dev_and_without_a_choice_no_profile_applies(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    loaded = load(registry, write_pipeline(SHOP.replace("  dev: {}\n", "")))

    assert loaded.provenance is not None
    assert loaded.provenance.profile is None
    assert loaded.spec.warehouse.threads == 2


def test_the_environment_selects_and_the_argument_wins(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP)

    by_env = load(registry, path, env={PROFILE_ENV: "staging"})
    by_argument = load(registry, path, profile="prod", env={PROFILE_ENV: "staging"})

    assert by_env.spec.defaults.batch_size == 5000
    assert by_env.provenance is not None
    assert by_env.provenance.selected_by == PROFILE_ENV
    assert by_argument.spec.defaults.batch_size == 1000
    assert by_argument.spec.warehouse.threads == 8
    assert by_argument.provenance is not None
    assert by_argument.provenance.selected_by == "argument"


def test_registry_load_selects_through_the_environment(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    loaded = registry.load(write_pipeline(SHOP), env={PROFILE_ENV: "prod"})

    assert loaded.spec.warehouse.threads == 8


def test_an_unknown_profile_lists_the_defined_ones(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    error = failure(registry, write_pipeline(SHOP), "prd")

    (issue,) = error.issues
    assert places([issue]) == [(11, 1, "profiles")]
    assert issue.message == (
        "no profile 'prd' in this file (selected by --profile); "
        "profiles defined: dev, staging, prod"
    )


def test_a_file_without_profiles_ignores_the_selection(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.split("profiles:", maxsplit=1)[0])

    loaded = load(registry, path, "prod", env={PROFILE_ENV: "prod"})

    assert loaded.provenance is not None
    assert loaded.provenance.profile is None
    assert loaded.spec.warehouse.threads == 2


# --- merging -------------------------------------------------------------------------------------


def test_mappings_merge_and_lists_and_scalars_replace(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    loaded = load(registry, write_pipeline(SHOP), "prod")

    source = orders(loaded)
    assert loaded.spec.warehouse.threads == 8
    assert loaded.spec.warehouse.memory_limit == "1GB"  # kept from the file
    assert source.path == "/srv/orders/*.csv"
    assert source.primary_key == ["order_id", "region"]  # the list replaced, not appended
    assert source.delimiter == ";"
    assert loaded.spec.settings("orders").write == "merge"


def test_another_type_replaces_the_whole_block(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    parquet = "  prod:\n    sources:\n      orders: {type: parquet, path: o.parquet}\n"
    path = write_pipeline(SHOP.split("  prod:\n", maxsplit=1)[0] + parquet)

    source = load(registry, path, "prod").spec.sources["orders"]

    # csv's `delimiter` and `primary_key` did not leak into the parquet source
    assert isinstance(source, ParquetSpec)
    assert source.path == "o.parquet"
    assert source.primary_key == []


def test_a_profile_can_add_a_source(registry: Registry, write_pipeline: WritePipeline) -> None:
    path = write_pipeline(SHOP + "  qa:\n    sources:\n      returns: {type: csv, path: r.csv}\n")

    assert sorted(load(registry, path, "qa").spec.sources) == ["orders", "returns"]


def test_an_empty_profile_is_the_file_as_written(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("  dev: {}\n", "  dev:\n"))

    assert orders(load(registry, path)).path == "data/orders.csv"


def test_only_the_selected_profile_is_interpolated(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("path: /srv/orders/*.csv", "path: ${PROD_DATA}/*.csv"))

    assert orders(load(registry, path, "dev")).path == "data/orders.csv"
    (issue,) = failure(registry, path, "prod").issues
    assert places([issue]) == [(19, 15, "sources.orders.path")]
    assert "PROD_DATA is not set" in issue.message


def test_the_parsed_file_is_not_changed_by_merging(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP)

    load(registry, path, "prod")

    assert orders(load(registry, path, "dev")).primary_key == ["order_id"]


# --- positions -----------------------------------------------------------------------------------


def test_a_bad_value_set_by_the_profile_is_reported_at_the_profile(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("warehouse: {threads: 8}", "warehouse: {threads: many}"))

    (issue,) = failure(registry, path, "prod").issues

    assert places([issue]) == [(16, 26, "warehouse.threads")]


def test_an_unknown_key_in_a_profile_is_reported_at_the_profile(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("        path: /srv", "        pathh: /srv"))

    (issue,) = failure(registry, path, "prod").issues

    assert places([issue]) == [(19, 9, "sources.orders.pathh")]
    assert "did you mean 'path'" in issue.message


def test_a_bad_value_in_the_file_keeps_its_own_line(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("write: merge", "write: upsert"))

    (issue,) = failure(registry, path, "prod").issues

    assert places([issue]) == [(10, 12, "sources.orders.write")]


def test_a_block_replaced_by_the_profile_points_into_the_profile(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        SHOP.replace(
            "    warehouse: {threads: 8}\n",
            "    warehouse:\n      type: duckdb\n      threads: 8\n      memory: 2GB\n",
        )
    )

    (issue,) = failure(registry, path, "prod").issues

    assert places([issue]) == [(19, 7, "warehouse.memory")]


def test_a_profile_may_not_rename_the_pipeline(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("  staging:\n", "  staging:\n    pipeline: shop_staging\n"))

    (issue,) = failure(registry, path, "staging").issues

    assert places([issue]) == [(14, 5, "profiles.staging.pipeline")]
    assert "cannot set `pipeline`" in issue.message


@pytest.mark.parametrize(
    ("profiles", "where", "message"),
    [
        ("profiles: [dev, prod]\n", (12, 11, "profiles"), "`profiles` must map profile names"),
        ("profiles:\n  dev: [a]\n", (13, 8, "profiles.dev"), "a profile must be a mapping"),
    ],
)
def test_malformed_profiles(
    registry: Registry,
    write_pipeline: WritePipeline,
    profiles: str,
    where: tuple[int, int, str],
    message: str,
) -> None:
    path = write_pipeline(SHOP.split("profiles:", maxsplit=1)[0] + "\n" + profiles)

    (issue,) = failure(registry, path).issues

    assert places([issue]) == [where]
    assert issue.message.startswith(message)


# --- provenance ----------------------------------------------------------------------------------


def test_each_value_says_where_it_came_from(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(SHOP.replace("path: data/orders.csv", "path: ${DATA:-data}/orders.csv"))

    dev = load(registry, path, env={"DATA": "/in"}).provenance
    prod = load(registry, path, "prod").provenance

    assert dev is not None
    assert prod is not None
    assert dev.origin(("pipeline",)) == "sluiceway.yaml:1"
    assert dev.origin(("warehouse", "threads")) == "sluiceway.yaml:2"
    assert dev.origin(("sources", "orders", "path")) == "sluiceway.yaml:7, env DATA"
    assert dev.origin(("sources", "orders", "encoding")) == "default"
    assert dev.origin(("quality", "profile")) == "default"
    assert dev.origin(("sources", "orders", "primary_key", 0)) == "sluiceway.yaml:9"
    assert prod.origin(("warehouse", "threads")) == "sluiceway.yaml:16, profile prod"
    assert prod.origin(("sources", "orders", "primary_key", 1)) == (
        "sluiceway.yaml:20, profile prod"
    )
    assert prod.origin(("warehouse", "memory_limit")) == "sluiceway.yaml:2"
