"""Models: the files under a pipeline's ``models/`` folder, and Python modules it names.

- ``.sql``: one SELECT in DuckDB's dialect (no templating), headed by an optional YAML block
  comment of config. Its name is its path under the folder with ``/`` as ``.`` and without the
  suffix (``silver/orders.sql`` is ``silver.orders``), and so, unless its config says
  otherwise, is the table it builds. The tables it reads (parsed with sqlglot, CTE names left
  out) are what it depends on: the engine runs it after the sources and models that write them.
- ``.yaml`` / ``.yml``: a chain of built-in operations (``source:`` a table, ``ops:`` the chain;
  see docs/operations.md) beside the same config keys; named like a ``.sql`` file. It depends
  on its ``source`` table, joined tables and tables its SQL snippets read.
- ``.py``: functions decorated with :func:`sluiceway.model` (Python transforms, see
  :mod:`sluiceway.transform.python`), each a model of the name it registers; they depend on
  their inputs. Modules named in ``models.modules`` are imported for theirs too.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp

from sluiceway.core.errors import ConfigError, Location
from sluiceway.core.names import TableRef
from sluiceway.spec.model import MODEL_SUFFIXES, ModelConfig, ModelsSpec
from sluiceway.transform.ops import OpsError, parse_ops, tables_read_by
from sluiceway.transform.ops.spec import Operation
from sluiceway.transform.python import PythonTransform, collect

_HEADER = re.compile(r"\A\s*/\*(?P<body>.*?)\*/", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


ModelKind = Literal["sql", "ops", "python"]


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    sql: str  # a SQL model's SELECT, without its header block; "" for the other kinds
    config: ModelConfig
    reads: tuple[str, ...]  # lower-cased tables it reads
    kind: ModelKind = "sql"
    source: str | None = None  # an ops model's `source` table
    ops: tuple[Operation, ...] = ()  # an ops model's chain
    python: PythonTransform | None = None  # a Python transform

    @property
    def table(self) -> TableRef:
        return TableRef.parse(self.config.table or self.name)

    @property
    def code(self) -> str:
        """What defines it, for its version: the SQL, the chain, or the function's source."""
        if self.kind == "ops":
            chain = [
                op.model_dump(mode="json", by_alias=True, exclude_defaults=True) for op in self.ops
            ]
            return yaml.safe_dump({"source": self.source, "ops": chain}, sort_keys=False)
        if self.python is not None:
            return self.python.source
        return self.sql


def discover_models(base: Path, spec: ModelsSpec) -> list[Model]:
    """Every model under ``base / spec.path``, sorted by name; ``[]`` if the folder is absent."""
    folder = (base / spec.path).resolve()
    models: list[Model] = []
    if folder.is_dir():
        for file in sorted(p for p in folder.rglob("*") if p.suffix in MODEL_SUFFIXES):
            if file.suffix == ".py":
                models.extend(_python_models(file, folder, spec.config))
            else:
                models.append(_load(file, folder, spec.config))
    elif spec.config and not spec.modules:
        raise ConfigError(
            f"`models.config` names {', '.join(sorted(spec.config))}, but there is no "
            f"models folder {folder}",
            hint="Create it, or point `models.path` at it.",
        )
    for module in spec.modules:
        models.extend(_module_models(module, spec.config))
    seen: dict[str, Model] = {}
    for found in models:
        if found.name in seen:
            raise ConfigError(
                f"two models are named {found.name!r}: {seen[found.name].path} and {found.path}",
                location=Location(file=str(found.path)),
            )
        seen[found.name] = found
    models.sort(key=lambda m: m.name)
    unknown = sorted(set(spec.config) - {m.name for m in models})
    if unknown:
        raise ConfigError(
            f"`models.config` names {', '.join(map(repr, unknown))}, which no file under "
            f"{folder} defines",
            hint=f"Models: {', '.join(m.name for m in models) or 'none'}",
        )
    return models


def _load(file: Path, folder: Path, overrides: Mapping[str, Mapping[str, Any]]) -> Model:
    """A ``.sql`` model (header block + SELECT) or a ``.yaml`` one (config, ``source`` and
    ``ops``)."""
    name = _file_name(file, folder)
    where = Location(file=str(file))
    text = file.read_text(encoding="utf-8")
    if file.suffix in (".yaml", ".yml"):
        return _ops_model(name, file, _settings(name, text, where), overrides.get(name, {}))
    header: dict[str, Any] = {}
    found = _HEADER.match(text)
    if found is not None:
        header = _settings(name, found.group("body"), where, what="its header block")
        text = text[found.end() :]
    sql = text.strip().rstrip(";").strip()
    if not sql:
        raise ConfigError(f"model {name!r} has no SQL", location=where)
    config = _config(name, {**header, **overrides.get(name, {})}, where)
    try:
        reads = tables_read(sql)
    except ConfigError as exc:
        raise ConfigError(f"model {name!r}: {exc.message}", location=where) from None
    return Model(name, file, sql, config, tuple(reads))


