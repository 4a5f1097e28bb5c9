"""YAML with positions: every key and value keeps the line and column where it is written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sluiceway.spec.diagnostics import render_path
from sluiceway.spec.yaml_positions import (
    Path,
    Position,
    YamlSyntaxError,
    load_positioned,
)

pytestmark = pytest.mark.unit

TEXT = """\
a:
  b: 1
  c: [x, y]
d: {e: f}
"""


def test_keys_and_values_have_their_positions() -> None:
    doc = load_positioned(TEXT)

    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}, "d": {"e": "f"}}
    assert doc.keys == {
        ("a",): Position(1, 1),
        ("a", "b"): Position(2, 3),
        ("a", "c"): Position(3, 3),
        ("d",): Position(4, 1),
        ("d", "e"): Position(4, 5),
    }
    assert doc.values[("a", "b")] == Position(2, 6)
    assert doc.values[("a", "c", 0)] == Position(3, 7)
    assert doc.values[("a", "c", 1)] == Position(3, 10)
    assert doc.values[("d", "e")] == Position(4, 8)
    assert doc.duplicates == []


def test_a_missing_path_falls_back_to_its_nearest_ancestor() -> None:
    doc = load_positioned(TEXT)

    assert doc.position(("a", "c", 7)) == Position(3, 6)  # the list
    assert doc.position(("a", "zz", "y")) == Position(2, 3)  # the mapping under a
    assert doc.position(("a", "zz"), key=True) == Position(1, 1)  # the key `a`
    assert doc.position(("a", "b"), key=True) == Position(2, 3)


def test_an_empty_document_has_no_data_and_no_positions() -> None:
    doc = load_positioned("# nothing here\n")

    assert doc.data is None
    assert doc.position(("a",)) is None


def test_duplicate_keys_are_recorded_at_the_repeat() -> None:
    doc = load_positioned("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n")

    assert doc.data == {"a": 4, "b": {"c": 3}}
    assert doc.duplicates == [(("b", "c"), Position(4, 3)), (("a",), Position(5, 1))]


def test_a_syntax_error_carries_its_position() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_positioned("a: [1, 2\nb: 3\n")

    assert caught.value.position == Position(2, 2)
    assert str(caught.value).startswith("did not find expected ',' or ']'")


def test_merge_keys_follow_yaml_precedence() -> None:
    text = """\
base: &base {x: 1, y: 2, z: 3}
other: &other {y: 20, w: 40}
merged:
  <<: [*other, *base]
  x: 100
"""

    doc = load_positioned(text)

    # keys written in the mapping win, then the earlier merged mapping
    assert doc.data["merged"] == {"x": 100, "y": 20, "z": 3, "w": 40}
    assert doc.data == yaml.safe_load(text)
    assert doc.keys[("merged", "x")] == Position(5, 3)
    assert doc.keys[("merged", "y")] == Position(2, 16)  # written under the anchor `other`
    assert doc.keys[("merged", "z")] == Position(1, 26)
    assert doc.duplicates == []


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ((), ""),
        (("pipeline",), "pipeline"),
        (("sources", "orders", "path", 0), "sources.orders.path[0]"),
        (("a", 1, 2, "b"), "a[1][2].b"),
    ],
)
def test_render_path(path: Path, rendered: str) -> None:
    assert render_path(path) == rendered


# --- properties ------------------------------------------------------------------------------


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
KEYS = st.text(_ALPHABET, max_size=8).map(lambda tail: f"k_{tail}")
WORDS = st.text(_ALPHABET, max_size=8).map(lambda tail: f"v_{tail}")
SCALARS = st.one_of(st.integers(), st.booleans(), st.none(), WORDS)
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=15,
)
DOCUMENTS = st.dictionaries(KEYS, TREES, min_size=1, max_size=5)


def paths(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) below ``value``."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*path, key), child
        if isinstance(child, dict | list):
            yield from paths(child, (*path, key))


def text_at(lines: list[str], position: Position) -> str:
    return lines[position.line - 1][position.column - 1 :]


@settings(max_examples=40)
@given(
    data=DOCUMENTS,
    flow=st.sampled_from([False, True, None]),
    indent=st.integers(min_value=2, max_value=6),
)
def test_every_key_and_word_is_found_where_its_position_says(
    data: dict[str, Any], flow: bool | None, indent: int
) -> None:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=flow, indent=indent)
    lines = text.splitlines()

    doc = load_positioned(text)

    assert doc.data == data
    every = list(paths(data))
    assert set(doc.keys) == {path for path, _ in every if isinstance(path[-1], str)}
    for path, position in doc.keys.items():
        assert text_at(lines, position).startswith(str(path[-1])), (path, position)
    for path, value in every:
        if isinstance(value, str):
            assert text_at(lines, doc.values[path]).startswith(value), (path, value)


@settings(max_examples=30)
@given(data=DOCUMENTS, pick=st.integers(min_value=0))
def test_a_repeated_top_level_key_is_always_reported(data: dict[str, Any], pick: int) -> None:
    key = list(data)[pick % len(data)]
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    repeated = text + f"{key}: again\n"

    doc = load_positioned(repeated)

    assert doc.data[key] == "again"
    assert doc.duplicates == [((key,), Position(len(repeated.splitlines()), 1))]
