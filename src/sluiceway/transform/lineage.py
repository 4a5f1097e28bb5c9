"""Lineage: where every column of every table comes from, and what it feeds.

Three kinds of facts feed one :class:`LineageGraph`:

- column lineage of SQL models, read from their SQL by :func:`column_lineage`
  (``silver.orders.total`` ← ``bronze.orders.amount`` by ``SUM(bronze.orders.amount)``);
- column lineage a Python transform declares (the same :class:`ColumnLineage` records);
- table-level edges (:class:`TableEdge`): a file, an API or a table loaded into a bronze table,
  a model's tables (:func:`table_lineage`), a transform that declares no columns.

The graph answers ``sluiceway lineage``: the upstream and downstream trees of a table
(``schema.table``) or a column (``schema.table.column``), everything a change would impact in
topological order, and a Mermaid drawing. It is acyclic by construction: an edge that would close
a cycle is refused, and a model reading its own table (an incremental model) is not an edge::

    >>> graph = LineageGraph()
    >>> graph.add_model("silver.orders", column_lineage(
    ...     "SELECT id, amount * 100 AS cents FROM bronze.orders", target="silver.orders"))
    >>> [str(ref) for ref in graph.impact("bronze.orders.amount")]
    ['silver.orders.cents']
"""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from rich.text import Text
from rich.tree import Tree

from sluiceway.core.errors import ConfigError, NotFoundError
from sluiceway.transform.lineage_types import (
    COLUMN_KINDS,
    TABLE_EDGE_KINDS,
    ColumnEdge,
    ColumnKind,
    ColumnLineage,
    ColumnRef,
    TableEdge,
    TableEdgeKind,
)
from sluiceway.transform.sql_lineage import column_lineage, table_lineage

__all__ = [
    "COLUMN_KINDS",
    "TABLE_EDGE_KINDS",
    "ColumnEdge",
    "ColumnKind",
    "ColumnLineage",
    "ColumnRef",
    "LineageGraph",
    "LineageNode",
    "TableEdge",
    "TableEdgeKind",
    "column_lineage",
    "render_tree",
    "table_lineage",
]

_Vertex: TypeAlias = ColumnRef | str  # a column, or a table (or a load's source) by name
_V = TypeVar("_V", ColumnRef, str)


