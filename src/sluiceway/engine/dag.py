"""The pipeline as a DAG of steps, and why each edge is there.

Every source is an ``extract`` step that loads one table. A step depends on another when

- it says so (``depends_on: [customers]``);
- it reads a table the other writes: a declared ``references`` (a foreign key to another
  source's table), a quality rule that reads another table (``foreign_key``, an ``expression``
  join, a side of ``consistency``), or the tables a SQL statement reads (:func:`tables_read`,
  parsed with sqlglot — how SQL models depend on what they select from);
- its database says so: a PostgreSQL/MySQL source's foreign keys, read from the catalog, point
  at the table another source of the same database reads (:func:`discover_foreign_keys`).

A cycle is a :class:`ConfigError` that names it. :meth:`Dag.levels` groups the steps that can
run together; :meth:`Dag.order` is one topological order that keeps the file's order where the
edges allow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import Any, Literal

from sluiceway.core.endpoints import endpoint_of
from sluiceway.core.errors import ConfigError, SluicewayError
from sluiceway.transform.models import Model

StepKind = Literal["extract", "check", "model", "monitor", "export"]
WAREHOUSE_RESOURCE = "warehouse"
_DEFAULT_SCHEMAS = ("main", "public")


@dataclass(frozen=True, slots=True)
class Edge:
    """``child`` runs after ``parent`` because of ``reason``."""

    parent: str
    child: str
    reason: str


@dataclass(frozen=True, slots=True)
class Step:
    """One node: what it is, the table it writes, the resources it holds while it runs."""

    name: str
    kind: StepKind
    target: str | None = None
    reads: tuple[str, ...] = ()  # lower-cased tables it reads, for edges by table
    resources: tuple[str, ...] = ()  # endpoints and named resources (concurrency limits)
    endpoint: str | None = None  # the source's service, if any: its circuit breaker


@dataclass
class Dag:
    steps: dict[str, Step]
    edges: list[Edge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. foreign keys that could not be read

    # A Dag's steps and edges do not change once it is built (its notes may grow), so the
    # maps below are computed once: the executor asks for parents at every scheduling pass.

    @cached_property
    def _links(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        parents: dict[str, dict[str, None]] = {name: {} for name in self.steps}
        children: dict[str, dict[str, None]] = {name: {} for name in self.steps}
        for edge in self.edges:
            parents.setdefault(edge.child, {})[edge.parent] = None
            children.setdefault(edge.parent, {})[edge.child] = None
        return (
            {name: list(found) for name, found in parents.items()},
            {name: list(found) for name, found in children.items()},
        )

    def parents(self, name: str) -> list[str]:
        return list(self._links[0].get(name, ()))

    def children(self, name: str) -> list[str]:
        return list(self._links[1].get(name, ()))

    def downstream(self, name: str) -> list[str]:
        """Every step that (transitively) waits for ``name``, in run order."""
        return self._reach(name, self.children)

    def upstream(self, name: str) -> list[str]:
        """Every step ``name`` (transitively) waits for, in run order."""
        return self._reach(name, self.parents)

    def _reach(self, name: str, links: Callable[[str], list[str]]) -> list[str]:
        seen: set[str] = set()
        todo = [name]
        while todo:
            for other in links(todo.pop()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return [n for n in self.order() if n in seen]

    def order(self) -> list[str]:
        """A topological order: file order, except that parents come before children."""
        return [name for level in self._levels for name in level]

    def levels(self) -> list[list[str]]:
        """Steps by depth: level 0 needs nothing, level n needs something of level n - 1."""
        return [list(level) for level in self._levels]

    @cached_property
    def _levels(self) -> tuple[tuple[str, ...], ...]:
        check_acyclic(self)
        depth: dict[str, int] = {}

        def level_of(name: str) -> int:
            if name not in depth:
                depth[name] = 1 + max((level_of(p) for p in self.parents(name)), default=-1)
            return depth[name]

        for name in self.steps:
            level_of(name)
        levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name in self.steps:  # file order within a level
            levels[depth[name]].append(name)
        return tuple(tuple(level) for level in levels)

    def subset(self, names: Iterable[str]) -> Dag:
        """Only ``names``, with the edges between them."""
        keep = set(names)
        return Dag(
            {n: s for n, s in self.steps.items() if n in keep},
            [e for e in self.edges if e.parent in keep and e.child in keep],
            list(self.notes),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "target": s.target,
                    "resources": list(s.resources),
                    "depends_on": self.parents(s.name),
                }
                for s in self.steps.values()
            ],
            "edges": [{"from": e.parent, "to": e.child, "reason": e.reason} for e in self.edges],
            "levels": self.levels(),
            "notes": list(self.notes),
        }


def check_acyclic(dag: Dag) -> None:
    """Raise a ConfigError naming the first cycle found, with the reason of each edge."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for child in dag.children(name):
            if state.get(child) == 1:
                cycle = [*path[path.index(child) :], child]
                raise ConfigError(
                    f"the steps depend on each other in a cycle: {' -> '.join(cycle)}",
                    hint="Why: "
                    + "; ".join(_reason(dag, a, b) for a, b in pairwise(cycle))
                    + ". One of these dependencies must go, or load the tables in separate "
                    "runs.",
                )
            if state.get(child) is None:
                visit(child)
        path.pop()
        state[name] = 2

    for name in dag.steps:
        if name not in state:
            visit(name)


