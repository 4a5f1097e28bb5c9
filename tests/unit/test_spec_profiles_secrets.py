"""``${secret:NAME}`` from a secrets file outside the project, and no secret in plain YAML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import SecretStr

from sluiceway.core.errors import ConfigError
from sluiceway.core.redaction import forget_secrets, redact
from sluiceway.engine.registry import Registry
from sluiceway.sources.postgres_cdc import PostgresCdcSpec
from sluiceway.spec.loader import LoadedPipeline, load_pipeline
from sluiceway.spec.models import PipelineSpec, SourceSpec
from sluiceway.spec.secret_fields import written_in_plain
from sluiceway.spec.secrets import SECRETS_FILE_ENV, secrets_file_path
from sluiceway.warehouses.duckdb.warehouse import DuckDBSpec
from tests.conftest import WritePipeline
from tests.spec_helpers import places

pytestmark = pytest.mark.unit

PASSWORD = "Wr0ng-Pa55-Zq9"


def cdc_pipeline(connection: str, extra: str = "") -> str:
    """A postgres_cdc source whose `connection` is on line 5, column 17."""
    return (
        "pipeline: shop\nsources:\n  orders:\n    type: postgres_cdc\n"
        f"    connection: {connection}\n    source_table: sales.orders\n{extra}"
    )


class ApiSpec(SourceSpec):
    """A test-only source kind whose secret is an opaque token."""

    type: Literal["api"]
    token: SecretStr


ApiPipeline: type[PipelineSpec[Any, Any]] = PipelineSpec[ApiSpec, DuckDBSpec]


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def secrets_file(tmp_path: Path, project: Path) -> Path:
    """A secrets file beside (not inside) the project folder."""
    home = tmp_path.parent / f"{tmp_path.name}-home"
    home.mkdir()
    path = home / "secrets.yaml"
    path.write_text(
        f"pg_password: {PASSWORD}\nprod:\n  dsn: postgresql://app:{PASSWORD}@db/shop\n"
        "port: 5432\nflag: true\n",
        encoding="utf-8",
    )
    return path


def load(registry: Registry, path: Path, env: dict[str, str]) -> LoadedPipeline:
    return registry.load(path, env=env)


def failure(registry: Registry, path: Path, env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        registry.load(path, env=env)
    return caught.value


def connection(loaded: LoadedPipeline) -> str:
    source = loaded.spec.sources["orders"]
    assert isinstance(source, PostgresCdcSpec)
    return source.connection.get_secret_value()


# --- where the secrets file is -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({SECRETS_FILE_ENV: "/etc/sw/s.yaml", "HOME": "/h"}, "/etc/sw/s.yaml"),
        ({"XDG_CONFIG_HOME": "/cfg", "HOME": "/h"}, "/cfg/sluiceway/secrets.yaml"),
        ({"HOME": "/h"}, "/h/.config/sluiceway/secrets.yaml"),
    ],
)
def test_where_the_secrets_file_is(env: dict[str, str], expected: str) -> None:
    assert secrets_file_path(env) == Path(expected)


# --- ${secret:NAME} ------------------------------------------------------------------------------


def test_a_secret_is_substituted_from_the_file(
    registry: Registry, write_pipeline: WritePipeline, secrets_file: Path
) -> None:
    path = write_pipeline(
        cdc_pipeline("postgresql://cdc:${secret:pg_password}@127.0.0.1:${secret:port}/shop")
    )

    loaded = load(registry, path, {SECRETS_FILE_ENV: str(secrets_file)})

    assert connection(loaded) == f"postgresql://cdc:{PASSWORD}@127.0.0.1:5432/shop"
    assert loaded.provenance is not None
    assert loaded.provenance.origin(("sources", "orders", "connection")) == (
        "sluiceway.yaml:5, secrets file: pg_password, secrets file: port"
    )
    assert PASSWORD not in repr(loaded)
    assert redact(f"failed: {PASSWORD}") == "failed: ***"  # registered as it was resolved


def test_nested_names_are_reached_with_dots(
    registry: Registry, write_pipeline: WritePipeline, secrets_file: Path
) -> None:
    path = write_pipeline(cdc_pipeline("${secret:prod.dsn}"))

    loaded = load(registry, path, {SECRETS_FILE_ENV: str(secrets_file)})

    assert connection(loaded) == f"postgresql://app:{PASSWORD}@db/shop"


def test_the_default_location_is_under_home(
    registry: Registry, write_pipeline: WritePipeline, secrets_file: Path
) -> None:
    config = secrets_file.parent / ".config" / "sluiceway"
    config.mkdir(parents=True)
    secrets_file.rename(config / "secrets.yaml")
    path = write_pipeline(cdc_pipeline("${secret:prod.dsn}"))

    loaded = load(registry, path, {"HOME": str(secrets_file.parent)})

    assert connection(loaded).endswith("@db/shop")


def test_a_missing_name_is_an_issue_at_its_line_naming_no_value(
    registry: Registry, write_pipeline: WritePipeline, secrets_file: Path
) -> None:
    path = write_pipeline(cdc_pipeline("${secret:pg_pasword}"))

    error = failure(registry, path, {SECRETS_FILE_ENV: str(secrets_file)})

    (issue,) = error.issues
    assert places([issue]) == [(5, 17, "sources.orders.connection")]
    assert issue.message == (
        f"secret pg_pasword is not in the secrets file {secrets_file} "
        "(names there: flag, pg_password, port, prod.dsn); add `pg_pasword: ...` to it"
    )
    assert PASSWORD not in str(error)


def test_a_missing_secrets_file_says_how_to_make_one(
    registry: Registry, write_pipeline: WritePipeline, tmp_path: Path
) -> None:
    path = write_pipeline(cdc_pipeline("${secret:pg_password}"))
    missing = tmp_path.parent / "nowhere" / "secrets.yaml"

    (issue,) = failure(registry, path, {SECRETS_FILE_ENV: str(missing)}).issues

    assert issue.message.startswith(f"secret pg_password: the secrets file {missing} does not")
    assert "chmod 600" in issue.message
    assert SECRETS_FILE_ENV in issue.message


def test_no_secrets_file_is_needed_without_a_secret(
    registry: Registry, write_pipeline: WritePipeline, tmp_path: Path
) -> None:
    path = write_pipeline(cdc_pipeline("${SHOP_DB}"))
    env = {SECRETS_FILE_ENV: str(tmp_path.parent / "nowhere.yaml"), "SHOP_DB": "dbname=shop"}

    assert connection(load(registry, path, env)) == "dbname=shop"


@pytest.mark.parametrize("inside", ["secrets.yaml", "config/secrets.yaml"])
def test_a_secrets_file_inside_the_project_is_refused(
    registry: Registry, write_pipeline: WritePipeline, project: Path, inside: str
) -> None:
    secrets = project / inside
    secrets.parent.mkdir(exist_ok=True)
    secrets.write_text(f"pg_password: {PASSWORD}\n", encoding="utf-8")
    path = write_pipeline(cdc_pipeline("postgresql://cdc:${secret:pg_password}@db/shop"))

    error = failure(registry, path, {SECRETS_FILE_ENV: str(secrets)})

    (issue,) = error.issues
    assert places([issue]) == [(5, 17, "sources.orders.connection")]
    assert "is inside the project folder" in issue.message
    assert "would be committed" in issue.message
    assert PASSWORD not in str(error)


def test_an_invalid_secrets_file_is_not_quoted(
    registry: Registry, write_pipeline: WritePipeline, secrets_file: Path
) -> None:
    secrets_file.write_text(f"pg_password: {PASSWORD}\n  bad: [indent\n", encoding="utf-8")
    path = write_pipeline(cdc_pipeline("${secret:pg_password}"))

    error = failure(registry, path, {SECRETS_FILE_ENV: str(secrets_file)})

    assert "is not valid YAML at line" in error.issues[0].message
    assert PASSWORD not in str(error)


def test_a_bad_value_from_the_secrets_file_is_not_echoed(
    registry: Registry, write_pipeline: WritePipeline, secrets_file: Path
) -> None:
    path = write_pipeline(cdc_pipeline("${SHOP_DB}", extra="    write: ${secret:pg_password}\n"))

    error = failure(registry, path, {SECRETS_FILE_ENV: str(secrets_file), "SHOP_DB": "x"})

    assert [issue.path for issue in error.issues] == ["sources.orders.write"]
    assert PASSWORD not in str(error)


@pytest.mark.parametrize("reference", ["${secret:}", "${secret:a b}", "${secret:x"])
def test_a_malformed_secret_reference(
    registry: Registry, write_pipeline: WritePipeline, reference: str
) -> None:
    path = write_pipeline(cdc_pipeline(f"'{reference}'"))

    (issue,) = failure(registry, path, {}).issues

    assert issue.message.startswith(f"malformed variable reference {reference!r}")
    assert "${secret:NAME}" in issue.message


# --- secrets written in plain YAML ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "given_away"),
    [
        ("postgresql://cdc:hunter2@db/shop", "the password of the connection string"),
        ("postgresql://cdc:hunter2@${HOST}/shop", "the password of the connection string"),
        ("postgresql://cdc@db/shop?password=hunter2", "the password of the connection string"),
        ("host=db dbname=shop password=hunter2", "the password of the connection string"),
        ("host=db hunter2", "the value"),  # not a connection string: taken as a secret
        ("postgresql://cdc:${PW}@db/shop", None),
        ("postgresql://cdc:${secret:pw}@db/shop", None),
        ("${SHOP_DB}", None),
        ("postgresql://cdc@db:5432/shop", None),  # no password: libpq finds it (~/.pgpass)
        ("host=db dbname=shop user=cdc", None),
        ("host=${HOST} dbname=shop", None),
        ("", None),
    ],
)
def test_what_a_written_connection_gives_away(written: str, given_away: str | None) -> None:
    assert written_in_plain(written) == given_away


def test_a_password_in_plain_yaml_is_refused_without_being_echoed(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(cdc_pipeline(f"postgresql://cdc:{PASSWORD}@db/shop"))

    error = failure(registry, path, {})

    (issue,) = error.issues
    assert places([issue]) == [(5, 17, "sources.orders.connection")]
    assert issue.message.startswith(
        "this field is secret, and the password of the connection string is written in plain "
        "YAML, where it would be committed and shared with the file; write it as ${ENV_VAR}, "
        "or as ${secret:NAME} with NAME in the secrets file ("
    )
    assert PASSWORD not in str(error)


def test_a_password_in_plain_yaml_in_a_profile_is_refused_at_the_profile(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(
        cdc_pipeline("${SHOP_DB}")
        + f"profiles:\n  prod:\n    sources:\n      orders:\n        connection: x:{PASSWORD}\n"
    )

    error = failure(registry, path, {"SHOP_DB": "dbname=shop", "SLUICEWAY_PROFILE": "prod"})

    assert places(error.issues) == [(11, 21, "sources.orders.connection")]
    assert PASSWORD not in str(error)


def test_a_connection_without_a_password_may_stay_in_the_file(
    registry: Registry, write_pipeline: WritePipeline
) -> None:
    path = write_pipeline(cdc_pipeline("postgresql://cdc@127.0.0.1:5432/shop"))

    assert connection(load(registry, path, {})) == "postgresql://cdc@127.0.0.1:5432/shop"


def api_pipeline(write_pipeline: WritePipeline, token: str) -> Path:
    return write_pipeline(
        f"pipeline: api\nsources:\n  events:\n    type: api\n    token: '{token}'\n"
    )


def test_an_opaque_secret_in_plain_yaml_is_refused(write_pipeline: WritePipeline) -> None:
    path = api_pipeline(write_pipeline, "tok_live_4242424242")

    with pytest.raises(ConfigError) as caught:
        load_pipeline(path, ApiPipeline, env={}, default_warehouse={"type": "duckdb"})

    assert places(caught.value.issues) == [(5, 12, "sources.events.token")]
    assert "the value is written in plain YAML" in caught.value.issues[0].message
    assert "tok_live" not in str(caught.value)


@pytest.mark.parametrize("token", ["${API_TOKEN}", "Bearer ${API_TOKEN}"])
def test_an_opaque_secret_from_a_reference_is_registered(
    write_pipeline: WritePipeline, token: str
) -> None:
    path = api_pipeline(write_pipeline, token)
    env = {"API_TOKEN": "tok_live_from_env"}

    loaded = load_pipeline(path, ApiPipeline, env=env, default_warehouse={"type": "duckdb"})

    assert loaded.spec.sources["events"].token.get_secret_value().endswith("tok_live_from_env")
    assert redact("token tok_live_from_env") == "token ***"
