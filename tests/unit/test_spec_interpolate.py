"""``${VAR}`` and ``${VAR:-default}``: substituted into strings after parsing, never into YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluiceway.core.errors import ConfigError
from sluiceway.engine.registry import Registry
from sluiceway.sources.files.csv import CsvSpec
from sluiceway.spec.interpolate import InterpolationProblem, interpolate
from tests.conftest import WritePipeline

pytestmark = pytest.mark.unit

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


def substituted(value: Any, env: dict[str, str]) -> Any:
    """``value`` with variables substituted; fails if any problem is found."""
    result, problems, _ = interpolate(value, env)
    assert problems == []
    return result


# --- interpolate() ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${DIR}", "/data"),
        ("${DIR}/orders_*.csv", "/data/orders_*.csv"),
        ("${DIR}/${FILE}", "/data/orders.csv"),
        ("${MISSING:-fallback}", "fallback"),
        ("${MISSING:-}", ""),
        ("${DIR:-fallback}", "/data"),  # a set variable wins over its default
        ("${EMPTY:-fallback}", ""),  # set but empty is still set
        ("${MISSING:-a b: c}", "a b: c"),
        ("$${DIR}", "${DIR}"),
        ("price in $ and $$", "price in $ and $$"),
        ("${REF}", "${DIR}"),  # a value is not interpolated again
    ],
)
def test_substitution(text: str, expected: str) -> None:
    env = {"DIR": "/data", "FILE": "orders.csv", "EMPTY": "", "REF": "${DIR}"}

    assert substituted(text, env) == expected


def test_only_strings_change_everywhere_in_the_tree() -> None:
    data = {
        "a": ["${X}", 1, True, None, 2.5],
        "b": {"c": "pre-${X}-post", "d": [{"e": "${X}"}]},
    }

    result, problems, from_env = interpolate(data, {"X": "x"})

    assert result == {
        "a": ["x", 1, True, None, 2.5],
        "b": {"c": "pre-x-post", "d": [{"e": "x"}]},
    }
    assert problems == []
    assert from_env == {("a", 0), ("b", "c"), ("b", "d", 0, "e")}


def test_only_values_that_came_from_the_environment_are_marked() -> None:
    data = {"set": "${X}", "default": "${Y:-d}", "literal": "plain", "escaped": "$${X}"}

    _, _, from_env = interpolate(data, {"X": "x"})

    assert from_env == {("set",)}


def test_an_unset_variable_without_default_is_a_problem_at_its_path() -> None:
    result, problems, _ = interpolate({"s": {"p": ["ok", "${DATA_DIR}/x"]}}, {})

    assert result == {"s": {"p": ["ok", "/x"]}}
    assert problems == [
        InterpolationProblem(
            ("s", "p", 1),
            "environment variable DATA_DIR is not set; set it or give a default with "
            "${DATA_DIR:-value}",
        )
    ]


@pytest.mark.parametrize("reference", ["${1X}", "${UNCLOSED", "${}", "${A-B}", "${X:default}"])
def test_a_malformed_reference_is_a_problem(reference: str) -> None:
    _, problems, _ = interpolate({"k": f"a/{reference}"}, {"X": "x", "A": "a"})

    assert len(problems) == 1
    assert problems[0].path == ("k",)
    assert problems[0].message.startswith(f"malformed variable reference {reference!r}")


@settings(max_examples=50)
@given(text=st.text().filter(lambda t: "${" not in t))
def test_text_without_a_reference_is_unchanged(text: str) -> None:
    assert substituted(text, {"A": "x"}) == text


@settings(max_examples=50)
@given(name=NAMES, default=st.text().filter(lambda t: "}" not in t))
def test_the_default_of_an_unset_variable_is_used_verbatim(name: str, default: str) -> None:
    assert substituted(f"<${{{name}:-{default}}}>", {}) == f"<{default}>"


@settings(max_examples=50)
@given(name=NAMES, value=st.text(), default=st.text().filter(lambda t: "}" not in t))
def test_a_set_variable_is_substituted_verbatim(name: str, value: str, default: str) -> None:
    env = {name: value}

    assert substituted(f"<${{{name}}}>", env) == f"<{value}>"
    assert substituted(f"<${{{name}:-{default}}}>", env) == f"<{value}>"


# --- through the loader ------------------------------------------------------------------------


def test_variables_are_substituted_in_a_loaded_pipeline(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: ${NAME:-shop}
        sources:
          orders:
            type: csv
            path: ["${DATA}/a.csv", "${MORE:-b.csv}", "$${literal}.csv"]
            date_format: "${DATE_FORMAT:-}"
            batch_size: ${BATCH}
            lineage: ${LINEAGE}
        """
    )

    spec = registry.load(path, env={"DATA": "/in", "BATCH": "1000", "LINEAGE": "false"}).spec

    orders = spec.sources["orders"]
    assert isinstance(orders, CsvSpec)
    assert spec.pipeline == "shop"
    assert orders.path == ["/in/a.csv", "b.csv", "${literal}.csv"]
    assert orders.date_format == ""
    assert spec.settings("orders").batch_size == 1000
    assert spec.settings("orders").lineage is False