def _reason(dag: Dag, parent: str, child: str) -> str:
    reasons = [e.reason for e in dag.edges if e.parent == parent and e.child == child]
    return f"{child} after {parent} ({', '.join(reasons)})"


# -- building the DAG of a pipeline ----------------------------------------------------------


def build_dag(
    spec: Any,
    *,
    foreign_keys: Mapping[str, Sequence[str]] | None = None,
    models: Sequence[Model] = (),
) -> Dag:
    """The DAG of a pipeline spec and its SQL models.

    ``foreign_keys`` maps a source to the source tables its catalog says it refers to
    (``schema.table``, lower-cased), as :func:`discover_foreign_keys` reads them.
    """
    names = list(spec.sources)
    clash = sorted({m.name for m in models} & set(names))
    if clash:
        raise ConfigError(
            f"{', '.join(map(repr, clash))} names both a source and a model",
            hint="Rename the model's file (or its folder), or the source.",
        )
    writes = {str(spec.settings(n).table).lower(): n for n in names}
    writes.update({str(m.table).lower(): m.name for m in models})
    warehouse = endpoint_of(spec.warehouse)  # a server's, so its limit covers loads into it
    shared = (WAREHOUSE_RESOURCE, *([warehouse] if warehouse else []))
    steps: dict[str, Step] = {}
    edges: list[Edge] = []

    def add(parent: str | None, child: str, reason: str) -> None:
        if parent is not None and parent != child:
            edges.append(Edge(parent, child, reason))

    for name in names:
        source = spec.sources[name]
        settings = spec.settings(name)
        endpoint = endpoint_of(source)
        resources = ([endpoint] if endpoint else []) + [*source.resources, *shared]
        reads = _rule_tables(settings.checks) + [r.table.lower() for r in source.references]
        steps[name] = Step(
            name,
            "extract",
            target=str(settings.table),
            reads=tuple(dict.fromkeys(reads)),
            resources=tuple(dict.fromkeys(resources)),
            endpoint=endpoint,
        )
        for ref in source.references:
            add(_writer(writes, ref.table), name, f"references {ref.table}")
    for model in models:
        steps[model.name] = Step(
            model.name,
            "model",
            target=str(model.table),
            reads=tuple(dict.fromkeys([*model.reads, *_rule_tables(model.config.checks)])),
            resources=shared,
        )
    every = [*names, *(m.name for m in models)]
    for name, wanted in [
        *((n, spec.sources[n].depends_on) for n in names),
        *((m.name, m.config.depends_on) for m in models),
    ]:
        for parent in wanted:
            if parent not in steps:
                raise ConfigError(
                    f"{name!r}: `depends_on` names {parent!r}, which is not a step of "
                    f"pipeline {spec.pipeline!r}",
                    hint=f"Steps: {', '.join(every)}",
                )
            add(parent, name, "depends_on")
    for name, step in steps.items():
        declared = (
            {r.table.lower() for r in spec.sources[name].references} if name in names else set()
        )
        why = "reads" if step.kind == "model" else "a rule reads"
        for table in step.reads:
            if table not in declared:
                add(_writer(writes, table), name, f"{why} {table}")
    by_source_table = _source_tables(spec)
    for name, referenced in (foreign_keys or {}).items():
        for table in referenced:
            add(by_source_table.get((_database(spec.sources[name]), table)), name, f"FK {table}")
    dag = Dag(steps, list(dict.fromkeys(edges)))
    check_acyclic(dag)
    return dag


