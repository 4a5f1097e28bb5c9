"""The one place where source and warehouse kinds are assembled into a pipeline model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluiceway.sources.registry import SourceRegistry, builtin_sources
from sluiceway.spec.loader import LoadedPipeline, load_pipeline
from sluiceway.spec.models import PipelineSpec
from sluiceway.warehouses.registry import WarehouseRegistry, builtin_warehouses

DEFAULT_WAREHOUSE: Mapping[str, Any] = {"type": "duckdb"}


@dataclass
class Registry:
    """Source and warehouse kinds; tests build their own with fakes."""

    sources: SourceRegistry = field(default_factory=builtin_sources)
    warehouses: WarehouseRegistry = field(default_factory=builtin_warehouses)
    _model: type[PipelineSpec[Any, Any]] | None = field(default=None, repr=False)

    @property
    def pipeline_model(self) -> type[PipelineSpec[Any, Any]]:
        """``PipelineSpec`` parametrised with the registered config unions."""
        if self._model is None:
            source_union = self.sources.config_union()
            warehouse_union = self.warehouses.config_union()
            self._model = PipelineSpec[source_union, warehouse_union]  # type: ignore[valid-type]
        return self._model

    def load(
        self,
        file: Path,
        *,
        env: Mapping[str, str] | None = None,
        base_dir: Path | None = None,
        state_dir: Path | None = None,
    ) -> LoadedPipeline:
        return load_pipeline(
            file,
            self.pipeline_model,
            env=env,
            default_warehouse=DEFAULT_WAREHOUSE,
            base_dir=base_dir,
            state_dir=state_dir,
        )
