"""``sluiceway explain "SQL"``: the warehouse's plan of a query, as a tree or JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.tree import Tree

from sluiceway.cli import render
from sluiceway.cli.commands.query import open_warehouse
from sluiceway.cli.context import CliState
from sluiceway.core.sql_compile import compile_sql

# The keys worth a glance per node, PostgreSQL's and DuckDB's.
_SHOWN = (
    "Relation Name",
    "Index Name",
    "Join Type",
    "Actual Rows",
    "Plan Rows",
    "Actual Total Time",
    "Total Cost",
    "Shared Hit Blocks",
    "Shared Read Blocks",
)


def run_explain(
    state: CliState,
    sql: str,
    *,
    pipeline: str | None,
    analyze: bool,
    output: str,
    native: bool,
) -> None:
    with open_warehouse(state, pipeline, read_only=not analyze) as warehouse:
        text = sql if native else compile_sql(sql, warehouse.capabilities.dialect)
        plan = warehouse.explain(text, analyze=analyze)
    if output == "json":
        render.stdout().print_json(json.dumps(plan, default=str))
        return
    render.stdout().print(plan_tree(plan, analyzed=analyze))


def plan_tree(plan: Any, *, analyzed: bool, title: str = "plan") -> Tree:
    """A warehouse's JSON plan (PostgreSQL's or DuckDB's) as a tree of its operators."""
    tree = Tree(f"[bold]{title}[/bold] ({'measured' if analyzed else 'estimated'})")
    for node in _roots(plan):
        _add(tree, node)
    return tree


def _roots(plan: Any) -> list[dict[str, Any]]:
    if isinstance(plan, list):  # PostgreSQL: [{"Plan": ...}]; DuckDB: [operator, ...]
        return [p.get("Plan", p) if isinstance(p, dict) else {} for p in plan]
    if isinstance(plan, dict):
        operators = plan.get("operator")  # DuckDB's ANALYZE: {"io": …, "operator": [...]}
        if isinstance(operators, list):
            return [op for op in operators if isinstance(op, dict)]
        return [plan.get("Plan", plan)]
    return []


def _add(parent: Tree, node: dict[str, Any]) -> None:
    name = (
        node.get("Node Type")
        or node.get("name")
        or node.get("operator_type")
        or node.get("type")
        or "node"
    )
    details = [f"{k}={node[k]}" for k in _SHOWN if k in node]
    extra = node.get("extra_info")
    if isinstance(extra, dict):
        details += [f"{k}={v}" for k, v in extra.items() if k in ("Table", "Filters", "Join Type")]
    for key in ("operator_timing", "operator_cardinality", "timing", "intermediate_rows"):
        if key in node:
            details.append(f"{key.removeprefix('operator_')}={node[key]}")
    branch = parent.add(f"[bold]{name}[/bold] " + " ".join(details))
    for child in node.get("Plans", []) + node.get("children", []):
        if isinstance(child, dict):
            _add(branch, child)
