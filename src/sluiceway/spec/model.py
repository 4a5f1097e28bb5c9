"""How a SQL model is materialized: its header block, or its entry under ``models:``.

A model is a ``.sql`` file under the pipeline's ``models/`` folder: one SELECT in DuckDB's
dialect, optionally headed by a block comment of YAML::

    /*
    materialized: incremental
    unique_key: [order_id]
    checks:
      - {rule: not_null, column: customer_id}
    */
    SELECT order_id, customer_id, amount FROM bronze.orders

Settings under ``models: {config: {NAME: {...}}}`` in the pipeline file win over the header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sluiceway.spec.models_base import StrictModel
from sluiceway.spec.quality import RuleSpec, check_rules
from sluiceway.spec.write import Scd2Spec

Materialization = Literal["view", "table", "incremental", "scd2"]
Explain = Literal["off", "plan", "analyze"]

MODEL_SUFFIXES = (".sql", ".yaml", ".yml", ".py")
"""The files under the models folder that define models."""


def has_model_files(folder: Path) -> bool:
    """Whether ``folder`` holds at least one model file (at any depth)."""
    return folder.is_dir() and any(
        path.suffix in MODEL_SUFFIXES for path in folder.rglob("*") if path.is_file()
    )


class ModelConfig(StrictModel):
    """One model's settings."""

    table: str | None = Field(
        None,
        description="The table (or view) it builds; default: its path under `models/`, "
        "`silver/orders.sql` → `silver.orders`.",
    )
    materialized: Materialization = Field(
        "view",
        description="`view` (recomputed when read), `table` (rebuilt each run), `incremental` "
        "(merged by `unique_key`, or appended past `time_column`), `scd2` (history by "
        "`unique_key`).",
    )
    unique_key: list[str] = Field(
        default_factory=list,
        description="Key columns: `incremental` merges on them, `scd2` versions by them.",
    )
    time_column: str | None = Field(
        None,
        description="`incremental`: only rows with this column at or past the last run's "
        "largest value (minus `lookback`) are computed again.",
    )
    lookback: str | int | float | None = Field(
        None, description="`incremental` with `time_column`: how far back to recompute (`2d`)."
    )
    depends_on: list[str] = Field(
        default_factory=list, description="Steps it runs after, besides the tables it reads."
    )
    checks: list[RuleSpec] = Field(
        default_factory=list, description="Quality rules, exactly as on a source's table."
    )
    scd2: Scd2Spec | None = Field(None, description="`scd2`: the history columns.")
    explain: Explain | None = Field(None, description="Overrides `models.explain` for this model.")
    profile: bool | None = Field(
        None,
        description="Overrides `quality.profile` for this model: profiling its rows costs a "
        "scan of them (about as long as a `CREATE TABLE AS` of them on DuckDB; see "
        "bench/models.py), and drift detection needs it.",
    )
    description: str | None = None

    @field_validator("unique_key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: list[Any]) -> list[Any]:
        return check_rules(value)

    @model_validator(mode="after")
    def _fits(self) -> ModelConfig:
        if self.materialized == "scd2" and not self.unique_key:
            raise ValueError("`materialized: scd2` needs a `unique_key`")
        if self.materialized == "incremental" and not (self.unique_key or self.time_column):
            raise ValueError(
                "`materialized: incremental` needs a `unique_key` (rows merge by it) or a "
                "`time_column` (only newer rows are computed), or both"
            )
        if self.lookback is not None and self.time_column is None:
            raise ValueError("`lookback` needs a `time_column`")
        if self.materialized == "view" and self.checks:
            raise ValueError(
                "a `view` is not materialized, so there is no load to check: use "
                "`materialized: table` (or incremental) to attach `checks`"
            )
        return self


class ModelsSpec(StrictModel):
    """Where the pipeline's SQL models are, and settings per model."""

    path: str = Field(
        "models",
        description="The folder of `.sql` models, relative to the pipeline file; a missing "
        "folder means no models.",
    )
    config: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Settings per model name (`silver.orders`); they win over the file's "
        "header block.",
    )
    explain: Explain = Field(
        "plan",
        description="The query plan stored with each run for every SQL or operations model: "
        "`plan` (estimated, cheap), `analyze` (measured: the query runs once more, in a "
        "transaction rolled back; PostgreSQL adds BUFFERS), or `off`. "
        "`sluiceway runs plan RUN STEP` shows it.",
    )
    modules: list[str] = Field(
        default_factory=list,
        description="Importable Python modules (`my_project.transforms`) whose "
        "`@sluiceway.model` functions are models too, besides the `.py` files in `path`.",
    )

    @field_validator("modules")
    @classmethod
    def _dotted(cls, value: list[str]) -> list[str]:
        for module in value:
            if not all(part.isidentifier() for part in module.split(".")):
                raise ValueError(f"{module!r} is not a module name (`package.module`)")
        return value
