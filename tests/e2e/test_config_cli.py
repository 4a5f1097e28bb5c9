"""Profiles and secrets as a user meets them: `config show` masks, errors never echo a password.

The connection errors are real: PostgreSQL at 127.0.0.1:5432 is asked for a database that does
not exist, a closed port is tried, and (the server trusts local connections, so a wrong password
is accepted) a connection with a wrong password fails further on. Whatever fails, the password
appears in no output: not on stdout, stderr, the JSON log, the `--debug` traceback, nor in the
run history.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import service_unavailable
from tests.e2e.cli_process import sluiceway

pytestmark = pytest.mark.e2e

PG = "postgresql://postgres@127.0.0.1:5432"
CDC_PASSWORD = f"cdc-{uuid.uuid4().hex[:12]}"
API_TOKEN = f"tok-{uuid.uuid4().hex[:12]}"
PROD_PASSWORD = f"prod-{uuid.uuid4().hex[:12]}"

SHOP = """\
pipeline: shop
description: orders (api token ${SHOP_API_TOKEN})
sources:
  orders:
    type: csv
    path: data/orders.csv
  changes:
    type: postgres_cdc
    connection: postgresql://cdc:${secret:cdc_password}@db.internal:5432/shop
    source_table: sales.orders
    write: merge
    primary_key: [id]
profiles:
  dev: {}
  prod:
    warehouse: {type: duckdb, threads: 8}
    sources:
      changes:
        connection: ${PROD_CDC_URL}
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The user's own folder, outside the project, with the secrets file."""
    folder = tmp_path / "home"
    folder.mkdir()
    (folder / "secrets.yaml").write_text(
        f"cdc_password: {CDC_PASSWORD}\npg_password: {CDC_PASSWORD}\n", encoding="utf-8"
    )
    return folder


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "sluiceway.yaml").write_text(SHOP, encoding="utf-8")
    return folder


def environment(home: Path, **more: str) -> dict[str, str]:
    return {
        "SLUICEWAY_SECRETS_FILE": str(home / "secrets.yaml"),
        "SHOP_API_TOKEN": API_TOKEN,
        "PROD_CDC_URL": f"postgresql://loader:{PROD_PASSWORD}@prod-db:5432/shop",
        "SLUICEWAY_PROFILE": "",
        **more,
    }


def one_line(text: str) -> str:
    """``text`` with its wrapping undone (the terminal width folds long messages)."""
    return " ".join(text.split())


def no_secret_in(*outputs: str) -> None:
    for secret in (CDC_PASSWORD, API_TOKEN, PROD_PASSWORD):
        for output in outputs:
            assert secret not in output


# --- config show ---------------------------------------------------------------------------------


def test_config_show_masks_every_secret_and_says_where_values_came_from(
    shop: Path, home: Path
) -> None:
    shown = sluiceway("config", "show", cwd=shop, env=environment(home))

    assert shown.returncode == 0, shown.stderr
    no_secret_in(shown.stdout, shown.stderr)
    lines = shown.stdout.splitlines()
    assert "# profile: dev (default: dev is defined); defined: dev, prod" in lines
    assert f"# secrets file: {home / 'secrets.yaml'}" in lines
    connection = next(line for line in lines if "connection:" in line)
    assert [part.strip() for part in connection.split("  # ")] == [
        'connection: "postgresql://cdc:***@db.internal:5432/shop"',
        "sluiceway.yaml:9, secrets file: cdc_password",
    ]
    description = next(line for line in lines if line.startswith("description:"))
    assert [part.strip() for part in description.split("  # ")] == [
        'description: "***"',
        "sluiceway.yaml:2, env SHOP_API_TOKEN",
    ]
    assert any(line.startswith("  type: duckdb") and "# default" in line for line in lines)


@pytest.mark.parametrize(
    "how",
    [
        ("--profile", "prod", "config", "show", "--format", "json"),
        ("config", "show", "--profile", "prod", "-f", "json"),
    ],
)
def test_config_show_of_a_profile_as_json(shop: Path, home: Path, how: tuple[str, ...]) -> None:
    shown = sluiceway(*how, cwd=shop, env=environment(home))

    assert shown.returncode == 0, shown.stderr
    no_secret_in(shown.stdout, shown.stderr)
    document = json.loads(shown.stdout)
    assert document["profile"] == {
        "name": "prod",
        "selected_by": "--profile",
        "defined": ["dev", "prod"],
    }
    changes = document["config"]["sources"]["changes"]
    assert changes["connection"] == "postgresql://loader:***@prod-db:5432/shop"
    assert document["config"]["warehouse"]["threads"] == 8
    origins = document["origins"]
    assert origins["sources.changes.connection"] == (
        "sluiceway.yaml:19, profile prod, env PROD_CDC_URL"
    )
    assert origins["warehouse.threads"] == "sluiceway.yaml:16, profile prod"
    assert origins["sources.changes.max_changes"] == "default"


