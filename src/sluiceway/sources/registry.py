"""Source kinds by ``type`` name. Built explicitly, never by import side effects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Union

from pydantic import Field

from sluiceway.core.errors import ConfigError
from sluiceway.sources.base import Source, SourceCapabilities
from sluiceway.spec.models import SourceSpec, type_names


class SourceRegistry:
    """Which class reads each source ``type``."""

    def __init__(self, kinds: Iterable[type[Source[Any]]] = ()) -> None:
        self._by_type: dict[str, type[Source[Any]]] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: type[Source[Any]]) -> None:
        for name in type_names(kind.spec):
            if name in self._by_type:
                raise ValueError(f"source type {name!r} is registered twice")
            self._by_type[name] = kind

    @property
    def types(self) -> list[str]:
        return sorted(self._by_type)

    def create(self, config: SourceSpec) -> Source[Any]:
        kind = self._by_type.get(config.type)
        if kind is None:
            raise ConfigError(
                f"unknown source type {config.type!r}; known: {', '.join(self.types)}"
            )
        return kind(config)

    def capabilities(self, config: SourceSpec) -> SourceCapabilities:
        """What the kind reading ``config`` can do (without building it)."""
        kind = self._by_type.get(config.type)
        return kind.capabilities if kind is not None else SourceCapabilities()

    def config_union(self) -> Any:
        """The discriminated union of every registered config model, for validation."""
        specs = list(dict.fromkeys(kind.spec for kind in self._by_type.values()))
        if len(specs) == 1:
            return specs[0]
        return Annotated[Union[tuple(specs)], Field(discriminator="type")]  # noqa: UP007


def builtin_sources() -> SourceRegistry:
    """The source kinds that ship with Sluiceway."""
    from sluiceway.sources.files.csv import CsvSource
    from sluiceway.sources.files.excel import ExcelSource
    from sluiceway.sources.files.json import JsonSource
    from sluiceway.sources.files.parquet import ParquetSource
    from sluiceway.sources.postgres_cdc import PostgresCdcSource
    from sluiceway.sources.sql import MySqlSource, PostgresSource

    return SourceRegistry(
        [
            CsvSource,
            JsonSource,
            ParquetSource,
            ExcelSource,
            PostgresCdcSource,
            PostgresSource,
            MySqlSource,
        ]
    )
