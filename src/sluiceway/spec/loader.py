"""Read a pipeline file: YAML → profile → interpolation → typed models, every problem at once.

The loader collects all problems (syntax, duplicate keys, unset variables, validation, cross-field
checks) and raises one :class:`ConfigError` listing each with ``file:line:column``, the field
path, and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sluiceway.core.errors import ConfigError, ConfigIssue
from sluiceway.core.redaction import register_secrets
from sluiceway.spec.diagnostics import issues_from_errors, render_path
from sluiceway.spec.interpolate import Interpolation, resolve_references
from sluiceway.spec.model import has_model_files
from sluiceway.spec.models import PipelineSpec, SourceSettings
from sluiceway.spec.profiles import ProfileMerge, merge_profile
from sluiceway.spec.project import project_root
from sluiceway.spec.provenance import Provenance, mapping_paths
from sluiceway.spec.secret_fields import (
    masked_paths,
    plain_secret_problems,
    resolved_secrets,
    secret_values,
)
from sluiceway.spec.secrets import SecretsFile, secrets_file_path
from sluiceway.spec.yaml_positions import Path as YamlPath
from sluiceway.spec.yaml_positions import PositionedDocument, YamlSyntaxError, load_positioned

STATE_DIR_NAME = ".sluiceway"


@dataclass(frozen=True, slots=True)
class LoadedPipeline:
    """A validated pipeline plus the places it resolves paths against."""

    spec: PipelineSpec[Any, Any]
    file: Path
    base_dir: Path  # relative paths in the file resolve against this
    root: Path  # the project root
    state_dir: Path  # run history, the default warehouse
    # where each value came from (``sluiceway config show``); names and positions, no values
    provenance: Provenance | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.spec.pipeline

    def resolve(self, path: str) -> Path:
        """A path from the file, made absolute against ``base_dir`` (``~`` expands)."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def load_pipeline(
    file: Path,
    model: type[PipelineSpec[Any, Any]],
    *,
    env: Mapping[str, str] | None = None,
    default_warehouse: Mapping[str, Any] | None = None,
    base_dir: Path | None = None,
    state_dir: Path | None = None,
    profile: str | None = None,
) -> LoadedPipeline:
    """Load and validate ``file`` against ``model`` (the registry's parametrised pipeline model).

    ``base_dir`` overrides the directory relative paths resolve against and ``state_dir`` the
    state folder (the demo's bundled pipeline uses both); by default they are the file's own
    directory and ``.sluiceway`` in the project root. ``profile`` selects a profile of the file
    (default: ``$SLUICEWAY_PROFILE``, else ``dev`` if the file defines it; see
    :mod:`sluiceway.spec.profiles`). ``env`` (default: the process environment) resolves
    ``${VAR}``, the profile and the secrets file's location.
    """
    file = file.resolve()
    shown = _shown_name(file)
    doc = _parse(_read(file, shown), shown)
    if not isinstance(doc.data, dict):
        raise ConfigError(
            f"{shown} must be a mapping with `pipeline`, `sources` and optionally `warehouse`",
            hint="Run `sluiceway init DIR` to see a working example.",
        )
    env = os.environ if env is None else env
    root = project_root(file.parent)
    resolution = _resolve(doc, shown, env=env, root=root, profile=profile, model=model)
    issues = resolution.issues
    data = resolution.interpolation.data
    if "warehouse" not in data and default_warehouse is not None:
        data["warehouse"] = dict(default_warehouse)
    spec = _validate(model, resolution, shown)
    if spec is not None:
        register_secrets(secret_values(spec))
        issues.extend(
            _cross_checks(spec, resolution.doc, shown, resolution.interpolation.hidden, file.parent)
        )
    if issues:
        count = len(issues)
        raise ConfigError(
            f"{shown} has {count} problem{'s' if count > 1 else ''}:",
            issues=sorted(issues, key=lambda i: (i.line or 0, i.column or 0)),
        )
    assert spec is not None
    base = (base_dir or file.parent).resolve()
    if state_dir is not None:
        state = state_dir.resolve()
    elif spec.state_dir:
        state = Path(spec.state_dir).expanduser()
        state = state if state.is_absolute() else base / state
    else:
        state = root / STATE_DIR_NAME
    return LoadedPipeline(
        spec=spec,
        file=file,
        base_dir=base,
        root=root,
        state_dir=state,
        provenance=resolution.provenance(shown),
    )


@dataclass
class _Resolution:
    """A file between parsing and validation: profile merged, references substituted."""

    doc: PositionedDocument  # positions of the merged file
    merge: ProfileMerge
    interpolation: Interpolation
    secrets_file: Path
    issues: list[ConfigIssue]

    def issue(self, file: str, path: YamlPath, message: str, *, key: bool = False) -> ConfigIssue:
        pos = self.doc.position(path, key=key)
        return ConfigIssue(
            file, pos.line if pos else None, pos.column if pos else None, render_path(path), message
        )

    def provenance(self, shown: str) -> Provenance:
        resolved = self.interpolation
        return Provenance(
            file=shown,
            secrets_file=self.secrets_file,
            positions=self.doc.values,
            mappings=frozenset(mapping_paths(resolved.data)),
            profile=self.merge.name,
            selected_by=self.merge.selected_by,
            defined_profiles=self.merge.defined,
            from_profile=frozenset(self.merge.from_profile),
            references={path: tuple(refs) for path, refs in resolved.references.items()},
            masked=frozenset(masked_paths(resolved)),
        )


