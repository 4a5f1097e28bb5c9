"""A pipeline's DAG as Mermaid, DOT, PNG or SVG (``sluiceway dag``).

Mermaid and DOT are text for other tools to lay out. PNG and SVG are drawn here with
matplotlib, without Graphviz, from our own layered layout (:func:`layout`): one column per
level of :meth:`Dag.levels`, the steps of a level reordered by a few barycenter sweeps to
cross fewer edges (deterministic: ties keep the file's order). An edge that skips levels runs
through a gap kept for it in each level it crosses, so it never passes behind a step.

A step can be coloured by its status (``statuses={"orders": "failed"}``): succeeded green,
failed red, skipped grey, blocked orange, running blue, cancelled yellow, pending white.

>>> from sluiceway.engine.dag import Dag, Edge, Step
>>> dag = Dag({"a": Step("a", "extract"), "b": Step("b", "extract")}, [Edge("a", "b", "x")])
>>> print(to_mermaid(dag).splitlines()[-1])
    step_a -->|"x"| step_b
"""

from __future__ import annotations

import bisect
import io
import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from sluiceway.engine.dag import Dag

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# fill, border
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "succeeded": ("#cdeccf", "#2e7d32"),
    "failed": ("#f9cfcf", "#c62828"),
    "skipped": ("#e4e4e4", "#757575"),
    "blocked": ("#ffdcb5", "#e65100"),
    "running": ("#cfe2fa", "#1565c0"),
    "cancelled": ("#fbf0b8", "#9a7b00"),
    "pending": ("#ffffff", "#90a4ae"),
}
PLAIN = ("#f4f6f9", "#52606d")
EDGE_COLOUR = "#7b8794"
TEXT_COLOUR = "#1f2933"
MUTED_COLOUR = "#52606d"
SHORT_REASON = 32  # longer reasons (several joined) are left off the picture, not the text formats
LABEL_CHARS = 40  # a longer name or table is cut with an ellipsis in the picture
SWEEPS = 12

Node = str | tuple[str, str, int]  # a step, or (parent, child, level): an edge crossing a level


# -- text formats ----------------------------------------------------------------------------


def links(dag: Dag) -> dict[tuple[str, str], str]:
    """One entry per (parent, child), its reasons joined: how every format draws an edge."""
    reasons: dict[tuple[str, str], list[str]] = {}
    for edge in dag.edges:
        reasons.setdefault((edge.parent, edge.child), []).append(edge.reason)
    return {pair: ", ".join(dict.fromkeys(found)) for pair, found in reasons.items()}


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text)


_MERMAID = str.maketrans(
    {'"': "#quot;", "#": "#35;", "<": "#60;", ">": "#62;", "&": "#38;", "|": "#124;", "`": "#96;"}
)


def _mermaid_text(text: str) -> str:
    """Text for inside a quoted Mermaid label: entity codes for what its parser would read."""
    return _one_line(text).translate(_MERMAID)


