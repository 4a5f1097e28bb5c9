"""The static HTML quality report and its SVG charts: structure, numbers, escaping, scaling."""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluiceway.quality.charts import bar_chart, compact_number, hbar, histogram, line_chart
from sluiceway.quality.report_html import render_html

HOSTILE = "<script>alert(1)</script>"
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source", "area", "base"}


# --- a tiny DOM built with html.parser, strict about balanced tags --------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.walk()
            if n.tag == tag and (cls is None or cls in n.attrs.get("class", "").split())
        ]

    def find(self, tag: str, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls}>"
        return found[0]

    def by_id(self, ident: str) -> Node:
        found = [n for n in self.walk() if n.attrs.get("id") == ident]
        assert len(found) == 1, ident
        return found[0]


class TreeBuilder(HTMLParser):
    """Builds a Node tree; records every end tag that does not close the open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if len(self.stack) > 1 and self.stack[-1].tag == tag:
            self.stack.pop()
        else:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}>")

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(markup: str) -> Node:
    """Parse ``markup``, asserting every element is closed in order."""
    builder = TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.errors == []
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements"
    return builder.root


def num(node: Node, attr: str) -> float:
    return float(node.attrs[attr])


# --- realistic input ----------------------------------------------------------------------


def histogram_bins(lo: float, hi: float, counts: list[int]) -> list[dict[str, Any]]:
    width = (hi - lo) / len(counts)
    return [
        {"lo": lo + i * width, "hi": lo + (i + 1) * width, "count": c} for i, c in enumerate(counts)
    ]


def numeric_column(name: str, counts: list[int]) -> dict[str, Any]:
    return {
        "name": name, "type": "DOUBLE", "kind": "numeric", "count": 950, "nulls": 50,
        "null_share": 0.05, "distinct": 812, "min": 0.5, "max": 199.25, "mean": 42.125,
        "stddev": 17.5,
        "quantiles": {"p01": 1, "p05": 3, "p25": 20, "p50": 40, "p75": 60, "p95": 150, "p99": 190},
        "sketch": [float(i) for i in range(101)], "top_values": [],
        "histogram": histogram_bins(0.5, 199.25, counts), "length": None, "patterns": None,
    }  # fmt: skip


def string_column(name: str, tops: list[tuple[str, int]]) -> dict[str, Any]:
    total = sum(c for _, c in tops)
    return {
        "name": name, "type": "VARCHAR", "kind": "string", "count": total, "nulls": 7,
        "null_share": 7 / (total + 7), "distinct": len(tops), "min": min(v for v, _ in tops),
        "max": max(v for v, _ in tops), "mean": None, "stddev": None, "quantiles": None,
        "sketch": None,
        "top_values": [{"value": v, "count": c, "share": c / total} for v, c in tops],
        "histogram": None, "length": {"min": 2, "max": 25, "mean": 4.5},
        "patterns": [{"pattern": "A+", "count": total - 3, "share": (total - 3) / total},
                     {"pattern": "<a+>", "count": 3, "share": 3 / total}],
    }  # fmt: skip


SCORES = [88.0, 90.5, 91.0, 89.25, 92.5]
PRICE_COUNTS = [5, 9, 30, 61, 80, 95, 88, 70, 52, 40, 33, 25, 20, 16, 11, 8, 5, 3, 2, 1]


def make_report() -> dict[str, Any]:
    """A run with two tables: one fully populated, one with nothing but row counts."""
    customers = {
        "table": "bronze.customers", "step": "customers", "load_id": "01JLOAD5",
        "rows_read": 1000, "rows_loaded": 950, "rows_rejected": 50,
        "score": {
            "score": 92.5,
            "dimensions": {"completeness": 99.0, "validity": 90.0, "uniqueness": 100.0,
                           "consistency": 100.0, "timeliness": 100.0, "accuracy": 80.0},
            "weights": {"completeness": 0.25, "validity": 0.25, "uniqueness": 0.15,
                        "consistency": 0.15, "timeliness": 0.1, "accuracy": 0.1},
        },
        "score_history": [
            {"load_id": f"01JLOAD{i}", "at": f"2026-11-{18 + i}T10:00:00+00:00", "score": s}
            for i, s in enumerate(SCORES, start=1)
        ],
        "rules": [
            {"rule_id": "email_format", "rule": "format", "columns": ["email"],
             "severity": "error", "on_fail": "quarantine", "passed": False, "failing": 12,
             "checked": 1000, "observed": "12 rows", "threshold": "0 rows",
             "message": "email is not a valid email",
             "sample": [{"customer_id": 3, "email": "x@"}, {"customer_id": 9, "email": HOSTILE},
                        {"customer_id": 11, "email": None}]},
            {"rule_id": "id_unique", "rule": "unique", "columns": ["customer_id"],
             "severity": "error", "on_fail": "fail", "passed": False, "failing": 38,
             "checked": 1000, "observed": "38 rows", "threshold": "0 rows",
             "message": "duplicate customer ids", "sample": [{"customer_id": 5}]},
            {"rule_id": "country_known", "rule": "accepted_values", "columns": ["country"],
             "severity": "warn", "on_fail": "warn", "passed": True, "failing": 0,
             "checked": 1000, "observed": "0 rows", "threshold": "10 rows", "message": "",
             "sample": []},
            {"rule_id": "price_range", "rule": "range", "columns": ["price", "discount"],
             "severity": "warn", "on_fail": "warn", "passed": True, "failing": 3,
             "checked": 1000, "observed": "0.3 %", "threshold": "1 %",
             "message": "price outside [0, 10000]", "sample": [{"price": -1.5}]},
        ],
        "cleaning": [
            {"column": "email", "operation": "lower", "changed": 30,
             "examples": [{"before": "Ann@X.com", "after": "ann@x.com"}]},
            {"column": "name", "operation": "trim", "changed": 4,
             "examples": [{"before": "  Bob ", "after": "Bob"}, {"before": HOSTILE, "after": ""}]},
        ],
        "profile": {
            "table": "bronze.customers", "load_id": "01JLOAD5",
            "profiled_at": "2026-11-23T10:04:00+00:00", "rows": 1000,
            "columns": [
                numeric_column("price", PRICE_COUNTS),
                string_column("country", [("US", 500), ("CA", 200), ("MX", 90), (HOSTILE, 3)]),
                string_column("email", [("a@x.com", 2), ("b@y.org", 1)]),
            ],
        },
    }  # fmt: skip
    orders = {
        "table": "bronze.orders", "step": "orders", "load_id": "01JLOADO",
        "rows_read": 5000, "rows_loaded": 5000, "rows_rejected": 0,
        "score": None, "score_history": [], "rules": [], "cleaning": [], "profile": None,
    }  # fmt: skip
    return {
        "run_id": "01JRUN0001", "pipeline": "shop", "status": "succeeded",
        "started_at": "2026-11-23T10:00:00+00:00", "finished_at": "2026-11-23T10:04:12+00:00",
        "tables": [customers, orders],
    }  # fmt: skip


def svg_labels(node: Node) -> list[str]:
    return [svg.attrs.get("aria-label", "") for svg in node.find_all("svg")]


def rule_row(page: Node, rule_id: str) -> Node:
    rows = [r for r in page.find_all("tr", "rule") if r.attrs.get("data-rule-id") == rule_id]
    assert len(rows) == 1
    return rows[0]


# --- the report page ----------------------------------------------------------------------


@pytest.mark.unit
def test_the_page_is_well_formed_and_has_one_svg_per_expected_chart() -> None:
    page = parse(render_html(make_report()))
    first, second = page.by_id("table-1"), page.by_id("table-2")
    assert svg_labels(first) == [
        "dimensions",
        "score per load",
        "failing rows per rule",
        "distribution",  # price
        "top values",  # country
        "top values",  # email
    ]
    # The second table has no score, rules, cleaning or profile: only the (empty) trend chart.
    assert svg_labels(second) == ["score per load"]
    assert len(page.find_all("svg")) == 7
    assert first.find("h2").text() == "bronze.customers"


@pytest.mark.unit
def test_the_page_references_nothing_outside_itself() -> None:
    markup = render_html(make_report())
    for forbidden in ("http://", "https://", "src=", "url(", "@import", "<script", "<link"):
        assert forbidden not in markup.lower(), forbidden
    # Links are in-page anchors only, and every one has a target.
    page = parse(markup)
    ids = {n.attrs["id"] for n in page.walk() if "id" in n.attrs}
    hrefs = [a.attrs["href"] for a in page.find_all("a")]
    assert hrefs == ["#table-1", "#table-2"]
    assert {h[1:] for h in hrefs} <= ids
    assert "@media print" in markup


@pytest.mark.unit
def test_the_header_shows_status_and_totals_summed_over_tables() -> None:
    report = make_report()
    page = parse(render_html(report))
    header = page.find("header", "run")
    badge = header.find("span", "status")
    assert badge.text() == "succeeded"
    assert "tone-ok" in badge.attrs["class"]
    totals = {
        t.find("span", "total-label").text(): t.find("span", "total-value").text()
        for t in header.find_all("div", "total")
    }
    expected = {
        label: f"{sum(t[key] for t in report['tables']):,}"
        for label, key in [
            ("rows read", "rows_read"),
            ("rows loaded", "rows_loaded"),
            ("rows rejected", "rows_rejected"),
        ]
    }
    assert (
        totals == expected == {"rows read": "6,000", "rows loaded": "5,950", "rows rejected": "50"}
    )
    assert "4m 12s" in header.text()
    assert "01JRUN0001" in header.text()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("status", "tone"), [("failed", "bad"), ("running", "info"), ("x", "neutral")]
)
def test_the_status_badge_is_coloured_by_status(status: str, tone: str) -> None:
    report = make_report() | {"status": status}
    badge = parse(render_html(report)).find("span", "status")
    assert f"tone-{tone}" in badge.attrs["class"]


@pytest.mark.unit
def test_the_score_and_its_dimensions_are_shown() -> None:
    page = parse(render_html(make_report()))
    first = page.by_id("table-1")
    assert first.find("span", "score-value").text() == "92.5"
    dimensions = first.find_all("svg")[0]
    plot_width = num(dimensions.find("rect", "plot"), "width")
    widths = {
        r.find("title").text().split(":")[0]: num(r, "width") / plot_width
        for r in dimensions.find_all("rect", "bar")
    }
    expected = make_report()["tables"][0]["score"]["dimensions"]
    assert list(widths) == list(expected)
    for name, share in widths.items():
        assert share == pytest.approx(expected[name] / 100, abs=0.001)
    assert "No quality score" in page.by_id("table-2").text()


@pytest.mark.unit
def test_each_rule_row_shows_its_counts_and_samples() -> None:
    page = parse(render_html(make_report()))
    email = rule_row(page, "email_format")
    cells = [td.text() for td in email.find_all("td")]
    assert cells[0] == "email_format"
    assert cells[3] == "error"
    assert cells[5] == "✗"
    assert cells[6] == f"12 / 1,000 ({12 / 1000 * 100:.1f} %)"
    assert cells[7] == "12 rows vs 0 rows"
    assert cells[8] == "email is not a valid email"
    assert rule_row(page, "country_known").find_all("td")[5].text() == "✓"
    assert rule_row(page, "price_range").find_all("td")[2].text() == "price, discount"
    # The samples follow their rule, folded in a <details>, one table row per failing row.
    details = page.find_all("details")
    assert [d.find("summary").text() for d in details] == [
        "3 sample failing rows",
        "1 sample failing row",
        "1 sample failing row",
    ]
    sample = details[0].find("table")
    assert [th.text() for th in sample.find_all("th")] == ["customer_id", "email"]
    rows = [[td.text() for td in tr.find_all("td")] for tr in sample.find("tbody").find_all("tr")]
    assert rows == [["3", "x@"], ["9", HOSTILE], ["11", "null"]]


@pytest.mark.unit
def test_the_failing_chart_has_only_failing_rules_sorted_by_count() -> None:
    page = parse(render_html(make_report()))
    chart = page.by_id("table-1").find_all("svg")[2]
    bars = chart.find_all("rect", "bar")
    failing = sorted(
        ((r["failing"], r["rule_id"]) for r in make_report()["tables"][0]["rules"] if r["failing"]),
        reverse=True,
    )
    assert [b.find("title").text() for b in bars] == [f"{rid}: {n}" for n, rid in failing]
    assert [b.find("title").text() for b in bars] == [
        "id_unique: 38",
        "email_format: 12",
        "price_range: 3",
    ]


@pytest.mark.unit
def test_all_rules_passed_is_said_instead_of_an_empty_chart() -> None:
    report = make_report()
    for rule in report["tables"][0]["rules"]:
        rule.update(passed=True, failing=0, sample=[])
    first = parse(render_html(report)).by_id("table-1")
    assert "failing rows per rule" not in svg_labels(first)
    assert first.find("p", "all-passed").text() == "✓ All rules passed."
    # An aggregate rule can fail with no failing row: then "all passed" would be a lie.
    report["tables"][0]["rules"][0]["passed"] = False
    first = parse(render_html(report)).by_id("table-1")
    assert not first.find_all("p", "all-passed")
    assert "1 rule(s) failed on aggregate checks" in first.text()


@pytest.mark.unit
def test_the_cleaning_table_lists_operations_and_examples() -> None:
    page = parse(render_html(make_report()))
    table = page.by_id("table-1").find("table", "cleaning")
    rows = [[td.text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    assert rows == [
        ["email", "lower", "30", "Ann@X.com → ann@x.com"],
        ["name", "trim", "4", f'  Bob  → Bob{HOSTILE} → ""'],
    ]


@pytest.mark.unit
def test_profile_cards_show_statistics_and_the_right_chart() -> None:
    page = parse(render_html(make_report()))
    cards = page.by_id("table-1").find_all("article", "card")
    assert [c.find("h4").text() for c in cards] == ["price", "country", "email"]

    def stats(card: Node) -> dict[str, str]:
        return {d.find("dt").text(): d.find("dd").text() for d in card.find("dl").find_all("div")}

    price = stats(cards[0])
    assert price["null %"] == "5.0 %"
    assert (price["distinct"], price["min"], price["max"]) == ("812", "0.5", "199.25")
    assert (price["mean"], price["median"]) == ("42.125", "40")
    bars = cards[0].find("svg").find_all("rect", "bar")
    plot_h = num(cards[0].find("svg").find("rect", "plot"), "height")
    assert len(bars) == len(PRICE_COUNTS)
    for bar, count in zip(bars, PRICE_COUNTS, strict=True):
        assert num(bar, "height") == pytest.approx(plot_h * count / max(PRICE_COUNTS), abs=0.01)

    country = stats(cards[1])
    assert country["null %"] == f"{7 / (793 + 7) * 100:.1f} %"
    top = cards[1].find("svg")
    assert len(top.find_all("rect", "bar")) == 4
    assert [li.text() for li in cards[1].find("ol", "patterns").find_all("li")] == [
        f"A+ 790 · {790 / 793 * 100:.1f} %",
        f"<a+> 3 · {3 / 793 * 100:.1f} %",
    ]


@pytest.mark.unit
def test_hostile_values_are_rendered_as_inert_text() -> None:
    report = make_report()
    report["pipeline"] = HOSTILE
    first = report["tables"][0]
    first["table"] = HOSTILE
    first["rules"][0]["message"] = HOSTILE
    first["rules"][1]["rule_id"] = 'x" onmouseover="alert(1)'
    first["rules"][1]["sample"] = [{HOSTILE: '"><img onerror=alert(1)>'}]
    markup = render_html(report)
    assert "<script" not in markup
    assert "<img" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    page = parse(markup)
    assert not page.find_all("script")
    assert not page.find_all("img")
    assert not [n for n in page.walk() if any(k.startswith("on") for k in n.attrs)]
    # The text reads exactly as the user's data, in the sample rows and the top values too.
    assert rule_row(page, 'x" onmouseover="alert(1)').find("code").text().startswith('x"')
    sample_rows = page.find_all("tr", "sample")[0].find("tbody").text()
    assert HOSTILE in sample_rows
    top_values = page.by_id("table-1").find_all("article", "card")[1].find("svg")
    assert any(HOSTILE in t.text() for t in top_values.find_all("title"))
    assert page.by_id("table-1").find("h2").text() == HOSTILE


@pytest.mark.unit
def test_a_table_with_nothing_but_its_name_and_a_run_with_no_tables_render() -> None:
    page = parse(render_html({"run_id": "r", "status": "failed", "tables": [{"table": "t"}]}))
    section = page.by_id("table-1")
    text = section.text()
    assert "No rules are defined" in text
    assert "No cleaning operations" in text
    assert "was not profiled" in text
    assert svg_labels(section) == ["score per load"]
    assert section.find("svg").find("text", "no-data").text() == "no data"
    empty = parse(render_html({"run_id": "r", "pipeline": "p", "status": "succeeded"}))
    assert "no tables" in empty.find("main").text()
    assert not empty.find_all("svg")


@pytest.mark.unit
def test_rendering_is_deterministic() -> None:
    assert render_html(make_report()) == render_html(copy.deepcopy(make_report()))


# --- charts -------------------------------------------------------------------------------


def bars_of(svg: str) -> tuple[list[Node], Node]:
    root = parse(svg)
    return root.find_all("rect", "bar"), root.find("rect", "plot")


@pytest.mark.unit
def test_bar_chart_tallest_bar_fills_the_plot_and_others_are_proportional() -> None:
    values = [3.0, 12.0, 0.0, 7.5, 1.0]
    bars, plot = bars_of(bar_chart(list("abcde"), values, title="t", width=500, height=240))
    heights = [num(b, "height") for b in bars]
    plot_h = num(plot, "height")
    assert max(heights) == plot_h
    for height, value in zip(heights, values, strict=True):
        assert height == pytest.approx(plot_h * value / max(values), abs=0.01)
    # Every bar stands on the x axis (the bottom of the plot).
    bottom = num(plot, "y") + plot_h
    assert all(num(b, "y") + num(b, "height") == pytest.approx(bottom, abs=0.02) for b in bars)


@pytest.mark.unit
def test_bar_chart_negative_values_hang_below_zero() -> None:
    bars, plot = bars_of(bar_chart(["up", "down"], [5.0, -15.0], title="t"))
    up, down = bars
    plot_h = num(plot, "height")
    zero = num(up, "y") + num(up, "height")
    assert num(down, "y") == pytest.approx(zero, abs=0.01)
    assert num(up, "height") + num(down, "height") == pytest.approx(plot_h, abs=0.02)
    assert num(down, "height") == pytest.approx(3 * num(up, "height"), abs=0.03)


@pytest.mark.unit
@pytest.mark.parametrize(
    "chart",
    [
        lambda: bar_chart([], [], title="t"),
        lambda: line_chart([], title="t"),
        lambda: histogram([]),
        lambda: hbar([], []),
    ],
)
def test_charts_say_no_data_for_empty_input(chart: Callable[[], str]) -> None:
    root = parse(chart())
    assert root.find("text", "no-data").text() == "no data"
    assert not root.find_all("rect", "bar")
    assert not root.find_all("circle")


@pytest.mark.unit
def test_charts_cope_with_zeros_huge_and_non_finite_numbers() -> None:
    for svg in (
        bar_chart(["a", "b"], [0.0, 0.0], title="zeros"),
        bar_chart(["a", "b", "c"], [1.7e308, -1.7e308, 1e-300], title="huge"),
        bar_chart(["a", "b"], [math.nan, math.inf], title="nan"),
        line_chart([("a", 1e308), ("b", -1e308)], title="huge"),
        line_chart([("a", 5.0), ("b", 5.0)], title="flat"),
        hbar(["a", "b"], [-1e200, 1e200]),
        histogram([{"lo": 3, "hi": 3, "count": 0}]),
    ):
        root = parse(svg)
        coordinates = [
            float(v)
            for n in root.walk()
            for k, v in n.attrs.items()
            if k in {"x", "y", "width", "height", "cx", "cy", "x1", "x2", "y1", "y2"}
        ]
        assert coordinates
        assert all(math.isfinite(c) for c in coordinates)
        assert all(c >= -0.01 for c in coordinates if c != 0)
    huge, plot = bars_of(bar_chart(["a", "b"], [1.7e308, 0.85e308], title="t"))
    assert num(huge[0], "height") == num(plot, "height")
    assert num(huge[1], "height") == pytest.approx(num(plot, "height") / 2, abs=0.01)
    assert "n/a" in bar_chart(["a"], [math.nan], title="t")


@pytest.mark.unit
def test_long_labels_are_cut_with_an_ellipsis_and_keep_a_tooltip() -> None:
    label = "a_really_long_rule_identifier_that_does_not_fit"
    for svg in (bar_chart([label, "b"], [1, 2], title="t"), hbar([label], [1])):
        texts = parse(svg).find_all("text")
        cut = [t for t in texts if t.find_all("title")]
        assert len(cut) == 1
        assert cut[0].find("title").text() == label
        shown = cut[0].text().removeprefix(label)
        assert shown.endswith("…")
        assert label.startswith(shown[:-1])
        assert len(shown) < len(label)


@pytest.mark.unit
def test_line_chart_places_points_by_value_and_in_order() -> None:
    points = [(f"load {i}", s) for i, s in enumerate(SCORES)]
    root = parse(line_chart(points, title="t", y_min=0, y_max=100))
    plot = root.find("rect", "plot")
    bottom, plot_h = num(plot, "y") + num(plot, "height"), num(plot, "height")
    circles = root.find_all("circle")
    assert [c.find("title").text() for c in circles] == [
        f"load {i}: {compact_number(s)}" for i, s in enumerate(SCORES)
    ]
    for circle, score in zip(circles, SCORES, strict=True):
        assert (bottom - num(circle, "cy")) / plot_h == pytest.approx(score / 100, abs=0.001)
    xs = [num(c, "cx") for c in circles]
    assert xs == sorted(xs)
    assert len(set(xs)) == len(xs)
    polyline = root.find("polyline").attrs["points"].split()
    assert polyline == [f"{c.attrs['cx']},{c.attrs['cy']}" for c in circles]
    # All five points are labelled with their value.
    labels = {t.text() for t in root.find_all("text")}
    assert {"88", "90.5", "91", "89.25", "92.5"} <= labels


@pytest.mark.unit
def test_line_chart_with_one_point_and_with_many_points() -> None:
    single = parse(line_chart([("only", 42.0)], title="t"))
    plot = single.find("rect", "plot")
    (circle,) = single.find_all("circle")
    assert num(circle, "cx") == pytest.approx(num(plot, "x") + num(plot, "width") / 2, abs=0.01)
    assert "42" in {t.text() for t in single.find_all("text")}

    rng = random.Random(7)
    values = [rng.uniform(-50, 50) for _ in range(60)]
    many = parse(line_chart([(f"p{i}", v) for i, v in enumerate(values)], title="t"))
    assert len(many.find_all("circle")) == 60
    value_labels = {compact_number(v) for v in values}
    shown = [t.text() for t in many.find_all("text") if t.text() in value_labels]
    # Only first, last, min and max carry a value label when there are many points.
    assert sorted(shown) == sorted(
        compact_number(v) for v in {values[0], values[-1], min(values), max(values)}
    )
    # Out-of-range points are clamped to the axis rather than drawn outside the plot.
    clamped = parse(line_chart([("a", -10.0), ("b", 200.0)], title="t", y_min=0, y_max=100))
    plot = clamped.find("rect", "plot")
    low, high = clamped.find_all("circle")
    assert num(low, "cy") == pytest.approx(num(plot, "y") + num(plot, "height"))
    assert num(high, "cy") == pytest.approx(num(plot, "y"))


@pytest.mark.unit
def test_hbar_scales_to_max_value() -> None:
    bars, plot = bars_of(hbar(["a", "b"], [50.0, 100.0], max_value=200))
    assert [num(b, "width") for b in bars] == pytest.approx(
        [num(plot, "width") / 4, num(plot, "width") / 2], abs=0.01
    )
    bars, plot = bars_of(hbar(["a", "b"], [50.0, 100.0]))
    assert num(bars[1], "width") == num(plot, "width")


@pytest.mark.unit
def test_compact_number_formats() -> None:
    cases = {
        0: "0", 7: "7", -2.5: "-2.5", 9999: "9999", 12345: "12.3k", 999_999: "1M",
        -2_500_000: "-2.5M", 4.2e9: "4.2B", 1e18: "1.00e+18", 0.001: "1.00e-03",
        math.inf: "n/a",
    }  # fmt: skip
    assert {v: compact_number(v) for v in cases} == cases


@pytest.mark.unit
def test_chart_golden_output() -> None:
    assert bar_chart(["a"], [1], title="t", width=100, height=90) == (
        '<svg class="chart" viewBox="0 0 100 90" width="100" height="90" role="img" '
        'aria-label="t" font-family="system-ui, sans-serif" font-size="11">'
        "<title>t</title>"
        '<text x="4" y="15" text-anchor="start" fill="#222222" font-weight="600">t</text>'
        '<rect class="plot" x="52" y="30" width="38" height="26" fill="none"/>'
        '<line x1="52" y1="56" x2="90" y2="56" stroke="#e3e3e3" stroke-width="1"/>'
        '<text x="47" y="59.5" text-anchor="end" fill="#222222">0</text>'
        '<line x1="52" y1="30" x2="90" y2="30" stroke="#e3e3e3" stroke-width="1"/>'
        '<text x="47" y="33.5" text-anchor="end" fill="#222222">1</text>'
        '<line x1="52" y1="30" x2="52" y2="56" stroke="#555555" stroke-width="1"/>'
        '<rect class="bar" x="57.7" y="30" width="26.6" height="26" fill="#3b6ea5">'
        "<title>a: 1</title></rect>"
        '<text x="71" y="27" text-anchor="middle" fill="#222222">1</text>'
        '<text x="71" y="70" text-anchor="middle" fill="#222222">a</text>'
        '<line x1="52" y1="56" x2="90" y2="56" stroke="#555555" stroke-width="1"/></svg>'
    )


finite = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.unit
@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.one_of(finite, st.integers(-(10**6), 10**6)), min_size=1, max_size=30),
    label=st.text(max_size=60),
)
def test_bar_chart_is_well_formed_and_proportional_for_any_input(
    values: list[float], label: str
) -> None:
    labels = [f"{label}{i}" for i in range(len(values))]
    svg = bar_chart(labels, values, title=label)
    assert svg == bar_chart(labels, values, title=label)
    bars, plot = bars_of(svg)
    assert len(bars) == len(values)
    heights = [num(b, "height") for b in bars]
    assert all(0 <= h <= num(plot, "height") + 0.01 for h in heights)
    lo, hi = min(0.0, *values), max(0.0, *values)
    if hi > lo:
        # The bar farthest from zero is as tall as its share of the value axis.
        tallest = max(range(len(values)), key=lambda i: abs(values[i]))
        expected = abs(values[tallest]) / 2 / (hi / 2 - lo / 2) * num(plot, "height")
        assert heights[tallest] == pytest.approx(expected, abs=0.02)
