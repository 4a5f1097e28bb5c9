"""Profiles: one pipeline file, different settings for ``dev``, ``staging`` and ``prod``.

A file may end with ``profiles:``, a mapping of profile names to settings that are deep-merged
over the file's own top-level keys when that profile is selected::

    warehouse: {type: duckdb}
    sources:
      orders: {type: postgres_cdc, connection: "${SHOP_DB}", source_table: sales.orders}
    profiles:
      dev: {}
      prod:
        warehouse: {type: postgres, connection: "${secret:prod_warehouse}"}
        sources:
          orders: {max_changes: 500000}

Merging: mappings merge key by key; any other value (a list, a scalar) replaces the one below;
a mapping whose ``type`` differs from the one below replaces it whole (another kind has other
keys). A profile may not set ``pipeline`` (run history and state are kept by name).

Selection: ``--profile NAME``, else ``$SLUICEWAY_PROFILE``, else ``dev`` when the file defines
it, else none. A file without ``profiles`` ignores the selection; a file that has profiles but
not the one selected is an error listing those it has. Only the selected profile is
interpolated, so an unset variable of ``prod`` does not stop ``dev``. Positions stay true: a
value that a profile set is reported at its line inside ``profiles``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sluiceway.spec.yaml_positions import Path, PositionedDocument

PROFILE_ENV = "SLUICEWAY_PROFILE"
DEFAULT_PROFILE = "dev"
PROFILES_KEY = "profiles"
_FIXED = ("pipeline", PROFILES_KEY)  # keys a profile may not set


@dataclass
class ProfileMerge:
    """The file's data with the selected profile merged in, and what the profile set."""

    data: dict[str, Any]
    doc: PositionedDocument  # positions of the merged data
    name: str | None  # the profile applied, if any
    selected_by: str | None  # "argument", the environment variable, or "default"
    defined: tuple[str, ...] = ()
    from_profile: set[Path] = field(default_factory=set)  # roots of what the profile set
    problems: list[tuple[Path, bool, str]] = field(default_factory=list)  # path, on key, message


def choose_profile(
    requested: str | None, env: Mapping[str, str], defined: tuple[str, ...]
) -> tuple[str | None, str | None]:
    """The profile to apply and what chose it; ``(None, None)`` when there is none to apply."""
    if requested:
        return requested, "argument"
    if env.get(PROFILE_ENV):
        return env[PROFILE_ENV], PROFILE_ENV
    if DEFAULT_PROFILE in defined:
        return DEFAULT_PROFILE, "default"
    return None, None


def merge_profile(
    doc: PositionedDocument, requested: str | None, env: Mapping[str, str]
) -> ProfileMerge:
    """Apply the selected profile of ``doc`` (a mapping) to its top-level keys."""
    data: dict[str, Any] = {k: v for k, v in doc.data.items() if k != PROFILES_KEY}
    positioned = PositionedDocument(
        data=data, values=dict(doc.values), keys=dict(doc.keys), duplicates=doc.duplicates
    )
    merge = ProfileMerge(data=data, doc=positioned, name=None, selected_by=None)
    if PROFILES_KEY not in doc.data:
        return merge
    profiles = doc.data[PROFILES_KEY]
    if not isinstance(profiles, dict):
        merge.problems.append(
            (
                (PROFILES_KEY,),
                False,
                "`profiles` must map profile names to settings, e.g. "
                "`profiles: {prod: {warehouse: {...}}}`",
            )
        )
        return merge
    merge.defined = tuple(str(name) for name in profiles)
    name, selected_by = choose_profile(requested, env, merge.defined)
    if name is None:
        return merge
    if name not in merge.defined:
        listing = ", ".join(merge.defined) or "none"
        merge.problems.append(
            (
                (PROFILES_KEY,),
                True,
                f"no profile {name!r} in this file (selected by {_by(selected_by)}); "
                f"profiles defined: {listing}",
            )
        )
        return merge
    key = next(k for k in profiles if str(k) == name)
    merge.name, merge.selected_by = name, selected_by
    _apply(merge, profiles[key], (PROFILES_KEY, key))
    return merge


def _by(selected_by: str | None) -> str:
    return "--profile" if selected_by == "argument" else f"${selected_by}"


def _apply(merge: ProfileMerge, profile: Any, prefix: Path) -> None:
    if profile is None:  # `dev:` with nothing under it: the file as it is
        return
    if not isinstance(profile, dict):
        merge.problems.append((prefix, False, "a profile must be a mapping of settings"))
        return
    for key in _FIXED:
        if key in profile:
            why = (
                "run history and state are kept by the pipeline's name"
                if key == "pipeline"
                else "profiles do not nest"
            )
            merge.problems.append(((*prefix, key), True, f"a profile cannot set `{key}`: {why}"))
    settings = {k: v for k, v in profile.items() if k not in _FIXED}
    _merge_into(merge, merge.data, settings, (), prefix)


def _merge_into(
    merge: ProfileMerge, base: dict[Any, Any], over: dict[Any, Any], path: Path, prefix: Path
) -> None:
    for key, value in over.items():
        target, source = (*path, key), (*prefix, key)
        below = base.get(key)
        if isinstance(value, dict) and isinstance(below, dict) and _same_kind(below, value):
            base[key] = dict(below)  # the file's own mapping stays as it was parsed
            _merge_into(merge, base[key], value, target, source)
            continue
        base[key] = copy.deepcopy(value)
        merge.from_profile.add(target)
        _move_positions(merge.doc, source, target)


def _same_kind(below: dict[Any, Any], over: dict[Any, Any]) -> bool:
    return "type" not in over or over.get("type") == below.get("type")


def _move_positions(doc: PositionedDocument, source: Path, target: Path) -> None:
    """``target`` now holds what was written at ``source``: its positions say so."""
    for table in (doc.values, doc.keys):
        for stale in [p for p in table if p[: len(target)] == target]:
            del table[stale]
        moved = {
            (*target, *p[len(source) :]): position
            for p, position in table.items()
            if p[: len(source)] == source
        }
        table.update(moved)