def _resolve(
    doc: PositionedDocument,
    shown: str,
    *,
    env: Mapping[str, str],
    root: Path,
    profile: str | None,
    model: type[PipelineSpec[Any, Any]],
) -> _Resolution:
    """Merge the selected profile, substitute references, register the secrets they bring."""
    merge = merge_profile(doc, profile, env)
    secrets = SecretsFile(secrets_file_path(env), root)
    interpolation = resolve_references(merge.data, env, secrets=secrets.lookup)
    resolution = _Resolution(merge.doc, merge, interpolation, secrets.path, issues=[])
    issues = resolution.issues
    issues.extend(
        ConfigIssue(shown, pos.line, pos.column, render_path(path), "duplicate key")
        for path, pos in doc.duplicates
    )
    issues.extend(
        resolution.issue(shown, path, message, key=key) for path, key, message in merge.problems
    )
    issues.extend(resolution.issue(shown, p.path, p.message) for p in interpolation.problems)
    # registered before validation: a later error message must not show them either
    register_secrets(resolved_secrets(model, interpolation, env, secrets.used))
    return resolution


def _validate(
    model: type[PipelineSpec[Any, Any]], resolution: _Resolution, shown: str
) -> PipelineSpec[Any, Any] | None:
    """The validated spec, or None; every problem is added to ``resolution.issues``."""
    resolved = resolution.interpolation
    data = resolved.data
    # a value whose reference failed is already reported; its stand-in "" is not news
    reported = {render_path(problem.path) for problem in resolved.problems}
    spec: PipelineSpec[Any, Any] | None = None
    try:
        spec = model.model_validate(data)
    except ValidationError as exc:
        found = issues_from_errors(
            exc.errors(include_url=False),
            model=model,
            doc=resolution.doc,
            data=data,
            file=shown,
            from_env=resolved.hidden,
        )
        resolution.issues.extend(issue for issue in found if issue.path not in reported)
    reported |= {issue.path for issue in resolution.issues}
    for path, message in plain_secret_problems(
        model, resolution.merge.data, data, secrets_file=str(resolution.secrets_file)
    ):
        if render_path(path) not in reported:
            resolution.issues.append(resolution.issue(shown, path, message))
    return spec


def _shown_name(file: Path) -> str:
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)


def _read(file: Path, shown: str) -> str:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"pipeline file {shown} does not exist",
            hint="Pass the path of a pipeline YAML file or a pipeline name; "
            "`sluiceway init DIR` creates one.",
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{shown} is a directory, not a pipeline file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read pipeline file {shown}: {exc.strerror}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{shown}:{line}: pipeline files must be UTF-8 (invalid byte at offset {exc.start})"
        ) from None


def _parse(text: str, shown: str) -> PositionedDocument:
    try:
        return load_positioned(text)
    except YamlSyntaxError as exc:
        pos = exc.position
        raise ConfigError(
            f"{shown} is not valid YAML:",
            issues=[
                ConfigIssue(
                    shown, pos.line if pos else None, pos.column if pos else None, "", str(exc)
                )
            ],
        ) from None


def write_problems(settings: SourceSettings) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with a source's write options (each needs its write disposition)."""
    write = settings.write
    problems: list[tuple[tuple[str, ...], str]] = []
    if settings.keyed and not settings.primary_key:
        problems.append(((), f"`write: {write}` needs a `primary_key` (a column or a list)"))
    if write == "insert_overwrite" and settings.partition is None:
        problems.append(((), "`write: insert_overwrite` needs a `partition: {column: ...}`"))
    for option, wanted in (
        ("delete", settings.delete is not None and not settings.keyed),
        ("cdc", settings.snapshot and not settings.keyed),
        ("scd2", settings.scd2 is not None and write != "scd2"),
        ("partition", settings.partition is not None and write != "insert_overwrite"),
    ):
        if wanted:
            needs = {
                "scd2": "`write: scd2`",
                "partition": "`write: insert_overwrite`",
            }.get(option, "`write: merge` or `write: scd2`")
            problems.append(
                ((option,), f"`{option}` needs {needs}, and this source writes with `{write}`")
            )
    delete = settings.delete
    if delete is not None and delete.values is not None and delete.column is None:
        problems.append((("delete",), "`delete.values` needs the `delete.column` they are in"))
    if delete is not None and delete.at is not None and delete.mode != "soft":
        problems.append((("delete", "at"), "`delete.at` is for `mode: soft`"))
    return problems


def _cross_checks(
    spec: PipelineSpec[Any, Any],
    doc: PositionedDocument,
    shown: str,
    from_env: set[YamlPath],
    folder: Path,
) -> list[ConfigIssue]:
    """Checks that span fields: merge needs a key; two sources may not load one table; a
    pipeline without sources has models."""
    issues: list[ConfigIssue] = []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        pos = doc.position(path, key=True)
        issues.append(
            ConfigIssue(
                shown,
                pos.line if pos else None,
                pos.column if pos else None,
                render_path(path),
                message,
            )
        )

    models = spec.models
    if not spec.sources and not models.modules and not has_model_files(folder / models.path):
        issue(
            ("sources",) if "sources" in doc.data else (),
            "a pipeline needs at least one source, or models (files under "
            f"`{spec.models.path}/`) to build",
        )
    tables: dict[str, str] = {}
    for name in spec.sources:
        settings = spec.settings(name)
        for path, message in write_problems(settings):
            issue(("sources", name, *path), message)
        table = str(settings.table).lower()
        if table in tables:
            other = tables[table]
            secret = {("sources", n, "table") for n in (other, name)} & from_env
            shown_table = "the same table" if secret else f"table {table!r}"
            issue(
                ("sources", name),
                f"sources {other!r} and {name!r} both load {shown_table}; "
                "give one of them another `table`",
            )
        tables[table] = name
    return issues
