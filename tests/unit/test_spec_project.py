"""Finding the project root and the file a PIPELINE argument names."""

from __future__ import annotations

from pathlib import Path

import pytest

from sluiceway.core.errors import ConfigError
from sluiceway.spec.project import pipeline_files, project_root, resolve_pipeline

pytestmark = pytest.mark.unit


def pipeline(path: Path, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"pipeline: {name}\nsources: {{}}\n", encoding="utf-8")
    return path


@pytest.fixture
def shop(project: Path) -> Path:
    """A project: ``sluiceway.yaml`` (shop) and ``pipelines/`` (crm, billing), plus a subfolder."""
    pipeline(project / "sluiceway.yaml", "shop")
    pipeline(project / "pipelines" / "crm.yaml", "crm")
    pipeline(project / "pipelines" / "billing.yml", "billing")
    (project / "data" / "raw").mkdir(parents=True)
    return project


def test_the_root_is_the_nearest_folder_with_a_project_file(shop: Path) -> None:
    nested = shop / "data" / "raw"
    inner = pipeline(nested / "sluiceway.yaml", "inner").parent

    assert project_root(shop / "data") == shop.resolve()
    assert project_root(shop) == shop.resolve()
    assert project_root(nested) == inner.resolve()


def test_without_a_project_file_the_folder_is_its_own_root(project: Path) -> None:
    folder = project / "loose"
    folder.mkdir()
    (folder / "sluiceway.yaml").mkdir()  # a folder of that name is not a project file

    assert project_root(folder) == folder.resolve()


def test_pipeline_files_lists_the_project_file_then_the_pipelines_folder(shop: Path) -> None:
    (shop / "pipelines" / "notes.txt").write_text("not a pipeline", encoding="utf-8")

    assert pipeline_files(shop) == [
        shop / "sluiceway.yaml",
        shop / "pipelines" / "billing.yml",
        shop / "pipelines" / "crm.yaml",
    ]


def test_a_path_is_taken_as_is(shop: Path) -> None:
    assert resolve_pipeline("pipelines/crm.yaml") == shop.resolve() / "pipelines" / "crm.yaml"
    assert resolve_pipeline(str(shop / "sluiceway.yaml")) == shop / "sluiceway.yaml"


def test_a_path_relative_to_another_working_directory(shop: Path) -> None:
    found = resolve_pipeline("crm.yaml", cwd=shop / "pipelines")

    assert found == shop.resolve() / "pipelines" / "crm.yaml"


@pytest.mark.parametrize(
    ("name", "relative"),
    [
        ("shop", "sluiceway.yaml"),
        ("crm", "pipelines/crm.yaml"),
        ("billing", "pipelines/billing.yml"),
    ],
)
def test_a_name_is_looked_up_in_the_projects_files(shop: Path, name: str, relative: str) -> None:
    assert resolve_pipeline(name) == shop.resolve() / relative


def test_a_name_is_found_from_a_subfolder(shop: Path) -> None:
    assert resolve_pipeline("crm", cwd=shop / "data" / "raw") == (
        shop.resolve() / "pipelines" / "crm.yaml"
    )


def test_no_argument_means_the_project_file_even_from_a_subfolder(shop: Path) -> None:
    assert resolve_pipeline(None) == shop.resolve() / "sluiceway.yaml"
    assert resolve_pipeline(None, cwd=shop / "data" / "raw") == shop.resolve() / "sluiceway.yaml"


def test_an_unknown_name_lists_the_known_ones(shop: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_pipeline("warehouse_sync")

    assert caught.value.message == f"no pipeline named 'warehouse_sync' in project {shop.resolve()}"
    assert caught.value.hint == (
        "Pipelines found: billing, crm, shop. Pass a file path or one of these names."
    )


def test_a_broken_file_does_not_hide_the_others(shop: Path) -> None:
    (shop / "pipelines" / "broken.yaml").write_text("pipeline: [unclosed\n", encoding="utf-8")
    (shop / "pipelines" / "latin.yaml").write_bytes(b"pipeline: caf\xe9\n")
    (shop / "pipelines" / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")

    assert resolve_pipeline("crm") == shop.resolve() / "pipelines" / "crm.yaml"
    with pytest.raises(ConfigError) as caught:
        resolve_pipeline("nope")
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("Pipelines found: billing, crm, shop.")


def test_an_unknown_name_outside_a_project_says_none_were_found(project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_pipeline("shop")

    assert caught.value.hint == "Pipelines found: none. Pass a file path or one of these names."


def test_no_argument_and_no_project_file_suggests_init(project: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_pipeline(None)

    assert (
        caught.value.message == f"no sluiceway.yaml in {project.resolve()} or any folder above it"
    )
    assert caught.value.hint is not None
    assert "sluiceway init" in caught.value.hint


@pytest.mark.parametrize("target", ["missing.yaml", "other.yml", "configs/shop"])
def test_a_missing_file_path_is_not_looked_up_as_a_name(shop: Path, target: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_pipeline(target)

    assert caught.value.message == f"pipeline file {target} does not exist"