def _writer(writes: Mapping[str, str], table: str) -> str | None:
    """The step writing ``table``; an unqualified name also matches the default schema."""
    name = table.lower()
    found = writes.get(name)
    if found is None and "." in name and name.split(".", 1)[0] in _DEFAULT_SCHEMAS:
        found = writes.get(name.split(".", 1)[1])
    if found is None and "." not in name:
        found = next(
            (writes[f"{s}.{name}"] for s in _DEFAULT_SCHEMAS if f"{s}.{name}" in writes), None
        )
    return found


def _rule_tables(rules: Sequence[Any]) -> list[str]:
    """Tables a quality rule reads: a `foreign_key`'s, an expression join's, consistency's."""
    tables: list[str] = []
    for rule in rules:
        refs = [getattr(rule, "ref_table", None)]
        join = getattr(rule, "join", None)
        refs.append(join.table if join is not None else None)
        for side in (getattr(rule, "left", None), getattr(rule, "right", None)):
            refs.append(getattr(side, "table", None))
        tables.extend(str(ref).lower() for ref in refs if ref)
    return tables


def _database(config: Any) -> str | None:
    return endpoint_of(config) if hasattr(config, "source_table") else None


def _source_tables(spec: Any) -> dict[tuple[str | None, str], str]:
    """(database endpoint, source table lower-cased, schema-qualified) → the source reading it."""
    found: dict[tuple[str | None, str], str] = {}
    for name, source in spec.sources.items():
        table = getattr(source, "source_table", None)
        if not table:
            continue
        qualified = table.replace('"', "").lower()
        if "." not in qualified:  # the default schema: public, or MySQL's database
            database = (_database(source) or "").rsplit("/", 1)[-1]
            default = "public" if getattr(source, "type", "") == "postgres" else database
            qualified = f"{default.lower()}.{qualified}" if default else qualified
        found[(_database(source), qualified)] = name
    return found


def discover_foreign_keys(
    spec: Any,
    create: Callable[[Any], Any],
    *,
    skip: Callable[[str], bool] = lambda endpoint: False,
) -> tuple[dict[str, list[str]], list[str]]:
    """Ask each SQL table source's catalog which tables its table refers to.

    Returns ``{source: [schema.table, ...]}`` and notes for sources whose catalog could not be
    read, or was not asked because ``skip(endpoint)`` (its circuit breaker is open). The run
    goes on in the order the rest of the DAG gives; the step itself will say what is wrong.
    """
    found: dict[str, list[str]] = {}
    notes: list[str] = []
    for name, config in spec.sources.items():
        if getattr(config, "source_table", None) is None:
            continue
        endpoint = endpoint_of(config)
        if endpoint is not None and skip(endpoint):
            notes.append(f"{name}: foreign keys not read (the circuit of {endpoint} is open)")
            continue
        source = create(config)
        discover = getattr(source, "discover", None)
        if discover is None:
            continue
        try:
            info = discover()
        except SluicewayError as exc:
            notes.append(f"{name}: foreign keys not read ({exc.message})")
            continue
        found[name] = [fk.referenced.lower() for fk in info.foreign_keys]
    return found, notes


def select_steps(pipeline: str, dag: Dag, select: Sequence[str]) -> list[str]:
    """The steps ``--select`` names, in run order: ``name``, ``name+`` (it and everything
    downstream of it), ``+name`` (it and everything it needs)."""
    chosen: set[str] = set()
    unknown: list[str] = []
    for item in select:
        name = item.strip("+")
        if name not in dag.steps:
            unknown.append(item)
            continue
        chosen.add(name)
        if item.endswith("+"):
            chosen.update(dag.downstream(name))
        if item.startswith("+"):
            chosen.update(dag.upstream(name))
    if unknown:
        raise ConfigError(
            f"pipeline {pipeline!r} has no step named {', '.join(map(repr, unknown))}",
            hint=f"Steps: {', '.join(dag.order())}. `NAME+` adds what runs after it, `+NAME` "
            "what it needs.",
        )
    return [name for name in dag.order() if name in chosen]