def test_the_environment_selects_the_profile(shop: Path, home: Path) -> None:
    shown = sluiceway("config", "show", cwd=shop, env=environment(home, SLUICEWAY_PROFILE="prod"))

    assert shown.returncode == 0, shown.stderr
    assert "# profile: prod ($SLUICEWAY_PROFILE); defined: dev, prod" in shown.stdout


def test_an_unknown_profile_lists_the_defined_ones(shop: Path, home: Path) -> None:
    shown = sluiceway("--profile", "production", "validate", cwd=shop, env=environment(home))

    assert shown.returncode == 1
    message = one_line(shown.stderr)
    assert "sluiceway.yaml:13:1: profiles: no profile 'production' in this file" in message
    assert "profiles defined: dev, prod" in message


def test_a_secrets_file_inside_the_project_is_refused(shop: Path, home: Path) -> None:
    inside = shop / "secrets.yaml"
    inside.write_text((home / "secrets.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    shown = sluiceway(
        "config", "show", cwd=shop, env=environment(home, SLUICEWAY_SECRETS_FILE=str(inside))
    )

    assert shown.returncode == 1
    assert "is inside the project folder" in one_line(shown.stderr)
    assert "would be committed" in one_line(shown.stderr)
    no_secret_in(shown.stdout, shown.stderr)


def test_a_password_in_plain_yaml_is_refused(shop: Path, home: Path) -> None:
    config = shop / "sluiceway.yaml"
    config.write_text(SHOP.replace("${secret:cdc_password}", CDC_PASSWORD), encoding="utf-8")

    shown = sluiceway("validate", cwd=shop, env=environment(home))

    assert shown.returncode == 1
    message = one_line(shown.stderr)
    assert "sluiceway.yaml:9:17: sources.changes.connection: this field is secret" in message
    no_secret_in(shown.stdout, shown.stderr)


# --- a failing connection with a password ------------------------------------------------------


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A database of this module's own on the shared server, dropped afterwards."""
    name = f"sluiceway_test_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        service_unavailable(f"PostgreSQL at 127.0.0.1:5432: {' '.join(str(exc).split())}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


CASES = {
    # the server says the database does not exist
    "missing database": ("5432", "sluiceway_missing_{uuid}", "does not exist"),
    # nothing listens there
    "closed port": ("1", "postgres", "Connection refused"),
    # the server trusts 127.0.0.1, so the wrong password connects; the source fails after
    "accepted wrong password": ("5432", "{own}", "127.0.0.1:5432/{own}"),
    # the server's own message quotes the password (it is the database's name here)
    "password in the server's message": ("5432", "${secret:pg_password}", 'database "***"'),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_failed_connection_never_shows_the_password(
    tmp_path: Path, home: Path, own_database: str, case: str
) -> None:
    port, database, expected = CASES[case]
    database = database.replace("{uuid}", uuid.uuid4().hex[:8]).replace("{own}", own_database)
    project = tmp_path / "leak"
    project.mkdir()
    (project / "sluiceway.yaml").write_text(
        textwrap.dedent(
            f"""\
            pipeline: leak
            sources:
              orders:
                type: postgres_cdc
                connection: postgresql://postgres:${{secret:pg_password}}@127.0.0.1:{port}/{database}
                source_table: public.orders
                write: append
                create_slot: false
            """
        ),
        encoding="utf-8",
    )
    env = environment(home)

    summarised = sluiceway("run", "--json", cwd=project, env=env, timeout=60)
    # the traceback (with the driver's own message), the error, a JSON log line per event
    logged = sluiceway("--debug", "--log-format", "json", "run", cwd=project, env=env, timeout=60)
    summary = json.loads(summarised.stdout)
    stored = sluiceway("runs", "show", summary["run_id"], "--json", cwd=project, env=env)

    assert (summarised.returncode, logged.returncode, stored.returncode) == (1, 1, 0)
    expected = expected.replace("{own}", own_database)
    assert expected in one_line(summary["steps"][0]["error"])
    assert expected in one_line(logged.stderr)
    assert "Traceback" in logged.stderr
    assert '"event": "step_finished"' in logged.stderr
    assert expected in one_line(json.loads(stored.stdout)["steps"][0]["error_message"])
    no_secret_in(*(p.stdout + p.stderr for p in (summarised, logged, stored)))
