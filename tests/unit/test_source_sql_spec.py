"""The ``postgres`` and ``mysql`` sources' configuration, their registration, the connection URL
and the redaction of its password (no server needed; reading is tested against the real
servers in tests/integration/test_source_postgres.py and test_source_mysql.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sluiceway.core.errors import ConfigError, SourceError
from sluiceway.engine.registry import Registry
from sluiceway.sources.registry import builtin_sources
from sluiceway.sources.sql import MySqlSource, MySqlSpec, PostgresSource, PostgresSpec
from sluiceway.sources.sql.redaction import mask, redacted
from sluiceway.sources.sql.server_url import parse_url, secrets_of
from tests.conftest import WritePipeline

pytestmark = pytest.mark.unit

PASSWORD = "pw-Zq81xK"
PG = f"postgresql://loader:{PASSWORD}@db.internal:5433/shop"
MY = f"mysql://loader:{PASSWORD}@db.internal/shop"


def pg(**fields: Any) -> PostgresSpec:
    return PostgresSpec.model_validate(
        {"type": "postgres", "connection": PG, "source_table": "orders", **fields}
    )


def my(**fields: Any) -> MySqlSpec:
    return MySqlSpec.model_validate(
        {"type": "mysql", "connection": MY, "source_table": "orders", **fields}
    )


def test_both_kinds_are_built_in_with_their_capabilities() -> None:
    registry = builtin_sources()
    assert {"postgres", "mysql"} <= set(registry.types)
    created = registry.create(pg())
    assert isinstance(created, PostgresSource)
    assert isinstance(registry.create(my(connection="mariadb://db/shop")), MySqlSource)
    capabilities = created.capabilities
    assert (capabilities.incremental_cursor, capabilities.primary_key) == (True, True)
    assert capabilities.schema_hint
    assert not capabilities.keeps_state


def test_a_table_or_a_query_is_read() -> None:
    assert pg().source_table == "orders"
    spec = pg(source_table=None, query="  WITH x AS (SELECT 1) SELECT * FROM x;\n")
    assert spec.stripped_query == "WITH x AS (SELECT 1) SELECT * FROM x"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"query": "SELECT 1"}, "set `source_table` or `query`, not both"),
        ({"source_table": None}, "set `source_table` (the table to read) or `query`"),
        ({"source_table": None, "query": "DELETE FROM orders"}, "must be a SELECT"),
        ({"source_columns": ["id", "id"]}, "lists 'id' twice"),
        (
            {"source_columns": ["id"], "incremental": {"cursor": "updated_at"}},
            "cursor 'updated_at' is not among `source_columns`",
        ),
    ],
)
def test_what_to_read_is_checked(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pg(**fields)


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        (f"mysql://root:{PASSWORD}@db/shop", "has the scheme 'mysql'; this source reads"),
        (f"loader:{PASSWORD}@db/shop", "is not a URL"),
        (f"postgresql://loader:{PASSWORD}@db:54x32/shop", "has a port that is not a number"),
        (f"postgresql://loader:%zz{PASSWORD}@db/shop", "'%' that is not followed by two hex"),
        (f"postgresql://loader:{PASSWORD}@/shop", "names no host"),
    ],
)
def test_a_malformed_connection_is_refused_without_echoing_it(
    connection: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        pg(connection=connection)

    assert PASSWORD not in str(caught.value)


def test_postgres_takes_libpq_keywords_and_sqlalchemy_urls_too() -> None:
    assert pg(connection=f"host=db dbname=shop password={PASSWORD}").type == "postgres"
    assert pg(connection="postgresql+psycopg://postgres@127.0.0.1:5432/db").type == "postgres"
    assert pg(connection="postgres://db/shop").type == "postgres"


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        (f"postgresql://loader:{PASSWORD}@db/shop", "has the scheme 'postgresql'"),
        (f"mysql://loader:{PASSWORD}@db/shop?sslmode=require", "unknown option(s) sslmode"),
        (f"mysql://loader:{PASSWORD}@db/shop?connect_timeout=soon", "connect_timeout"),
    ],
)
def test_a_mysql_connection_is_a_mysql_url(connection: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        my(connection=connection)


def test_a_mysql_url_is_parsed_into_its_parts() -> None:
    url = parse_url(
        "mariadb://app%40shop:p%2Fw@db.internal/shop?charset=latin1",
        schemes=MySqlSpec.SCHEMES,
        default_port=3306,
    )
    assert (url.user, url.password, url.host, url.port, url.database) == (
        "app@shop",
        "p/w",
        "db.internal",
        3306,
        "shop",
    )
    assert url.label == "db.internal:3306/shop"
    assert url.params == {"charset": "latin1"}
    assert "p/w" not in repr(url)


def test_the_secrets_of_a_connection_are_the_text_and_its_password() -> None:
    assert secrets_of("mysql://u:p%2Fw@h/db") == ["mysql://u:p%2Fw@h/db", "p%2Fw", "p/w"]
    assert secrets_of("host=h password='s e' dbname=x") == [
        "host=h password='s e' dbname=x",
        "'s e'",
        "s e",
    ]
    assert secrets_of("postgresql://u@h/db") == ["postgresql://u@h/db"]


def test_errors_raised_while_reading_have_the_password_masked() -> None:
    with pytest.raises(ConfigError) as caught, redacted(secrets_of(PG)):
        raise ConfigError(f"bad {PASSWORD}", hint=f"see {PG}")
    assert (caught.value.message, caught.value.hint) == ("bad ***", "see ***")

    with pytest.raises(SourceError) as foreign, redacted(secrets_of(PG)):
        raise RuntimeError(f"driver said {PASSWORD}")
    assert str(foreign.value) == "RuntimeError: driver said ***"
    assert foreign.value.__cause__ is None


def test_a_short_password_is_masked_only_where_it_stands_alone() -> None:
    assert mask("user pw (pw: 'pw') at db", ["pw"]) == "user *** (***: '***') at db"
    assert mask("password authentication failed", ["pw"]) == "password authentication failed"


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        (MY, "sources.orders.connection: has the scheme 'mysql'"),
        (PG, "sources.orders: set `source_table` (the table to read) or `query`"),
    ],
)
def test_a_pipeline_file_points_at_the_problem_and_hides_the_connection(
    connection: str,
    message: str,
    registry: Registry,
    write_pipeline: WritePipeline,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOP_DB", connection)
    path: Path = write_pipeline(
        """
        pipeline: shop
        sources:
          orders:
            type: postgres
            connection: ${SHOP_DB}
            table: orders
        """
    )

    with pytest.raises(ConfigError) as caught:
        registry.load(path)

    assert message in str(caught.value)
    assert PASSWORD not in str(caught.value)
