"""The DAG drawn: Mermaid and DOT text read back, SVG parsed as XML, PNG headers, the layout.

No Mermaid or Graphviz parser is installed, so the text formats are read back with the small
grammars below: every line must be a statement they know, and what they read must be the DAG.
"""

from __future__ import annotations

import random
import re
import struct
import threading
import xml.etree.ElementTree as ET
from itertools import combinations, pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluiceway.engine.dag import Dag, Edge, Step
from sluiceway.engine.dag_render import (
    MAX_PIXELS,
    STATUS_COLOURS,
    draw,
    layout,
    links,
    to_dot,
    to_mermaid,
)

pytestmark = pytest.mark.unit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def shop() -> Dag:
    steps = {
        "customers": Step("customers", "extract", target="bronze.customers"),
        "orders": Step("orders", "extract", target="bronze.orders"),
        "order_lines": Step("order_lines", "extract", target="bronze.order_lines"),
        "audit": Step("audit", "check"),
    }
    edges = [
        Edge("customers", "orders", "references bronze.customers"),
        Edge("orders", "order_lines", "depends_on"),
        Edge("customers", "order_lines", "a rule reads bronze.customers"),
        Edge("customers", "order_lines", "FK public.customers"),
        Edge("order_lines", "audit", "depends_on"),
    ]
    return Dag(steps, edges)


ODD = ["a-b", 'say "hi"', "end", "o<&>|#`x", "back\\slash", "$x$ 100%", "tab\tand\nline", "é"]


def odd() -> Dag:
    """Names and tables with characters both text formats must escape, in a chain."""
    steps = {name: Step(name, "extract", target=f"t.{name}") for name in ODD}
    edges = [Edge(a, b, f"why {a}") for a, b in pairwise(ODD)]
    return Dag(steps, edges)


def random_dag(size: int, seed: int) -> Dag:
    rng = random.Random(seed)
    names = [f"step_{i:03d}" for i in range(size)]
    steps = {n: Step(n, "extract", target=f"bronze.{n.replace('step', 'table')}") for n in names}
    edges = [
        Edge(names[parent], names[child], rng.choice(["depends_on", f"FK public.t{parent}"]))
        for child in range(1, size)
        for parent in rng.sample(range(max(0, child - 12), child), k=min(child, rng.randint(0, 3)))
    ]
    return Dag(steps, edges)


# -- Mermaid ---------------------------------------------------------------------------------

MERMAID_NODE = re.compile(r'    (step_[A-Za-z0-9_]+)\("([^"`|<>]*(?:<br/>[^"`|<>]*)?)"\)')
MERMAID_EDGE = re.compile(r'    (step_[A-Za-z0-9_]+) -->\|"([^"`|<>]*)"\| (step_[A-Za-z0-9_]+)')
MERMAID_CLASS = re.compile(
    r"    (classDef st_\w+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#[0-9a-f]{6}"
    r"|class step_[A-Za-z0-9_]+(?:,step_[A-Za-z0-9_]+)* st_\w+)"
)


def mermaid_unescape(text: str) -> str:
    named = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}
    return re.sub(
        r"#(\w+);", lambda m: named.get(m[1]) or chr(int(m[1])), text.replace("<br/>", "\n")
    )


def read_mermaid(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]], list[str]]:
    """Labels by node id, (parent id, reason, child id), the class lines; fails on anything
    else."""
    lines = text.splitlines()
    if lines[0] == "---":
        assert lines[1].startswith("title: ")
        assert lines[2] == "---"
        lines = lines[3:]
    assert lines[0] == "flowchart LR"
    nodes: dict[str, str] = {}
    edges: set[tuple[str, str, str]] = set()
    classes: list[str] = []
    for line in lines[1:]:
        if node := MERMAID_NODE.fullmatch(line):
            nodes[node[1]] = mermaid_unescape(node[2])
        elif edge := MERMAID_EDGE.fullmatch(line):
            edges.add((edge[1], mermaid_unescape(edge[2]), edge[3]))
        else:
            assert MERMAID_CLASS.fullmatch(line), f"not a statement: {line!r}"
            classes.append(line.strip())
    return nodes, edges, classes


def test_mermaid_has_every_step_and_edge_with_its_reasons() -> None:
    dag = shop()
    nodes, edges, classes = read_mermaid(to_mermaid(dag))
    assert sorted(nodes.values()) == sorted(
        f"{s.name}\n{s.target}" if s.target else s.name for s in dag.steps.values()
    )
    ids = {label.split("\n")[0]: node for node, label in nodes.items()}
    assert edges == {
        (ids["customers"], "references bronze.customers", ids["orders"]),
        (ids["orders"], "depends_on", ids["order_lines"]),
        (
            ids["customers"],
            "a rule reads bronze.customers, FK public.customers",
            ids["order_lines"],
        ),
        (ids["order_lines"], "depends_on", ids["audit"]),
    }
    assert classes == []


