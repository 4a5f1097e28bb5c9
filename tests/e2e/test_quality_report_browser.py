"""The quality report as a browser sees it: Debian's Chromium, headless, dumps the DOM."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sluiceway.quality.report_html import render_html
from tests.conftest import service_unavailable
from tests.unit.test_quality_report_html import make_report

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_the_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        service_unavailable("no chromium on PATH for the browser check (make installs Debian's)")
    page = tmp_path / "report.html"
    page.write_text(render_html(make_report()), encoding="utf-8")
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<span class="score-value">92.5</span>' in dom
    # The browser built the same structure: every chart is an element, no script ran or exists.
    assert len(re.findall(r"<svg\b", dom)) == 7
    assert "<script" not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
