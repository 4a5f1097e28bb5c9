"""``sluiceway lineage TABLE[.COLUMN]`` and ``sluiceway lineage impact TABLE.COLUMN``."""

from __future__ import annotations

import json
import sys
from typing import Any

from sluiceway.cli import render
from sluiceway.cli.context import CliState
from sluiceway.meta import lineage_store
from sluiceway.meta.store import MetaStore
from sluiceway.transform.lineage import LineageNode, render_tree


def show_lineage(state: CliState, ref: str, *, downstream: bool, output_format: str) -> None:
    """The tree of what ``ref`` comes from (default) or feeds (``downstream``)."""
    with MetaStore.for_state_dir(state.state_dir()) as store:
        graph = lineage_store.load_graph(store)
    if output_format == "mermaid":
        sys.stdout.write(graph.to_mermaid(focus=ref) + "\n")
        return
    tree = graph.downstream(ref) if downstream else graph.upstream(ref)
    if output_format == "json":
        sys.stdout.write(json.dumps(_node(tree), indent=2) + "\n")
        return
    render.stdout().print(render_tree(tree))


def show_impact(state: CliState, ref: str, *, as_json: bool) -> None:
    """Every column downstream of ``ref``: what a change to it can break."""
    with MetaStore.for_state_dir(state.state_dir()) as store:
        graph = lineage_store.load_graph(store)
    found = [str(r) for r in graph.impact(ref)]
    if as_json:
        sys.stdout.write(json.dumps({"ref": ref, "impact": found}, indent=2) + "\n")
        return
    out = render.stdout()
    if not found:
        out.print(f"Nothing downstream of {ref}.")
        return
    out.print(f"{len(found)} column(s) downstream of {ref}:")
    for item in found:
        out.print(f"  {item}")


def _node(node: LineageNode) -> dict[str, Any]:
    return {
        "name": node.name,
        "column": str(node.column) if node.column is not None else None,
        "kind": node.kind,
        "expression": node.expression,
        "repeated": node.repeated,
        "children": [_node(child) for child in node.children],
    }
