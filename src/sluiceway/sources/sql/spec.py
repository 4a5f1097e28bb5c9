"""The configuration of the ``postgres`` and ``mysql`` sources::

sources:
  orders:
    type: postgres                  # or mysql (MySQL and MariaDB)
    connection: ${SHOP_DB}          # postgresql://loader:secret@db:5432/shop
    source_table: sales.orders      # or query: SELECT ...
    source_columns: [id, customer_id, amount, updated_at]
    write: merge
    primary_key: [id]
    incremental: {cursor: updated_at}

``table`` and ``columns`` keep the meaning they have for every source (the target table, and
declared column types), so the table to read is ``source_table`` and the columns to read are
``source_columns``.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from sluiceway.sources.sql.server_url import parse_url
from sluiceway.spec.models import SourceSpec

_SELECT = re.compile(r"^(?:\s|--[^\n]*\n|/\*.*?\*/|\()*(select|with|values|table)\b", re.I | re.S)
MYSQL_PARAMS = frozenset(
    {"charset", "connect_timeout", "unix_socket", "ssl_ca", "ssl_cert", "ssl_key"}
)


class SqlSourceSpec(SourceSpec):
    """A table or a query of a database, read in batches through a server-side cursor."""

    # A validation error must not print the input: it holds the connection's password.
    model_config = ConfigDict(hide_input_in_errors=True)

    SCHEMES: ClassVar[tuple[str, ...]] = ()
    DEFAULT_PORT: ClassVar[int] = 0

    connection: SecretStr = Field(
        description="The database, as a URL (`postgresql://user:pw@host:5432/db`, "
        "`mysql://user:pw@host:3306/db`). Write it, or its password, through `${VAR}`: it is "
        "never printed, and errors name only host:port/database."
    )
    source_table: str | None = Field(
        None,
        min_length=1,
        description="The table (or view) to read, written as in SQL: `orders`, `sales.orders`, "
        '`"Mixed Case"`. (`table` names the target table.) Exactly one of `source_table` and '
        "`query`.",
    )
    query: str | None = Field(
        None,
        min_length=1,
        description="A SELECT whose rows to read, instead of a table. An incremental cursor "
        "filters its output column, so the database can still use an index.",
    )
    source_columns: list[str] = Field(
        default_factory=list,
        description="The columns to read, in this order (default: every column).",
    )

    @field_validator("connection")
    @classmethod
    def _connection(cls, value: SecretStr) -> SecretStr:
        cls.check_connection(value.get_secret_value())
        return value

    @classmethod
    def check_connection(cls, text: str) -> None:
        """Raise ``ValueError`` (quoting nothing of ``text``) when it is not a usable URL."""
        parse_url(text, schemes=cls.SCHEMES, default_port=cls.DEFAULT_PORT)

    @field_validator("query")
    @classmethod
    def _select(cls, value: str | None) -> str | None:
        if value is not None and not _SELECT.match(value):
            raise ValueError("must be a SELECT (or WITH ... SELECT): a source only reads")
        return value

    @field_validator("source_columns")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("a column name is empty")
        seen: set[str] = set()
        for name in value:
            if name in seen:
                raise ValueError(f"lists {name!r} twice")
            seen.add(name)
        return value

    @model_validator(mode="after")
    def _table_or_query(self) -> SqlSourceSpec:
        if self.source_table is not None and self.query is not None:
            raise ValueError("set `source_table` or `query`, not both")
        if self.source_table is None and self.query is None:
            raise ValueError(
                "set `source_table` (the table to read) or `query` (a SELECT); "
                "`table` names the target table"
            )
        cursor = self.incremental.cursor if self.incremental is not None else None
        if cursor is not None and self.source_columns and cursor not in self.source_columns:
            raise ValueError(
                f"the incremental cursor {cursor!r} is not among `source_columns`; add it"
            )
        return self

    @property
    def stripped_query(self) -> str | None:
        """The query without trailing semicolons and blanks, to nest in a larger SELECT."""
        return self.query.strip().rstrip(";").rstrip() if self.query is not None else None


class PostgresSpec(SqlSourceSpec):
    """A PostgreSQL table or query."""

    SCHEMES: ClassVar[tuple[str, ...]] = ("postgresql", "postgres", "postgresql+psycopg")
    DEFAULT_PORT: ClassVar[int] = 5432

    type: Literal["postgres"]

    @classmethod
    def check_connection(cls, text: str) -> None:
        if "://" not in text and "=" in text:  # libpq keywords: host=db dbname=shop ...
            return
        parse_url(text, schemes=cls.SCHEMES, default_port=cls.DEFAULT_PORT)


class MySqlSpec(SqlSourceSpec):
    """A MySQL or MariaDB table or query."""

    SCHEMES: ClassVar[tuple[str, ...]] = ("mysql", "mariadb", "mysql+pymysql")
    DEFAULT_PORT: ClassVar[int] = 3306

    type: Literal["mysql"]

    @classmethod
    def check_connection(cls, text: str) -> None:
        url = parse_url(text, schemes=cls.SCHEMES, default_port=cls.DEFAULT_PORT)
        unknown = sorted(set(url.params) - MYSQL_PARAMS)
        if unknown:
            raise ValueError(
                f"has the unknown option(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(MYSQL_PARAMS))}"
            )
        timeout = url.params.get("connect_timeout")
        if timeout is not None and not timeout.isdigit():
            raise ValueError("has a connect_timeout that is not a whole number of seconds")
