"""The pipeline definition: YAML → typed models, ``${ENV}`` interpolation, project discovery."""

from sluiceway.spec.contract import ColumnContract, SchemaContract
from sluiceway.spec.loader import LoadedPipeline, load_pipeline
from sluiceway.spec.models import (
    PipelineSpec,
    SourceDefaults,
    SourceSettings,
    SourceSpec,
    WarehouseSpec,
)
from sluiceway.spec.models_base import StrictModel
from sluiceway.spec.project import project_root, resolve_pipeline

__all__ = [
    "ColumnContract",
    "LoadedPipeline",
    "PipelineSpec",
    "SchemaContract",
    "SourceDefaults",
    "SourceSettings",
    "SourceSpec",
    "StrictModel",
    "WarehouseSpec",
    "load_pipeline",
    "project_root",
    "resolve_pipeline",
]
