"""``${secret:NAME}``: values from a secrets file kept outside the project.

The file is YAML, a mapping of names to values; nested mappings are reached with dots
(``${secret:prod.db_password}``)::

    # ~/.config/sluiceway/secrets.yaml  (chmod 600)
    shop_db_password: hunter2
    prod:
      warehouse: postgresql://loader:s3cret@db.internal:5432/warehouse

It lives at ``$SLUICEWAY_SECRETS_FILE``, else ``$XDG_CONFIG_HOME/sluiceway/secrets.yaml``, else
``~/.config/sluiceway/secrets.yaml``, and it is read only when a pipeline refers to a secret.
A secrets file inside the project folder is refused: it would be committed with the pipelines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECRETS_FILE_ENV = "SLUICEWAY_SECRETS_FILE"
_LISTED = 10  # names listed when a secret is missing


def secrets_file_path(env: Mapping[str, str]) -> Path:
    """Where the secrets file is, by the environment ``env`` (see the module docstring)."""
    chosen = env.get(SECRETS_FILE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    config_home = env.get("XDG_CONFIG_HOME")
    if config_home:
        base = Path(config_home)
    else:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "sluiceway" / "secrets.yaml"


@dataclass
class SecretsFile:
    """The secrets file of one load, read on the first ``lookup``; remembers what was used."""

    path: Path
    project: Path  # the project folder, which the file must be outside of
    used: dict[str, str] = field(default_factory=dict, repr=False)
    _values: dict[str, str] | None = field(default=None, repr=False)
    _problem: str | None = field(default=None, repr=False)
    _read: bool = field(default=False, repr=False)

    def lookup(self, name: str) -> tuple[str | None, str | None]:
        """``(value, None)``, or ``(None, what is wrong)``; the message never holds a value."""
        if not self._read:
            self._read = True
            self._problem = self._load()
        if self._problem is not None:
            return None, f"secret {name}: {self._problem}"
        assert self._values is not None
        if name not in self._values:
            names = sorted(self._values)
            listing = ", ".join(names[:_LISTED]) + (", ..." if len(names) > _LISTED else "")
            return None, (
                f"secret {name} is not in the secrets file {self.path} "
                f"(names there: {listing or 'none'}); add `{name}: ...` to it"
            )
        value = self._values[name]
        self.used[name] = value
        return value, None

    def _load(self) -> str | None:
        path = self.path.resolve()
        project = self.project.resolve()
        if path == project or project in path.parents:
            return (
                f"the secrets file {self.path} is inside the project folder {project}, where it "
                f"would be committed with the pipelines; move it out of the project (the "
                f"default is ~/.config/sluiceway/secrets.yaml) or point {SECRETS_FILE_ENV} "
                "at a file outside it"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return (
                f"the secrets file {self.path} does not exist; create it (readable only by "
                f"you: chmod 600) or point {SECRETS_FILE_ENV} at yours"
            )
        except (OSError, UnicodeDecodeError) as exc:
            return f"cannot read the secrets file {self.path}: {exc.__class__.__name__}"
        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" at line {mark.line + 1}" if mark is not None else ""
            # only the position: the parser's message quotes the text around it
            return f"the secrets file {self.path} is not valid YAML{where}"
        except yaml.YAMLError:
            return f"the secrets file {self.path} is not valid YAML"
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return f"the secrets file {self.path} must be a mapping of names to values"
        self._values = dict(_flatten(data, ""))
        return None


def _flatten(data: Mapping[Any, Any], prefix: str) -> list[tuple[str, str]]:
    """``{a: {b: x}}`` → ``[("a.b", "x")]``; scalars become text as YAML wrote them."""
    flat: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.extend(_flatten(value, f"{name}."))
        elif isinstance(value, bool):
            flat.append((name, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            flat.append((name, str(value)))
        # lists and nulls are not secrets anyone can refer to; they are left out
    return flat
