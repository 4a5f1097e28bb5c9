"""Saved queries: where `sluiceway query --saved NAME` finds NAME (next to the pipeline, then
the project, then the demo's bundled queries), descriptions, listing, and unknown names."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluiceway.cli.commands.query import saved_query_folders
from sluiceway.cli.commands.saved_queries import (
    QueryFolder,
    bundled_folder,
    description_of,
    find_saved_query,
    query_folders,
    saved_queries,
)
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError

pytestmark = pytest.mark.unit

REQUIRED = (
    "active_users_over_30_signed_up_last_week",
    "signups_and_average_age_per_day",
    "revenue_by_state_and_month",
    "top_products",
)


def save(folder: Path, name: str, sql: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.sql"
    path.write_text(sql, encoding="utf-8")
    return path


@pytest.fixture
def shop(project: Path) -> Path:
    """A project: sluiceway.yaml, a second pipeline under pipelines/, and a query in each
    folder under the same name as a bundled one (top_products)."""
    (project / "sluiceway.yaml").write_text("pipeline: shop\nsources: {}\n", encoding="utf-8")
    (project / "pipelines").mkdir()
    (project / "pipelines" / "crm.yaml").write_text("pipeline: crm\nsources: {}\n")
    save(project / "queries", "top_products", "-- description: the project's\nSELECT 1 AS n\n")
    save(project / "queries", "churn", "-- description: churned customers\nSELECT 2 AS n\n")
    save(
        project / "pipelines" / "queries",
        "top_products",
        "-- description: the crm pipeline's\nSELECT 3 AS n\n",
    )
    return project


def test_the_pipeline_folder_wins_then_the_project_then_the_demo(shop: Path) -> None:
    folders = query_folders(root=shop, pipeline_file=shop / "pipelines" / "crm.yaml")
    assert [(f.origin, f.path) for f in folders] == [
        ("pipeline", shop / "pipelines" / "queries"),
        ("project", shop / "queries"),
        ("demo", bundled_folder().resolve()),
    ]
    found = find_saved_query("top_products", folders)
    assert (found.origin, found.description) == ("pipeline", "the crm pipeline's")
    assert find_saved_query("churn", folders).origin == "project"
    demo = find_saved_query("revenue_by_state_and_month", folders)
    assert demo.origin == "demo"
    assert demo.path == bundled_folder().resolve() / "revenue_by_state_and_month.sql"


def test_without_a_pipeline_folder_the_project_comes_first(shop: Path) -> None:
    folders = query_folders(root=shop, pipeline_file=None)
    assert [f.origin for f in folders] == ["project", "demo"]
    found = find_saved_query("top_products", folders)
    assert (found.origin, found.sql()) == (
        "project",
        "-- description: the project's\nSELECT 1 AS n\n",
    )


def test_the_project_file_folder_is_listed_once_as_the_project(shop: Path) -> None:
    folders = query_folders(root=shop, pipeline_file=shop / "sluiceway.yaml")
    assert [(f.origin, f.path) for f in folders] == [
        ("project", shop / "queries"),
        ("demo", bundled_folder().resolve()),
    ]


def test_the_cli_looks_next_to_the_given_pipeline_or_the_project_file(shop: Path) -> None:
    state = CliState(cwd=shop / "pipelines")
    given = saved_query_folders(state, "crm.yaml")
    assert [f.origin for f in given] == ["pipeline", "project", "demo"]
    assert find_saved_query("top_products", given).description == "the crm pipeline's"
    default = saved_query_folders(state, None)
    assert [f.origin for f in default] == ["project", "demo"]
    assert find_saved_query("top_products", default).description == "the project's"


def test_the_cli_without_a_project_file_uses_the_folder_and_the_demo(project: Path) -> None:
    save(project / "queries", "mine", "SELECT 1\n")
    folders = saved_query_folders(CliState(cwd=project), None)
    assert [(f.origin, f.path) for f in folders] == [
        ("project", project / "queries"),
        ("demo", bundled_folder().resolve()),
    ]
    assert find_saved_query("mine.sql", folders).name == "mine"


def test_the_listing_names_each_query_once_from_the_first_folder(shop: Path) -> None:
    folders = query_folders(root=shop, pipeline_file=shop / "pipelines" / "crm.yaml")
    listed = saved_queries(folders)
    names = [q.name for q in listed]
    assert names == sorted(set(names))
    by_name = {q.name: q for q in listed}
    assert by_name["top_products"].origin == "pipeline"
    assert by_name["churn"].description == "churned customers"
    assert {name: by_name[name].origin for name in REQUIRED if name != "top_products"} == {
        name: "demo" for name in REQUIRED if name != "top_products"
    }


def test_a_folder_that_does_not_exist_lists_nothing(tmp_path: Path) -> None:
    assert saved_queries([QueryFolder("project", tmp_path / "queries")]) == []


def test_every_bundled_query_has_a_description() -> None:
    bundled = saved_queries([QueryFolder("demo", bundled_folder())])
    assert set(REQUIRED) <= {q.name for q in bundled}
    assert len(bundled) >= 7
    assert [q.name for q in bundled if not q.description] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-- description: Top products\nSELECT 1", "Top products"),
        ("\n-- what it is for\n--Description:   padded  \nSELECT 1", "padded"),
        ("-- no description here\nSELECT 1", None),
        ("SELECT 1\n-- description: after the SQL starts", None),
        ("-- description:\nSELECT 1", None),
    ],
)
def test_the_description_is_a_leading_comment_line(text: str, expected: str | None) -> None:
    assert description_of(text) == expected


def test_an_unknown_name_says_where_it_looked_and_suggests_close_names(shop: Path) -> None:
    folders = query_folders(root=shop, pipeline_file=None)
    with pytest.raises(ConfigError) as raised:
        find_saved_query("top_prodcts", folders)
    error = raised.value
    assert error.message == (
        f"no saved query named 'top_prodcts' (looked in {shop / 'queries'}, "
        f"{bundled_folder().resolve()})"
    )
    assert error.hint == "Did you mean top_products? `sluiceway queries` lists the saved queries."


def test_an_unknown_name_with_nothing_close_says_how_to_add_it(shop: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        find_saved_query("zzz", query_folders(root=shop, pipeline_file=None))
    assert raised.value.hint == (
        "`sluiceway queries` lists the saved queries; to add this one, save its SQL as "
        "queries/zzz.sql in the project."
    )


@pytest.mark.parametrize("name", ["../secrets", "a/b", "", ".hidden"])
def test_a_name_that_is_a_path_is_refused(shop: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="is not a saved query name"):
        find_saved_query(name, query_folders(root=shop, pipeline_file=None))
