"""The pipeline definition: YAML → typed models, ``${ENV}`` interpolation, project discovery."""

from sluiceway.spec.loader import LoadedPipeline, load_pipeline
from sluiceway.spec.models import (
    PipelineSpec,
    SourceDefaults,
    SourceSettings,
    SourceSpec,
    StrictModel,
    WarehouseSpec,
)
from sluiceway.spec.project import project_root, resolve_pipeline

__all__ = [
    "LoadedPipeline",
    "PipelineSpec",
    "SourceDefaults",
    "SourceSettings",
    "SourceSpec",
    "StrictModel",
    "WarehouseSpec",
    "load_pipeline",
    "project_root",
    "resolve_pipeline",
]
