"""Warehouse kinds by ``type`` name. Built explicitly, never by import side effects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Union

from pydantic import Field

from sluiceway.core.errors import ConfigError
from sluiceway.spec.models import WarehouseSpec, type_names
from sluiceway.warehouses.base import Warehouse, WarehouseContext


class WarehouseRegistry:
    def __init__(self, kinds: Iterable[type[Warehouse[Any]]] = ()) -> None:
        self._by_type: dict[str, type[Warehouse[Any]]] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: type[Warehouse[Any]]) -> None:
        for name in type_names(kind.spec):
            if name in self._by_type:
                raise ValueError(f"warehouse type {name!r} is registered twice")
            self._by_type[name] = kind

    @property
    def types(self) -> list[str]:
        return sorted(self._by_type)

    def create(self, config: WarehouseSpec, context: WarehouseContext) -> Warehouse[Any]:
        kind = self._by_type.get(config.type)
        if kind is None:
            raise ConfigError(
                f"unknown warehouse type {config.type!r}; known: {', '.join(self.types)}"
            )
        return kind(config, context)

    def config_union(self) -> Any:
        specs = list(dict.fromkeys(kind.spec for kind in self._by_type.values()))
        if len(specs) == 1:
            return specs[0]
        return Annotated[Union[tuple(specs)], Field(discriminator="type")]  # noqa: UP007


def builtin_warehouses() -> WarehouseRegistry:
    from sluiceway.warehouses.duckdb.warehouse import DuckDBWarehouse
    from sluiceway.warehouses.postgres.warehouse import PostgresWarehouse

    return WarehouseRegistry([DuckDBWarehouse, PostgresWarehouse])
