"""``sluiceway dag``: a project's plan drawn as Mermaid, DOT, PNG and SVG.

The command is driven through :func:`draw_dag`, the function the Typer command calls, over a
real project of CSV sources whose steps depend on each other for each kind of reason.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sluiceway.cli.commands.dag import draw_dag
from sluiceway.cli.context import CliState
from sluiceway.core.errors import ConfigError

pytestmark = pytest.mark.e2e

PIPELINE = """\
pipeline: shop
sources:
  customers:
    type: csv
    path: data/customers.csv
    table: bronze.customers
  orders:
    type: csv
    path: data/orders.csv
    table: bronze.orders
    references: [bronze.customers]
  order_lines:
    type: csv
    path: data/order_lines.csv
    table: bronze.order_lines
    depends_on: [orders]
    checks:
      - {rule: foreign_key, column: customer_id, references: bronze.customers.customer_id}
  products:
    type: csv
    path: data/products.csv
    table: bronze.products
"""

STEPS = ("customers", "orders", "order_lines", "products")
TABLES = ("bronze.customers", "bronze.orders", "bronze.order_lines", "bronze.products")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "sluiceway.yaml").write_text(PIPELINE, encoding="utf-8")
    for name, header in [
        ("customers", "customer_id,name"),
        ("orders", "order_id,customer_id"),
        ("order_lines", "order_id,customer_id,product"),
        ("products", "product,price"),
    ]:
        (tmp_path / "data" / f"{name}.csv").write_text(f"{header}\n", encoding="utf-8")
    return tmp_path


def test_mermaid_goes_to_stdout(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draw_dag(CliState(cwd=project), None, fmt="mermaid", out=None)
    out, err = capsys.readouterr()
    assert out.startswith('---\ntitle: "shop"\n---\nflowchart LR\n')
    for name, table in zip(STEPS, TABLES, strict=True):
        assert f'    step_{name}("{name}<br/>{table}")' in out
    assert '    step_customers -->|"references bronze.customers"| step_orders' in out
    assert '    step_orders -->|"depends_on"| step_order_lines' in out
    assert '    step_customers -->|"a rule reads bronze.customers"| step_order_lines' in out
    assert err == ""


def test_dot_goes_to_a_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "dag.dot"
    draw_dag(CliState(cwd=project), "shop", fmt="dot", out=target)
    out, err = capsys.readouterr()
    assert out == ""
    assert f"wrote the dot DAG of shop (4 step(s), 3 edge(s)) to {target}" in err.replace("\n", "")
    text = target.read_text(encoding="utf-8")
    assert text.startswith('digraph "shop" {\n    rankdir=LR;\n')
    assert '    "orders" -> "order_lines" [label="depends_on"];' in text
    assert '    "products" [label="products\\nbronze.products"];' in text


def test_png_and_svg_go_to_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = CliState(cwd=project)
    draw_dag(state, None, fmt="png", out=project / "dag.png")
    draw_dag(state, None, fmt="svg", out=project / "dag.svg")
    err = capsys.readouterr().err.replace("\n", "")
    assert "wrote the png DAG of shop" in err
    assert "dag.svg" in err
    assert (project / "dag.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    root = ET.fromstring((project / "dag.svg").read_bytes())
    texts = {element.text for element in root.iter("{http://www.w3.org/2000/svg}text")}
    assert set(STEPS) | set(TABLES) | {"shop", "depends_on"} <= texts


def test_a_picture_goes_to_stdout_when_it_is_not_a_terminal(
    project: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    draw_dag(CliState(cwd=project), None, fmt="png", out=None)
    out, err = capsysbinary.readouterr()
    assert out.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"wrote the png DAG of shop" in err
    assert b"to stdout" in err


def test_a_picture_needs_a_file_on_a_terminal(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with pytest.raises(ConfigError, match="--format svg draws a picture") as raised:
        draw_dag(CliState(cwd=project), None, fmt="svg", out=None)
    assert "--out dag.svg" in str(raised.value.hint)
    assert capsys.readouterr().out == ""


def test_an_unknown_format_and_an_unwritable_file_are_errors(project: Path) -> None:
    state = CliState(cwd=project)
    with pytest.raises(ConfigError, match="cannot draw a DAG as 'gif'"):
        draw_dag(state, None, fmt="gif", out=None)
    with pytest.raises(ConfigError, match=r"cannot write .*dag\.png"):
        draw_dag(state, None, fmt="png", out=project / "no" / "such" / "dag.png")


def test_the_cli_does_not_import_matplotlib_until_it_draws() -> None:
    code = textwrap.dedent(
        """
        import sys
        import sluiceway.cli.app, sluiceway.cli.commands.dag, sluiceway.engine.dag_render
        assert "matplotlib" not in sys.modules, "matplotlib imported at start-up"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