def _mermaid_ids(names: Sequence[str]) -> dict[str, str]:
    """``step_<name>``: letters, digits and ``_`` only, never a Mermaid keyword, unique."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = "step_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        candidate, number = base, 1
        while candidate in used:
            number += 1
            candidate = f"{base}_{number}"
        used.add(candidate)
        ids[name] = candidate
    return ids


def _ordered_names(dag: Dag) -> list[str]:
    """Steps by level, then by row of :func:`layout`: declared in this order, other layout
    engines start from an order that crosses few edges."""
    positions = layout(dag)
    return sorted(dag.steps, key=lambda name: positions[name])


def to_mermaid(
    dag: Dag, *, statuses: Mapping[str, str] | None = None, title: str | None = None
) -> str:
    """A Mermaid ``flowchart LR``: a rounded node per step (name, then its table), an edge per
    dependency labelled with its reasons, a ``classDef`` per status given."""
    names = _ordered_names(dag)
    ids = _mermaid_ids(names)
    lines = ["---", f"title: {json.dumps(title)}", "---"] if title else []
    lines.append("flowchart LR")
    for name in names:
        step = dag.steps[name]
        label = _mermaid_text(name)
        if step.target:
            label += "<br/>" + _mermaid_text(step.target)
        lines.append(f'    {ids[name]}("{label}")')
    for (parent, child), reason in links(dag).items():
        lines.append(f'    {ids[parent]} -->|"{_mermaid_text(reason)}"| {ids[child]}')
    by_status: dict[str, list[str]] = {}
    for name in names:
        status = str((statuses or {}).get(name, ""))
        if status in STATUS_COLOURS:
            by_status.setdefault(status, []).append(ids[name])
    for status, members in by_status.items():
        fill, border = STATUS_COLOURS[status]
        lines.append(f"    classDef st_{status} fill:{fill},stroke:{border},color:{TEXT_COLOUR}")
        lines.append(f"    class {','.join(members)} st_{status}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    """A DOT double-quoted string; a newline becomes DOT's ``\\n`` line break."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _one_line(escaped.replace("\r\n", "\\n").replace("\n", "\\n")) + '"'