def test_mermaid_escapes_odd_names_and_keeps_ids_safe() -> None:
    dag = odd()
    text = to_mermaid(dag, title='the "odd" one')
    assert text.splitlines()[1] == 'title: "the \\"odd\\" one"'
    nodes, edges, _ = read_mermaid(text)
    clean = {name: re.sub(r"[\t\n]", " ", name) for name in ODD}
    assert sorted(nodes.values()) == sorted(f"{c}\nt.{c}" for c in clean.values())
    ids = {label.split("\n")[0]: node for node, label in nodes.items()}
    assert len(set(ids.values())) == len(ODD)
    assert "step_end" in ids.values()  # `end` alone would close a Mermaid block
    expected = {(ids[clean[a]], f"why {clean[a]}", ids[clean[b]]) for a, b in pairwise(ODD)}
    assert edges == expected


def test_mermaid_ids_stay_unique_when_names_differ_only_by_punctuation() -> None:
    dag = Dag({n: Step(n, "extract") for n in ("a-b", "a_b", "a.b")})
    nodes, _, _ = read_mermaid(to_mermaid(dag))
    assert len(nodes) == 3


def test_mermaid_classes_colour_steps_by_status() -> None:
    statuses = {"customers": "succeeded", "orders": "failed", "audit": "blocked", "x": "failed"}
    _, _, classes = read_mermaid(to_mermaid(shop(), statuses=statuses))
    fill, border = STATUS_COLOURS["failed"]
    assert f"classDef st_failed fill:{fill},stroke:{border},color:#1f2933" in classes
    assert "class step_orders st_failed" in classes
    assert "class step_customers st_succeeded" in classes
    assert "class step_audit st_blocked" in classes
    assert not any("order_lines" in line for line in classes)


# -- DOT -------------------------------------------------------------------------------------

QUOTED = r'"(?:[^"\\\n]|\\.)*"'
DOT_NODE = re.compile(rf"    ({QUOTED}) \[label=({QUOTED})((?:, \w+=\"#[0-9a-f]{{6}}\")*)\];")
DOT_EDGE = re.compile(rf"    ({QUOTED}) -> ({QUOTED}) \[label=({QUOTED})\];")
DOT_DEFAULTS = re.compile(rf"    (rankdir=LR|label={QUOTED}|(node|edge) \[[^\]]*\]);")


def dot_unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text[1:-1])


def read_dot(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]], dict[str, str]]:
    """Labels by node id, (parent, child, label), attributes by node id; fails on any line
    this grammar (a strict subset of DOT) does not know."""
    lines = text.splitlines()
    assert re.fullmatch(rf"digraph {QUOTED} \{{", lines[0])
    assert lines[-1] == "}"
    assert "    rankdir=LR;" in lines
    nodes: dict[str, str] = {}
    attributes: dict[str, str] = {}
    edges: set[tuple[str, str, str]] = set()
    for line in lines[1:-1]:
        if node := DOT_NODE.fullmatch(line):
            nodes[dot_unquote(node[1])] = dot_unquote(node[2])
            attributes[dot_unquote(node[1])] = node[3]
        elif edge := DOT_EDGE.fullmatch(line):
            edges.add((dot_unquote(edge[1]), dot_unquote(edge[2]), dot_unquote(edge[3])))
        else:
            assert DOT_DEFAULTS.fullmatch(line), f"not a statement: {line!r}"
    return nodes, edges, attributes


def test_dot_has_every_step_and_edge() -> None:
    dag = shop()
    nodes, edges, _ = read_dot(to_dot(dag, title="shop"))
    assert nodes == {
        "customers": "customers\nbronze.customers",
        "orders": "orders\nbronze.orders",
        "order_lines": "order_lines\nbronze.order_lines",
        "audit": "audit",
    }
    assert edges == {(p, c, reason) for (p, c), reason in links(dag).items()}
    assert len(edges) == 4


def test_dot_quotes_and_escapes_odd_names() -> None:
    text = to_dot(odd(), title='the "odd" one')
    assert text.startswith('digraph "the \\"odd\\" one" {\n')
    nodes, edges, _ = read_dot(text)
    clean = {name: name.replace("\t", " ") for name in ODD}  # a newline stays a line break
    assert nodes == {clean[n]: f"{clean[n]}\nt.{clean[n]}" for n in ODD}
    assert edges == {(clean[a], clean[b], f"why {clean[a]}") for a, b in pairwise(ODD)}


def test_dot_fills_steps_by_status() -> None:
    _, _, attributes = read_dot(to_dot(shop(), statuses={"orders": "failed", "audit": "?"}))
    fill, border = STATUS_COLOURS["failed"]
    assert attributes["orders"] == f', fillcolor="{fill}", color="{border}"'
    assert attributes["audit"] == attributes["customers"] == ""


# -- layout ----------------------------------------------------------------------------------


def crossings(dag: Dag, positions: dict[str, tuple[int, int]]) -> int:
    """Crossings between edges that join consecutive levels."""
    segments = [
        (positions[e.parent], positions[e.child])
        for e in dag.edges
        if positions[e.child][0] == positions[e.parent][0] + 1
    ]
    return sum(
        1
        for (p1, c1), (p2, c2) in combinations(segments, 2)
        if p1[0] == p2[0] and (p1[1] - p2[1]) * (c1[1] - c2[1]) < 0
    )