def _file_name(file: Path, folder: Path) -> str:
    """A model file's name: its path under the folder, ``/`` as ``.``, without the suffix."""
    name = ".".join(file.relative_to(folder).with_suffix("").parts)
    if not _NAME.match(name):
        raise ConfigError(
            f"model {name!r}: a model's path gives its name, which must be `name` or "
            "`schema.name` (letters, digits and _; at most one folder level)",
            location=Location(file=str(file)),
        )
    return name


def _settings(name: str, text: str, where: Location, *, what: str = "it") -> dict[str, Any]:
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"model {name!r}: {what} is not valid YAML: {exc}", location=where
        ) from exc
    if parsed is not None and not isinstance(parsed, dict):
        raise ConfigError(
            f"model {name!r}: {what} must be YAML settings (`materialized: table` …)",
            location=where,
        )
    return parsed or {}


def _config(name: str, settings: Mapping[str, Any], where: Location) -> ModelConfig:
    try:
        return ModelConfig.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"model {name!r}: {problems}", location=where) from None


def _ops_model(
    name: str, file: Path, settings: dict[str, Any], override: Mapping[str, Any]
) -> Model:
    """A chain of operations: ``source`` (a table) and ``ops``, beside the config keys."""
    where = Location(file=str(file))
    source, chain = settings.pop("source", None), settings.pop("ops", None)
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(
            f"model {name!r}: an operations model needs `source: TABLE` (the table its chain "
            "reads)",
            location=where,
        )
    if not isinstance(chain, list) or not chain:
        raise ConfigError(
            f"model {name!r}: an operations model needs `ops:`, a list of operations "
            "(docs/operations.md)",
            location=where,
        )
    try:
        TableRef.parse(source)
        ops = parse_ops(chain)
    except (OpsError, ValueError) as exc:
        message = exc.message if isinstance(exc, OpsError) else str(exc)
        raise ConfigError(f"model {name!r}: {message}", location=where) from None
    config = _config(name, {**settings, **override}, where)
    reads = tables_read_by(source.strip(), ops)
    return Model(
        name, file, "", config, tuple(reads), kind="ops", source=source.strip(), ops=tuple(ops)
    )


def _python_models(
    file: Path, folder: Path, overrides: Mapping[str, Mapping[str, Any]]
) -> list[Model]:
    """The transforms a ``.py`` file under the models folder registers (a file that registers
    none, a helper module, defines no model)."""
    digest = hashlib.sha1(str(file).encode(), usedforsecurity=False).hexdigest()[:10]
    module = f"_sluiceway_models_{digest}.{_file_name(file, folder).replace('.', '_')}"

    def load() -> None:
        spec = importlib.util.spec_from_file_location(module, file)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot import {file}", location=Location(file=str(file)))
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[module] = loaded  # dataclasses and pickling look modules up by name
        try:
            spec.loader.exec_module(loaded)
        finally:
            sys.modules.pop(module, None)

    return _python(load, Location(file=str(file)), overrides)


def _module_models(module: str, overrides: Mapping[str, Mapping[str, Any]]) -> list[Model]:
    """The transforms an importable module registers (``models.modules``)."""

    def load() -> None:
        if module in sys.modules:  # imported before: register its functions again
            importlib.reload(sys.modules[module])
        else:
            importlib.import_module(module)

    return _python(load, Location(field=f"models.modules: {module}"), overrides)


def _python(load: Any, where: Location, overrides: Mapping[str, Mapping[str, Any]]) -> list[Model]:
    try:
        transforms = collect(load)
    except ConfigError:
        raise
    except Exception as exc:
        from sluiceway.transform.python import import_error

        raise import_error(exc, where) from exc
    models: list[Model] = []
    for transform in transforms:
        at = transform.location()
        if not _NAME.match(transform.name):
            raise ConfigError(
                f"model {transform.name!r}: a model's name must be `name` or `schema.name` "
                "(letters, digits and _)",
                location=at,
            )
        settings = {**transform.config, **overrides.get(transform.name, {})}
        config = _config(transform.name, settings, at)
        if config.materialized == "view" or config.time_column is not None:
            raise ConfigError(
                f"model {transform.name!r}: a Python transform computes its rows, so it cannot "
                "be a `view` nor narrow them by `time_column`",
                hint="Use `materialized: table`, `incremental` with a `unique_key`, or `scd2`.",
                location=at,
            )
        models.append(
            Model(
                transform.name,
                transform.file,
                "",
                config,
                transform.reads,
                kind="python",
                python=transform,
            )
        )
    return models


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
