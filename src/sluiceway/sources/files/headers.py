"""Column names from a header row (CSV's first line, a sheet's header row)."""

from __future__ import annotations

from collections.abc import Iterable


def column_names(values: Iterable[object]) -> list[str]:
    """Names for header cells: trimmed; blank → ``columnN``; repeats (any case) → ``name_1``."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        name = str(value).strip() if value is not None else ""
        name = name or f"column{index}"
        key = name.lower()
        if key in seen:
            seen[key] += 1
            name = f"{name}_{seen[key]}"
        else:
            seen[key] = 0
        names.append(name)
    return names
