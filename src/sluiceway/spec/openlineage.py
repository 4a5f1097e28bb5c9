"""A pipeline's ``openlineage:``: where each run's OpenLineage events go.

.. code-block:: yaml

    openlineage:
      transport: http                  # or `file` (JSON lines) or `console` (stderr)
      url: ${OPENLINEAGE_URL}          # http: the server (Marquez: http://marquez:5000)
      endpoint: api/v1/lineage         # the default
      api_key: ${OPENLINEAGE_API_KEY}  # a secret: from the environment or the secrets file
      namespace: analytics             # the jobs' namespace (default: sluiceway)
      timeout: 5s

    openlineage: {transport: file, path: openlineage.jsonl}   # relative to the state folder

Every run emits a START and a COMPLETE, FAIL or ABORT event for the pipeline's job and for each
step (a load or a model) it starts; see docs/openlineage.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from sluiceway.spec.execution import to_timedelta
from sluiceway.spec.models_base import StrictModel

DEFAULT_NAMESPACE = "sluiceway"

_HTTP_ONLY = ("url", "api_key")
_FILE_ONLY = ("path",)


class OpenLineageSpec(StrictModel):
    """OpenLineage events of every run, sent through the OpenLineage client's transports."""

    transport: Literal["file", "http", "console"] = Field(
        description="Where the events go: `file` appends one JSON event per line to `path`; "
        "`http` posts each event to `url` + `endpoint` (Marquez or any OpenLineage server); "
        "`console` prints them on stderr."
    )
    path: str | None = Field(
        None,
        description="file: the JSON-lines file the events are appended to; relative to the "
        "pipeline's state folder (`.sluiceway`), or absolute.",
    )
    url: str | None = Field(
        None,
        description="http: the server's base URL (`http://marquez:5000`), without credentials "
        "(put the key in `api_key`). `${OPENLINEAGE_URL}` reads the standard variable.",
    )
    endpoint: str = Field(
        "api/v1/lineage", description="http: the path events are posted to, under `url`."
    )
    api_key: SecretStr | None = Field(
        None,
        description="http: sent as `Authorization: Bearer KEY`. A secret: write it as "
        "`${OPENLINEAGE_API_KEY}` or `${secret:NAME}`, never in the file.",
    )
    namespace: str = Field(
        DEFAULT_NAMESPACE,
        min_length=1,
        description="The namespace of the jobs: the pipeline's job is named after the pipeline, "
        "each step's job `<pipeline>.<step>`. Datasets are named after where they live "
        "(`duckdb:///path/warehouse.duckdb`, `postgres://host:5432`, `file`).",
    )
    timeout: timedelta = Field(
        timedelta(seconds=5),
        description="http: how long one request may take, e.g. `5s`.",
    )
    retries: int = Field(
        3,
        ge=0,
        le=10,
        description="http: tries again after a failed connection or a 5xx answer, with a "
        "short backoff. After an event could not be sent, the run sends no more (the run "
        "itself never fails for it; the problem is printed at its end).",
    )

    _durations = field_validator("timeout", mode="before")(staticmethod(to_timedelta))

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero, e.g. `5s`")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not an http(s) URL with a host; write e.g. `http://marquez:5000`")
        if parts.username or parts.password:
            raise ValueError(
                "holds credentials; write the URL without them and give the key in `api_key` "
                "(as ${OPENLINEAGE_API_KEY})"
            )
        return value.strip()

    @model_validator(mode="after")
    def _transport_options(self) -> OpenLineageSpec:
        if self.transport == "file" and not (self.path and self.path.strip()):
            raise ValueError(
                "the `file` transport needs `path`: the JSON-lines file to append the events "
                "to (relative to the state folder), e.g. `path: openlineage.jsonl`"
            )
        if self.transport == "http" and self.url is None:
            raise ValueError(
                "the `http` transport needs `url`: the OpenLineage server, e.g. "
                "`url: http://marquez:5000` or `url: ${OPENLINEAGE_URL}`"
            )
        options = {"http": _HTTP_ONLY, "file": _FILE_ONLY}
        for transport, names in options.items():
            if self.transport == transport:
                continue
            for name in names:
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"`{name}` is for the `{transport}` transport, and this one is "
                        f"`{self.transport}`; remove it or set `transport: {transport}`"
                    )
        return self