def to_dot(dag: Dag, *, statuses: Mapping[str, str] | None = None, title: str | None = None) -> str:
    """A Graphviz ``digraph`` (``rankdir=LR``): a rounded box per step, filled by its status,
    an edge per dependency labelled with its reasons."""
    fill, border = PLAIN
    lines = [
        f"digraph {_dot_quote(title or 'sluiceway')} {{",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica", '
        f'fillcolor="{fill}", color="{border}", fontcolor="{TEXT_COLOUR}"];',
        f'    edge [color="{EDGE_COLOUR}", fontname="Helvetica", fontsize=9, '
        f'fontcolor="{MUTED_COLOUR}"];',
    ]
    if title:
        lines.append(f"    label={_dot_quote(title)};")
    for name in _ordered_names(dag):
        step = dag.steps[name]
        label = name + (f"\n{step.target}" if step.target else "")
        attributes = [f"label={_dot_quote(label)}"]
        status = str((statuses or {}).get(name, ""))
        if status in STATUS_COLOURS:
            status_fill, status_border = STATUS_COLOURS[status]
            attributes += [f'fillcolor="{status_fill}"', f'color="{status_border}"']
        lines.append(f"    {_dot_quote(name)} [{', '.join(attributes)}];")
    for (parent, child), reason in links(dag).items():
        lines.append(
            f"    {_dot_quote(parent)} -> {_dot_quote(child)} [label={_dot_quote(reason)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- layout ----------------------------------------------------------------------------------


@dataclass
class _Layers:
    """Levels of nodes in drawing order, with the segments between consecutive levels."""

    levels: list[list[Node]]
    paths: dict[tuple[str, str], list[Node]]  # each link: parent, the levels it crosses, child
    above: dict[Node, list[Node]]
    below: dict[Node, list[Node]]


def _layers(dag: Dag) -> _Layers:
    levels: list[list[Node]] = [list(level) for level in dag.levels()]
    depth = {name: number for number, level in enumerate(levels) for name in level}
    paths: dict[tuple[str, str], list[Node]] = {}
    above: dict[Node, list[Node]] = {node: [] for level in levels for node in level}
    below: dict[Node, list[Node]] = {node: [] for level in levels for node in level}
    for parent, child in links(dag):
        path: list[Node] = [parent]
        for number in range(depth[parent] + 1, depth[child]):
            dummy = (parent, child, number)
            levels[number].append(dummy)
            above[dummy], below[dummy] = [], []
            path.append(dummy)
        path.append(child)
        for upper, lower in pairwise(path):
            below[upper].append(lower)
            above[lower].append(upper)
        paths[(parent, child)] = path
    return _Layers(levels, paths, above, below)


def _crossings(layers: _Layers) -> int:
    """Edge crossings between consecutive levels (pairs of segments in inverted order)."""
    total = 0
    for upper, lower in pairwise(layers.levels):
        row = {node: number for number, node in enumerate(lower)}
        segments = sorted(
            (position, row[child])
            for position, node in enumerate(upper)
            for child in layers.below[node]
        )
        seen: list[int] = []
        for _, end in segments:
            total += len(seen) - bisect.bisect_right(seen, end)
            bisect.insort(seen, end)
    return total


def _sweep(layers: _Layers, *, down: bool) -> None:
    """Reorder each level by the mean row of its neighbours in the level just swept (a node
    without neighbours there keeps its row)."""
    numbers = range(1, len(layers.levels)) if down else range(len(layers.levels) - 2, -1, -1)
    neighbours = layers.above if down else layers.below
    for number in numbers:
        fixed = layers.levels[number - 1 if down else number + 1]
        row = {node: position for position, node in enumerate(fixed)}
        keys: list[tuple[float, int, Node]] = []
        for position, node in enumerate(layers.levels[number]):
            found = [row[other] for other in neighbours[node]]
            keys.append((sum(found) / len(found) if found else position, position, node))
        layers.levels[number] = [node for *_, node in sorted(keys, key=lambda k: k[:2])]


def _ordered(dag: Dag) -> _Layers:
    """The layers after barycenter sweeps, down then up, keeping the order that crosses least."""
    layers = _layers(dag)
    best = [list(level) for level in layers.levels]
    fewest = _crossings(layers)
    for sweep in range(SWEEPS):
        if fewest == 0:
            break
        _sweep(layers, down=sweep % 2 == 0)
        found = _crossings(layers)
        if found < fewest:
            fewest, best = found, [list(level) for level in layers.levels]
    layers.levels = best
    return layers


def layout(dag: Dag) -> dict[str, tuple[int, int]]:
    """``{step: (level, row)}``: the column and the position within it the picture uses.

    Rows count steps only; the edges that cross a level also take a (thinner) place in it.
    """
    positions: dict[str, tuple[int, int]] = {}
    for number, level in enumerate(_ordered(dag).levels):
        steps = [node for node in level if isinstance(node, str)]
        positions.update({name: (number, row) for row, name in enumerate(steps)})
    return positions


# -- pictures --------------------------------------------------------------------------------

BOX_H = 0.62  # inches: the figure is drawn in inches, so text keeps its size on any DAG
GAP_Y = 0.28
LANE = 0.22  # the height a level gives an edge that crosses it
GAP_X = 1.9
MARGIN = 0.35
TOP = 0.45  # the title and the status legend
NAME_PT, TARGET_PT, REASON_PT = 9.0, 7.5, 6.5
STEEP = 0.8  # no reason on an edge rising or falling more than this per inch across a gap
MAX_PIXELS = 40_000_000  # PNG: lower the resolution of huge DAGs rather than run out of memory
MAX_SIDE = 30_000
DPI = 110.0

_DRAWING = threading.Lock()  # rc_context (SVG text as text) changes matplotlib's global state


@dataclass(frozen=True)
class _Box:
    left: float
    width: float
    y: float  # centre


def _cut(text: str) -> str:
    text = _one_line(text)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _geometry(dag: Dag, levels: list[list[Node]]) -> tuple[dict[Node, _Box], float, float]:
    """Where each node is (inches, y up), and the width and height of the drawing."""
    boxes: dict[Node, _Box] = {}
    heights = [
        sum(BOX_H + GAP_Y if isinstance(node, str) else LANE for node in level) for level in levels
    ]
    tallest = max(heights, default=0.0)
    left = MARGIN
    for level, height in zip(levels, heights, strict=True):
        chars = [
            max(len(_cut(node)) * 1.05, len(_cut(dag.steps[node].target or "")) * 0.85)
            for node in level
            if isinstance(node, str)
        ]
        width = min(max(1.4, 0.075 * max(chars, default=0) + 0.35), 3.6)
        top = MARGIN + tallest - (tallest - height) / 2
        for node in level:
            slot = BOX_H + GAP_Y if isinstance(node, str) else LANE
            boxes[node] = _Box(left, width, top - slot / 2)
            top -= slot
        left += width + GAP_X
    return boxes, left - GAP_X + MARGIN, tallest + 2 * MARGIN + TOP


def _draw_step(ax: Axes, step: Any, box: _Box, status: str | None) -> None:
    from matplotlib.patches import FancyBboxPatch

    fill, border = STATUS_COLOURS.get(status or "", PLAIN)
    ax.add_patch(
        FancyBboxPatch(
            (box.left, box.y - BOX_H / 2),
            box.width,
            BOX_H,
            boxstyle="round,pad=0,rounding_size=0.12",
            facecolor=fill,
            edgecolor=border,
            linewidth=1.4 if status in STATUS_COLOURS else 1.0,
            zorder=3,
        )
    )
    centre = box.left + box.width / 2
    text: dict[str, Any] = {"ha": "center", "va": "center", "zorder": 4, "parse_math": False}
    if step.target:
        ax.text(centre, box.y + 0.1, _cut(step.name), fontsize=NAME_PT, weight="bold", **text)
        ax.text(
            centre, box.y - 0.13, _cut(step.target), fontsize=TARGET_PT, color=MUTED_COLOUR, **text
        )
    else:
        ax.text(centre, box.y, _cut(step.name), fontsize=NAME_PT, weight="bold", **text)


def _ports(
    paths: Mapping[tuple[str, str], list[Node]], boxes: Mapping[Node, _Box]
) -> dict[tuple[str, str], tuple[float, float]]:
    """Where each link leaves its parent and enters its child, as offsets from the boxes'
    middles: the links of a side spread over it, in the order of the other ends, so that
    they neither meet in one point nor cross at the box."""
    sides: dict[tuple[Node, bool], list[tuple[float, tuple[str, str]]]] = {}
    for link, path in paths.items():
        sides.setdefault((path[0], True), []).append((-boxes[path[1]].y, link))
        sides.setdefault((path[-1], False), []).append((-boxes[path[-2]].y, link))
    offsets: dict[tuple[tuple[str, str], bool], float] = {}
    for (_, leaving), found in sides.items():
        spread = min(BOX_H * 0.3, 0.07 * (len(found) - 1))
        for index, (_, link) in enumerate(sorted(found)):
            share = index / (len(found) - 1) if len(found) > 1 else 0.5
            offsets[(link, leaving)] = spread * (1 - 2 * share)
    return {link: (offsets[(link, True)], offsets[(link, False)]) for link in paths}


def _draw_link(
    ax: Axes,
    path: list[Node],
    boxes: dict[Node, _Box],
    *,
    reason: str,
    ports: tuple[float, float],
    taken: list[Rect],
) -> None:
    """S-curves across the gaps between levels, straight through the levels crossed."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    first = boxes[path[0]]
    vertices = [(first.left + first.width, first.y + ports[0])]
    codes = [Path.MOVETO]
    for index, node in enumerate(path[1:], start=1):
        box = boxes[node]
        x0, y0 = vertices[-1]
        y1 = box.y + (ports[1] if index == len(path) - 1 else 0.0)
        bend = (box.left - x0) / 2
        vertices += [(x0 + bend, y0), (box.left - bend, y1), (box.left, y1)]
        codes += [Path.CURVE4] * 3
        if index < len(path) - 1:  # an edge crossing this level: straight through its lane
            vertices.append((box.left + box.width, box.y))
            codes.append(Path.LINETO)
    arrow = FancyArrowPatch(
        path=Path(vertices, codes),
        arrowstyle="-|>,head_length=5,head_width=2.6",
        color=EDGE_COLOUR,
        linewidth=0.9,
        zorder=2,
    )
    ax.add_patch(arrow)
    if len(reason) <= SHORT_REASON:
        _draw_reason(ax, reason, curve=vertices[:4], taken=taken)


Rect = tuple[float, float, float, float]  # left, bottom, right, top


def _draw_reason(
    ax: Axes, reason: str, *, curve: Sequence[tuple[float, float]], taken: list[Rect]
) -> None:
    """The reason on the first curve of its edge: halfway along, else a bit before or after,
    wherever it does not cover another reason. Left off when there is no such place, or when
    the curve is so steep that the label could belong to any edge it passes."""
    half_width = len(reason) * REASON_PT * 0.3 / 72 + 0.05
    half_height = REASON_PT * 0.8 / 72
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = curve
    if abs(y3 - y0) > STEEP * (x3 - x0):
        return
    for t in (0.5, 0.38, 0.62, 0.28, 0.72):
        u = 1 - t  # a point of the cubic Bézier curve
        x = u**3 * x0 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t**3 * x3
        y = u**3 * y0 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y3
        rect = (x - half_width, y - half_height, x + half_width, y + half_height)
        if not any(_overlap(rect, other) for other in taken):
            break
    else:
        return
    taken.append(rect)
    ax.text(
        x,
        y,
        reason,
        fontsize=REASON_PT,
        color=MUTED_COLOUR,
        ha="center",
        va="center",
        parse_math=False,
        zorder=5,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.85, "lw": 0},
    )


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _draw_header(ax: Axes, height: float, title: str | None, statuses: Mapping[str, str]) -> None:
    from matplotlib.patches import Patch

    if title:
        ax.text(
            MARGIN,
            height - MARGIN / 2 - 0.1,
            _one_line(title),
            fontsize=11,
            weight="bold",
            ha="left",
            va="center",
            color=TEXT_COLOUR,
            parse_math=False,
        )
    shown = [s for s in STATUS_COLOURS if s in {str(v) for v in statuses.values()}]
    if shown:
        handles = [
            Patch(facecolor=STATUS_COLOURS[s][0], edgecolor=STATUS_COLOURS[s][1], label=s)
            for s in shown
        ]
        ax.legend(
            handles=handles,
            loc="upper right",
            ncols=len(handles),
            frameon=False,
            fontsize=8,
            bbox_to_anchor=(1.0, 1.0),
            handlelength=1.2,
            columnspacing=1.0,
        )


def draw(
    dag: Dag,
    fmt: Literal["png", "svg"],
    *,
    statuses: Mapping[str, str] | None = None,
    title: str | None = None,
) -> bytes:
    """The DAG as a PNG or an SVG picture (matplotlib, no Graphviz, no GUI).

    Levels run left to right; within one, steps are ordered to cross few edges. The figure
    grows with the number of levels and the widest level, so 100 steps stay readable. SVG keeps
    its text as text (searchable, selectable).
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    layers = _ordered(dag)
    boxes, width, height = _geometry(dag, layers.levels)
    width, height = max(width, 4.0), max(height, 1.6)
    with _DRAWING, rc_context({"svg.fonttype": "none", "svg.hashsalt": "sluiceway"}):
        figure = Figure(figsize=(width, height))
        ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.set_axis_off()
        for name, step in dag.steps.items():
            _draw_step(ax, step, boxes[name], str((statuses or {}).get(name, "")) or None)
        ports, taken = _ports(layers.paths, boxes), list[Rect]()
        for link, reason in links(dag).items():
            path = layers.paths[link]
            _draw_link(ax, path, boxes, reason=reason, ports=ports[link], taken=taken)
        _draw_header(ax, height, title, statuses or {})
        dpi = min(DPI, MAX_SIDE / max(width, height), (MAX_PIXELS / (width * height)) ** 0.5)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {}
        figure.savefig(buffer, format=fmt, dpi=dpi, facecolor="white", metadata=metadata)
    return buffer.getvalue()