def file_order(dag: Dag) -> dict[str, tuple[int, int]]:
    return {n: (lv, row) for lv, level in enumerate(dag.levels()) for row, n in enumerate(level)}


def crafted() -> Dag:
    """Two chains a and b, listed so that in file order every pair of their edges crosses."""
    names = ["a1", "b1", "b2", "a2", "a3", "b3"]
    edges = [Edge("a1", "a2", "x"), Edge("b1", "b2", "x"), Edge("a2", "a3", "x")]
    edges.append(Edge("b2", "b3", "x"))
    return Dag({n: Step(n, "extract") for n in names}, edges)


def test_layout_uncrosses_what_file_order_crosses() -> None:
    dag = crafted()
    assert crossings(dag, file_order(dag)) == 2
    positions = layout(dag)
    assert crossings(dag, positions) == 0
    assert positions == layout(crafted())  # deterministic


def test_layout_puts_each_step_in_its_level_with_contiguous_rows() -> None:
    dag = random_dag(100, seed=3)
    positions = layout(dag)
    assert set(positions) == set(dag.steps)
    for number, level in enumerate(dag.levels()):
        assert sorted(positions[n] for n in level) == [(number, row) for row in range(len(level))]
    assert crossings(dag, positions) < crossings(dag, file_order(dag))


@st.composite
def layered(draw: st.DrawFn) -> Dag:
    """Levels of steps, every edge between consecutive levels, every step below the first
    with a parent in the level above (so its level is the one it was drawn in)."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    levels = [[f"s{lv}_{i}" for i in range(size)] for lv, size in enumerate(sizes)]
    edges: list[Edge] = []
    for upper, lower in pairwise(levels):
        for child in lower:
            parents = draw(st.sets(st.sampled_from(upper), min_size=1))
            edges += [Edge(p, child, "x") for p in sorted(parents)]
    names = draw(st.permutations([n for level in levels for n in level]))
    return Dag({n: Step(n, "extract") for n in names}, edges)


@settings(max_examples=150, deadline=None)
@given(layered())
def test_layout_never_crosses_more_than_file_order(dag: Dag) -> None:
    positions = layout(dag)
    assert positions.keys() == file_order(dag).keys()
    assert {n: lv for n, (lv, _) in positions.items()} == {
        n: lv for n, (lv, _) in file_order(dag).items()
    }
    assert crossings(dag, positions) <= crossings(dag, file_order(dag))


# -- pictures --------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)
    return [element.text or "" for element in root.iter(SVG_TEXT)]


def test_svg_is_xml_with_every_step_and_table_as_text() -> None:
    dag = shop()
    texts = svg_texts(draw(dag, "svg", title="shop"))
    for step in dag.steps.values():
        assert step.name in texts
        assert step.target is None or step.target in texts
    assert "shop" in texts
    assert "references bronze.customers" in texts  # a short reason labels its edge


def test_svg_keeps_odd_names_literal() -> None:
    dag = Dag({n: Step(n, "extract") for n in ['say "hi"', "o<&>|#x", "$x$ 100%", "a-b"]})
    texts = svg_texts(draw(dag, "svg"))
    for name in dag.steps:
        assert name in texts  # escaped for XML, and `$...$` is not read as mathtext


def test_svg_colours_steps_by_status() -> None:
    data = draw(shop(), "svg", statuses={"orders": "failed", "audit": "running"}).decode()
    assert STATUS_COLOURS["failed"][0] in data
    assert STATUS_COLOURS["running"][0] in data
    assert STATUS_COLOURS["succeeded"][0] not in data
    assert "failed" in svg_texts(data.encode())  # the legend


def test_png_has_a_sane_size() -> None:
    width, height = png_size(draw(shop(), "png"))
    assert 600 < width < 3000
    assert 150 < height < 1500
    assert width > height  # levels run left to right


def test_a_100_step_dag_renders_readably() -> None:
    dag = random_dag(100, seed=11)
    width, height = png_size(draw(dag, "png", statuses=dict.fromkeys(dag.steps, "succeeded")))
    assert width * height <= MAX_PIXELS
    levels = dag.levels()
    # the figure grows with the levels and the widest level instead of shrinking the boxes
    assert width / len(levels) >= 200
    assert height / max(map(len, levels)) >= 80
    texts = svg_texts(draw(dag, "svg"))
    assert set(dag.steps) <= set(texts)


def test_drawing_is_deterministic_and_safe_from_threads() -> None:
    dag = random_dag(20, seed=5)
    expected = draw(dag, "svg")
    results: dict[int, bytes] = {}

    def work(index: int) -> None:
        results[index] = draw(dag, "svg" if index % 2 else "png")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[1] == results[3] == expected
    assert results[0] == results[2]
    assert results[0].startswith(PNG_SIGNATURE)


def test_an_empty_dag_still_draws() -> None:
    empty = Dag({})
    assert png_size(draw(empty, "png"))[0] > 0
    assert ET.fromstring(draw(empty, "svg")) is not None
    assert read_mermaid(to_mermaid(empty)) == ({}, set(), [])
    assert read_dot(to_dot(empty))[0] == {}