@dataclass(frozen=True, slots=True)
class LineageNode:
    """One node of an upstream or downstream tree (see :meth:`LineageGraph.upstream`).

    A column node (``column`` set) carries how that column is computed: ``kind`` and
    ``expression``, both None for a column no model computes (a loaded bronze column). A table
    node carries the table-level edge linking it to its parent in the tree: its ``kind``
    (load, model, transform) and ``expression`` (the edge's detail), None at the root.
    A node met earlier in the tree is ``repeated``, without its children again.
    """

    name: str
    column: ColumnRef | None = None
    kind: str | None = None
    expression: str | None = None
    children: tuple[LineageNode, ...] = ()
    repeated: bool = False

    def walk(self) -> Iterator[LineageNode]:
        """This node and every node under it, depth first, in order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class _Computed:
    kind: ColumnKind
    expression: str


class LineageGraph:
    """Column and table edges between tables, acyclic; see the module's documentation."""

    def __init__(self) -> None:
        self._tables: dict[str, None] = {}  # every table-level vertex, in the order met
        self._columns: dict[str, dict[str, None]] = {}  # table → its columns, in order
        self._computed: dict[ColumnRef, _Computed] = {}
        self._column_edges: dict[tuple[ColumnRef, ColumnRef], ColumnEdge] = {}
        self._column_parents: dict[ColumnRef, dict[ColumnRef, None]] = {}
        self._column_children: dict[ColumnRef, dict[ColumnRef, None]] = {}
        # Table edges: the declared ones, and "model" ones implied by column edges.
        self._table_edges: dict[tuple[str, str], TableEdge] = {}
        self._declared: set[tuple[str, str]] = set()
        self._table_parents: dict[str, dict[str, None]] = {}
        self._table_children: dict[str, dict[str, None]] = {}
        self._ranks: dict[str, int] | None = None

    # -- building --------------------------------------------------------------------------

    def add_model(
        self, target: str, columns: Sequence[ColumnLineage], tables: Sequence[TableEdge] = ()
    ) -> None:
        """Add a model's (or a transform's) output columns and table edges into ``target``.

        Sources in ``target`` itself are left out (a model reading its own table). Raises
        :class:`ConfigError` if an edge would close a cycle (nothing is added then), and
        ``ValueError`` for a table edge into another table.
        """
        key = _table_key(target)
        pairs: dict[tuple[str, str], None] = {}
        for lineage in columns:
            pairs.update(((source.table, key), None) for source in lineage.sources)
        for edge in tables:
            if _table_key(edge.target) != key:
                raise ValueError(f"a table edge of model {key} goes into {edge.target}")
            pairs[(edge.source.strip(), key)] = None
        for origin, into in pairs:
            self._refuse_cycle(origin, into)
        self._add_table(key)
        # The model's output order first, whatever order its columns were met in as sources.
        known = self._columns.get(key, {})
        self._columns[key] = dict.fromkeys(ColumnRef(key, c.column).column for c in columns)
        self._columns[key].update(known)
        for lineage in columns:
            ref = ColumnRef(key, lineage.column)
            self._computed[ref] = _Computed(lineage.kind, lineage.expression)
            for source in lineage.sources:
                if source.table != key:
                    self._add_column_edge(ColumnEdge(source, ref, lineage.expression, lineage.kind))
        for edge in tables:
            self.add_table_edge(edge)

    def add_table_edge(self, edge: TableEdge) -> None:
        """Add a table-level edge (a load, a model's table, a transform); idempotent.

        An edge from a table into itself is ignored; one closing a cycle is a ConfigError.
        """
        source, target = edge.source.strip(), _table_key(edge.target)
        if not source:
            raise ValueError(f"a table edge into {target} needs a source")
        if source == target:
            return
        self._refuse_cycle(source, target)
        declared = TableEdge(source, target, edge.kind, edge.detail)
        self._link_tables(source, target, declared)

    def _add_table(self, table: str) -> None:
        if table not in self._tables:
            self._tables[table] = None
            self._ranks = None

    def _add_column(self, ref: ColumnRef) -> None:
        self._add_table(ref.table)
        self._columns.setdefault(ref.table, {})[ref.column] = None

    def _add_column_edge(self, edge: ColumnEdge) -> None:
        self._add_column(edge.source)
        self._column_edges[(edge.source, edge.target)] = edge
        self._column_parents.setdefault(edge.target, {})[edge.source] = None
        self._column_children.setdefault(edge.source, {})[edge.target] = None
        self._link_tables(edge.source.table, edge.target.table, None)

    def _link_tables(self, source: str, target: str, declared: TableEdge | None) -> None:
        self._add_table(source)
        self._add_table(target)
        pair = (source, target)
        if declared is not None:
            self._table_edges[pair] = declared
            self._declared.add(pair)
        elif pair not in self._table_edges:
            self._table_edges[pair] = TableEdge(source, target, "model")
        self._table_parents.setdefault(target, {})[source] = None
        self._table_children.setdefault(source, {})[target] = None
        self._ranks = None

    def _refuse_cycle(self, source: str, target: str) -> None:
        if source == target:
            return
        path = self._path(target, source)
        if path is not None:
            loop = " → ".join([source, *path])
            raise ConfigError(
                f"lineage from {source} into {target} would close a cycle: {loop}",
                hint="a model cannot read, directly or through other models, a table it feeds",
            )

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A path of table edges from ``start`` to ``goal``, if there is one."""
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        visited = {start}
        while stack:
            table, path = stack.pop()
            if table == goal:
                return path
            for child in self._table_children.get(table, ()):
                if child not in visited:
                    visited.add(child)
                    stack.append((child, [*path, child]))
        return None

    # -- reading ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Every table (and load source) in topological order: sources before their targets."""
        return sorted(self._tables, key=self._rank)

    def columns(self, table: str) -> list[ColumnRef]:
        """The known columns of ``table``, in the order its model outputs them."""
        key = _table_key(table)
        return [ColumnRef(key, column) for column in self._columns.get(key, ())]

    def column_edges(self) -> list[ColumnEdge]:
        return list(self._column_edges.values())

    def table_edges(self) -> list[TableEdge]:
        """Declared table edges, and a ``model`` edge for each pair linked by column edges."""
        return list(self._table_edges.values())

    def upstream(self, ref: str | ColumnRef) -> LineageNode:
        """The tree of what ``ref`` (``schema.table`` or ``schema.table.column``) comes from.

        A column's children are the columns it is computed from; a column computed from no
        column (a loaded one, ``COUNT(*)``) continues with its table's table-level sources.
        """
        return self._tree(self._locate(ref), up=True, seen=set(), link=None)

    def downstream(self, ref: str | ColumnRef) -> LineageNode:
        """The tree of what is computed from ``ref``, transitively."""
        return self._tree(self._locate(ref), up=False, seen=set(), link=None)

    def impact(self, ref: str | ColumnRef) -> list[ColumnRef]:
        """Every column downstream of ``ref``, once each, in topological order.

        For a table: every column of every table downstream of it (a ``COUNT(*)`` depends on
        the table, not on a column).
        """
        vertex = self._locate(ref)
        if isinstance(vertex, ColumnRef):
            found = _reachable(vertex, self._column_children)
        else:
            tables = _reachable(vertex, self._table_children)
            found = {ColumnRef(t, c) for t in tables for c in self._columns.get(t, ())}
        return sorted(found, key=self._column_order)

    def to_mermaid(self, focus: str | ColumnRef | None = None) -> str:
        """A Mermaid flowchart: tables as subgraphs of their columns, column edges labelled with
        their kind, and dotted table-level edges where no column edge links two tables.

        With ``focus`` (a table or a column), only what is upstream or downstream of it, the
        focus highlighted.
        """
        if focus is None:
            tables = set(self._tables)
            shown = {ColumnRef(t, c) for t in tables for c in self._columns.get(t, ())}
            return self._mermaid(tables, shown, None)
        vertex = self._locate(focus)
        nodes = [*self.upstream(vertex).walk(), *self.downstream(vertex).walk()]
        if isinstance(vertex, ColumnRef):
            shown = {node.column for node in nodes if node.column is not None}
            tables = {ref.table for ref in shown}
            tables.update(node.name for node in nodes if node.column is None)
        else:
            tables = {node.name for node in nodes}
            shown = {ColumnRef(t, c) for t in tables for c in self._columns.get(t, ())}
        return self._mermaid(tables, shown, vertex)

    # -- trees -----------------------------------------------------------------------------

    def _tree(
        self, vertex: _Vertex, *, up: bool, seen: set[_Vertex], link: TableEdge | None
    ) -> LineageNode:
        if isinstance(vertex, ColumnRef):
            return self._column_tree(vertex, up=up, seen=seen)
        kind = link.kind if link is not None else None
        detail = link.detail or None if link is not None else None
        if vertex in seen:
            return LineageNode(vertex, kind=kind, expression=detail, repeated=True)
        seen.add(vertex)
        links = self._table_parents if up else self._table_children
        children = tuple(
            self._tree(other, up=up, seen=seen, link=self._table_edge(vertex, other, up=up))
            for other in links.get(vertex, ())
        )
        return LineageNode(vertex, kind=kind, expression=detail, children=children)

    def _column_tree(self, ref: ColumnRef, *, up: bool, seen: set[_Vertex]) -> LineageNode:
        computed = self._computed.get(ref)
        kind = computed.kind if computed is not None else None
        expression = computed.expression if computed is not None else None
        if ref in seen:
            return LineageNode(str(ref), ref, kind, expression, repeated=True)
        seen.add(ref)
        links = self._column_parents if up else self._column_children
        children = [self._column_tree(other, up=up, seen=seen) for other in links.get(ref, ())]
        if up and not children and kind != "constant":
            children = [
                self._tree(source, up=True, seen=seen, link=self._table_edges[(source, ref.table)])
                for source in self._table_parents.get(ref.table, ())
            ]
        return LineageNode(str(ref), ref, kind, expression, tuple(children))

    def _table_edge(self, table: str, other: str, *, up: bool) -> TableEdge:
        return self._table_edges[(other, table) if up else (table, other)]

    # -- lookups and order -----------------------------------------------------------------

    def _locate(self, ref: str | ColumnRef) -> _Vertex:
        if isinstance(ref, ColumnRef):
            if ref.column in self._columns.get(ref.table, ()):
                return ref
            raise self._unknown(str(ref))
        text = ref.strip()
        for candidate in (text, text.lower()):
            if candidate in self._tables:
                return candidate
        table, dot, column = text.lower().rpartition(".")
        if dot and column in self._columns.get(table, ()):
            return ColumnRef(table, column)
        raise self._unknown(text)

    def _unknown(self, text: str) -> NotFoundError:
        names = [*self._tables, *(f"{t}.{c}" for t, cs in self._columns.items() for c in cs)]
        close = difflib.get_close_matches(text.lower(), names, n=3)
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else "lineage is recorded when models run and pipelines load: run the pipeline "
            "first, and name a table (`schema.table`) or a column (`schema.table.column`)"
        )
        return NotFoundError(f"no table or column {text!r} in the lineage", hint=hint)

    def _rank(self, table: str) -> int:
        if self._ranks is None:
            # Kahn's algorithm, ties broken by name so that the order is stable.
            pending = {table: len(self._table_parents.get(table, ())) for table in self._tables}
            ready = [table for table, count in pending.items() if count == 0]
            heapq.heapify(ready)
            ranks: dict[str, int] = {}
            while ready:
                current = heapq.heappop(ready)
                ranks[current] = len(ranks)
                for child in self._table_children.get(current, ()):
                    pending[child] -= 1
                    if pending[child] == 0:
                        heapq.heappush(ready, child)
            self._ranks = ranks
        return self._ranks[table]

    def _column_order(self, ref: ColumnRef) -> tuple[int, int]:
        # Column edges imply table edges and never stay inside a table, so ordering columns by
        # their table's rank is a topological order of the columns.
        return self._rank(ref.table), list(self._columns[ref.table]).index(ref.column)

    # -- mermaid ---------------------------------------------------------------------------

    def _mermaid(self, tables: set[str], shown: set[ColumnRef], focus: _Vertex | None) -> str:
        lines = ["flowchart LR"]
        ids: dict[_Vertex, str] = {}
        count = 0
        for number, table in enumerate(sorted(tables, key=self._rank)):
            ids[table] = f"t{number}"
            columns = [ref for ref in self.columns(table) if ref in shown]
            if not columns:
                lines.append(f'    t{number}["{_mermaid_text(table)}"]')
                continue
            lines.append(f'    subgraph t{number}["{_mermaid_text(table)}"]')
            for ref in columns:
                ids[ref] = f"c{count}"
                count += 1
                lines.append(f'        {ids[ref]}["{_mermaid_text(ref.column)}"]')
            lines.append("    end")
        linked: set[tuple[str, str]] = set()
        drawn = sorted(
            (edge for edge in self._column_edges.values() if {edge.source, edge.target} <= shown),
            key=lambda edge: (self._column_order(edge.target), self._column_order(edge.source)),
        )
        for edge in drawn:
            lines.append(f"    {ids[edge.source]} -->|{edge.kind}| {ids[edge.target]}")
            linked.add((edge.source.table, edge.target.table))
        undrawn = [pair for pair in self._declared - linked if set(pair) <= tables]
        for source, target in sorted(undrawn, key=lambda p: (self._rank(p[1]), self._rank(p[0]))):
            kind = self._table_edges[(source, target)].kind
            lines.append(f"    {ids[source]} -.->|{kind}| {ids[target]}")
        if focus is not None:
            lines.append("    classDef focus stroke:#d97706,stroke-width:3px")
            lines.append(f"    class {ids[focus]} focus")
        return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _table_key(table: str) -> str:
    key = table.strip().lower()
    if not key:
        raise ValueError("a table name is required, got an empty one")
    return key


def _reachable(start: _V, links: dict[_V, dict[_V, None]]) -> set[_V]:
    found: set[_V] = set()
    stack = [start]
    while stack:
        for child in links.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


# -- printing ----------------------------------------------------------------------------------


def render_tree(tree: LineageNode) -> Tree:
    """A rich tree of an upstream or downstream tree, for ``sluiceway lineage``.

    Each line names the table or column, then how it is computed (a column's kind and its
    expression, unless it is the bare source column) or linked (a table edge's kind and detail).
    """
    root = Tree(_label(tree, root=True))
    _grow(root, tree.children)
    return root


def _grow(branch: Tree, nodes: Sequence[LineageNode]) -> None:
    for node in nodes:
        _grow(branch.add(_label(node, root=False)), node.children)


def _label(node: LineageNode, *, root: bool) -> Text:
    style = "bold" if root else ("cyan" if node.column is not None else "magenta")
    label = Text(node.name, style=style)
    if node.kind is not None:
        label.append(f"  {node.kind}", style="dim")
    if node.expression and node.kind not in {"identity", "rename"}:
        label.append(f"  {node.expression}", style="green")
    if node.repeated:
        label.append("  (see above)", style="dim italic")
    return label
