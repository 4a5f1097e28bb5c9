"""YAML → plain Python values, remembering where each value and key was written.

PyYAML's composer keeps a mark (line, column) on every node; we walk the node tree ourselves so
that a validation error on ``sources.orders.delimiter`` can point at ``pipeline.yaml:12:16``.
Duplicate keys, which PyYAML silently collapses, are reported instead. Merge keys
(``<<: *base``) are resolved as ``yaml.safe_load`` resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # the C loader is an order of magnitude faster; both build the same nodes
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is present in every wheel we ship on
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(slots=True)
class PositionedDocument:
    """A parsed YAML document plus the position of every value and mapping key by path."""

    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    duplicates: list[tuple[Path, Position]] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> Position | None:
        """The position of ``path``; a missing path falls back to its nearest ancestor."""
        table = self.keys if key else self.values
        probe = path
        while True:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe[:-1]


class YamlSyntaxError(ValueError):
    """The text is not valid YAML; carries the position PyYAML reported."""

    def __init__(self, message: str, position: Position | None) -> None:
        super().__init__(message)
        self.position = position


_scalar_constructor = yaml.SafeLoader("")
_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_positioned(text: str) -> PositionedDocument:
    """Parse one YAML document, keeping positions. Raises :class:`YamlSyntaxError`."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        position = Position(mark.line + 1, mark.column + 1) if mark is not None else None
        problem = exc.problem or str(exc)
        context = exc.context_mark
        if exc.context and context is not None:
            # the problem shows where parsing broke; the context where the construct began
            # (an unclosed quote breaks at the end of the file, but begins at the quote)
            problem += f"; {exc.context} at line {context.line + 1}, column {context.column + 1}"
        raise YamlSyntaxError(problem, position) from exc
    doc = PositionedDocument(data=None)
    if node is None:
        return doc
    doc.data = _build(node, (), doc)
    return doc


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _build(
    node: yaml.Node, path: Path, doc: PositionedDocument, ancestors: frozenset[int] = frozenset()
) -> Any:
    doc.values[path] = _position(node)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in ancestors:  # ``a: &x [*x]`` would recurse forever
            raise YamlSyntaxError("an alias refers to a node that contains it", _position(node))
        ancestors = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else None
                merges.extend(merged if merged is not None else [value_node])
                continue
            key = _build(key_node, (*path, "<key>"), doc, ancestors)
            doc.values.pop((*path, "<key>"), None)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*path, key)
            if key in result:
                doc.duplicates.append((child, _position(key_node)))
            doc.keys[child] = _position(key_node)
            result[key] = _build(value_node, child, doc, ancestors)
        for source in merges:
            _merge(source, path, result, doc, ancestors)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), doc, ancestors) for index, item in enumerate(node.value)
        ]
    return _scalar_constructor.construct_object(node, deep=True)


def _merge(
    source: yaml.Node,
    path: Path,
    result: dict[Any, Any],
    doc: PositionedDocument,
    ancestors: frozenset[int],
) -> None:
    """``<<: *base`` adds the keys of ``base`` that the mapping does not set itself.

    Keys written in the mapping win, then earlier merged mappings; a merged key keeps the
    position where it is written (under the anchor), which is where a mistake must be fixed.
    """
    if not isinstance(source, yaml.MappingNode):
        raise YamlSyntaxError(
            "a merge key `<<` must refer to a mapping or a list of mappings", _position(source)
        )
    scratch = PositionedDocument(data=None)
    merged = _build(source, path, scratch, ancestors)
    for key, value in merged.items():
        if key in result:
            continue
        result[key] = value
        child = (*path, key)
        for table, found in ((doc.keys, scratch.keys), (doc.values, scratch.values)):
            table.update((p, pos) for p, pos in found.items() if p[: len(child)] == child)
