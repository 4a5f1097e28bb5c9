"""SQL models: ``.sql`` files found under a pipeline's ``models/`` folder.

Each file is one SELECT in DuckDB's dialect (no templating). Its name is its path under the
folder with ``/`` as ``.`` and without ``.sql`` (``silver/orders.sql`` is ``silver.orders``), and
so, unless its config says otherwise, is the table it builds. The tables it reads (parsed with
sqlglot, CTE names left out) are what it depends on: the engine runs it after the sources and
models that write them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp

from sluiceway.core.errors import ConfigError, Location
from sluiceway.core.names import TableRef
from sluiceway.spec.model import ModelConfig, ModelsSpec

_HEADER = re.compile(r"\A\s*/\*(?P<body>.*?)\*/", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    sql: str  # the SELECT, without its header block
    config: ModelConfig
    reads: tuple[str, ...]  # lower-cased tables it reads

    @property
    def table(self) -> TableRef:
        return TableRef.parse(self.config.table or self.name)


def discover_models(base: Path, spec: ModelsSpec) -> list[Model]:
    """Every model under ``base / spec.path``, sorted by name; ``[]`` if the folder is absent."""
    folder = (base / spec.path).resolve()
    if not folder.is_dir():
        if spec.config:
            raise ConfigError(
                f"`models.config` names {', '.join(sorted(spec.config))}, but there is no "
                f"models folder {folder}",
                hint="Create it, or point `models.path` at it.",
            )
        return []
    models = [_load(file, folder, spec.config) for file in sorted(folder.rglob("*.sql"))]
    unknown = sorted(set(spec.config) - {m.name for m in models})
    if unknown:
        raise ConfigError(
            f"`models.config` names {', '.join(map(repr, unknown))}, which no file under "
            f"{folder} defines",
            hint=f"Models: {', '.join(m.name for m in models) or 'none'}",
        )
    return models


def _load(file: Path, folder: Path, overrides: Mapping[str, Mapping[str, Any]]) -> Model:
    relative = file.relative_to(folder).with_suffix("")
    name = ".".join(relative.parts)
    where = Location(file=str(file))
    if not _NAME.match(name):
        raise ConfigError(
            f"model {name!r}: a model's path gives its name, which must be `name` or "
            "`schema.name` (letters, digits and _; at most one folder level)",
            location=where,
        )
    text = file.read_text(encoding="utf-8")
    header: dict[str, Any] = {}
    found = _HEADER.match(text)
    if found is not None:
        try:
            parsed = yaml.safe_load(found.group("body"))
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"model {name!r}: its header block is not valid YAML: {exc}", location=where
            ) from exc
        if parsed is not None and not isinstance(parsed, dict):
            raise ConfigError(
                f"model {name!r}: its header block must be YAML settings (`materialized: table` …)",
                location=where,
            )
        header = parsed or {}
        text = text[found.end() :]
    sql = text.strip().rstrip(";").strip()
    if not sql:
        raise ConfigError(f"model {name!r} has no SQL", location=where)
    try:
        config = ModelConfig.model_validate({**header, **overrides.get(name, {})})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"model {name!r}: {problems}", location=where) from None
    try:
        reads = tables_read(sql)
    except ConfigError as exc:
        raise ConfigError(f"model {name!r}: {exc.message}", location=where) from None
    return Model(name, file, sql, config, tuple(reads))


def tables_read(sql: str, *, dialect: str = "duckdb") -> list[str]:
    """The tables a SQL statement reads (``schema.table`` or ``table``, lower-cased), without
    its CTE names: what a SQL model depends on."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(f"cannot parse SQL to find the tables it reads: {exc}") from exc
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    found: list[str] = []
    for table in tree.find_all(exp.Table):
        if not table.name or (not table.db and table.name.lower() in ctes):
            continue
        name = f"{table.db}.{table.name}" if table.db else table.name
        found.append(name.lower())
    return list(dict.fromkeys(found))