def test_without_an_env_mapping_the_process_environment_is_used(
    registry: Registry, write_pipeline: WritePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICEWAY_TEST_DIR", "/from/environ")
    path = write_pipeline(
        "pipeline: shop\nsources:\n  orders:\n    type: csv\n    path: ${SLUICEWAY_TEST_DIR}/a\n"
    )

    orders = registry.load(path).spec.sources["orders"]

    assert isinstance(orders, CsvSpec)
    assert orders.path == "/from/environ/a"


def test_a_variable_cannot_inject_yaml_structure(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    injected = "orders\nsources:\n  evil: {type: csv, path: /etc/passwd}\nx: 1: 2"
    path = write_pipeline(
        "pipeline: shop\ndescription: ${DESC}\nsources:\n  orders: {type: csv, path: a.csv}\n"
    )

    spec = registry.load(path, env={"DESC": injected}).spec

    assert spec.description == injected
    assert list(spec.sources) == ["orders"]


def test_an_unset_variable_is_one_issue_at_its_line(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path: a.csv
            write: ${MODE}
            table: ${SCHEMA}.orders
        """
    )

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    issues = caught.value.issues
    # the empty stand-ins ("" and ".orders") are not reported as bad values on top
    assert [(i.line, i.column, i.path) for i in issues] == [
        (6, 12, "sources.orders.write"),
        (7, 12, "sources.orders.table"),
    ]
    assert [i.message for i in issues] == [
        "environment variable MODE is not set; set it or give a default with ${MODE:-value}",
        "environment variable SCHEMA is not set; set it or give a default with ${SCHEMA:-value}",
    ]


def test_an_unset_variable_inside_a_list_points_at_the_item(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        """\
        pipeline: shop
        sources:
          orders:
            type: csv
            path:
              - a.csv
              - ${OTHER}/b.csv
        """
    )

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    (issue,) = caught.value.issues
    assert (issue.line, issue.column, issue.path) == (7, 9, "sources.orders.path[1]")
    assert "OTHER" in issue.message


def test_a_malformed_reference_is_an_issue_at_its_line(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        "pipeline: shop\nsources:\n  orders:\n    type: csv\n    path: ${1X}/${UNCLOSED\n"
    )

    with pytest.raises(ConfigError) as caught:
        registry.load(path, env={})

    issues = caught.value.issues
    assert [(i.line, i.column, i.path) for i in issues] == [(5, 11, "sources.orders.path")] * 2
    assert [i.message.split(";")[0] for i in issues] == [
        "malformed variable reference '${1X}'",
        "malformed variable reference '${UNCLOSED'",
    ]


def test_keys_are_not_interpolated(registry: Registry, project: Path) -> None:
    path = project / "p.yaml"
    path.write_text(
        "pipeline: shop\nsources:\n  orders:\n    type: csv\n    path: a.csv\n"
        "    columns: {'${COL}': INTEGER}\n",
        encoding="utf-8",
    )

    orders = registry.load(path, env={"COL": "price"}).spec.sources["orders"]

    assert orders.columns == {"${COL}": "INTEGER"}
