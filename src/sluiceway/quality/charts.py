"""Small SVG chart builders for the static quality report.

Every function is pure and returns one ``<svg>`` element as a string, meant to be inlined in an
HTML document (so the root carries no ``xmlns``: HTML parsers put ``<svg>`` in the SVG namespace
themselves, and the report must not contain a single URL). Output is deterministic — the same
input gives the same bytes — so charts can be golden-tested. Coordinates are rounded to 0.01.

All charts cope with: no data (they draw "no data"), zeros, one point, huge and negative numbers,
non-finite values (drawn as zero, labelled "n/a") and long labels (cut with an ellipsis, the full
text kept in a ``<title>`` tooltip). Every bar is a ``<rect class="bar">`` and the plotting area a
``<rect class="plot">``, so tests and stylesheets can find them.

>>> svg = bar_chart(["a", "b"], [2, 1], title="failing rows")
>>> svg.count('class="bar"')
2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["bar_chart", "compact_number", "hbar", "histogram", "line_chart"]

# Colours pass WCAG AA contrast on white and stay distinct in greyscale print.
_BAR = "#3b6ea5"
_NEGATIVE = "#b5452f"
_AXIS = "#555555"
_GRID = "#e3e3e3"
_TEXT = "#222222"
_MUTED = "#666666"

_TITLE_H = 22.0  # room for the chart title above the plot
_CHAR_W = 6.2  # approximate width of one 11px character, to decide how much label fits


def compact_number(value: float) -> str:
    """Format a number for a chart label: short, with k/M/B/T suffixes for big magnitudes.

    >>> [compact_number(v) for v in (0, 3, 2.5, 12345, -2_500_000, 1e18, float("nan"))]
    ['0', '3', '2.5', '12.3k', '-2.5M', '1.00e+18', 'n/a']
    """
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e15 or (0 < magnitude < 0.01):
        return f"{value:.2e}"
    if magnitude >= 1e4:
        # The smallest unit whose rounded value stays under 1000 (999_999 is "1M", not "1000k").
        for divisor, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "B"), (1e12, "T")):
            scaled = value / divisor
            # Three significant digits: 1.23k, 12.3k, 123k.
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            text = f"{scaled:.{digits}f}"
            if abs(float(text)) < 1000 or suffix == "T":
                return _strip(text) + suffix
    if value == int(value):
        return str(int(value))
    return _strip(f"{value:.2f}")


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    width: int = 480,
    height: int = 220,
) -> str:
    """A vertical bar chart; bars grow from zero (down for negative values).

    The tallest bar spans the whole plot height: the value axis runs from
    ``min(0, min(values))`` to ``max(0, max(values))``.
    """
    if not labels or not values:
        return _no_data(title, width, height)
    clean = [_finite(v) for v in values[: len(labels)]]
    left, right, bottom = 52.0, 10.0, 34.0
    plot = _Box(left, _TITLE_H + 8, width - left - right, height - _TITLE_H - 8 - bottom)
    lo, hi = min(0.0, *clean), max(0.0, *clean)
    parts = _open(title, width, height)
    parts += _y_axis(plot, lo, hi)
    slot = plot.w / len(clean)
    zero_y = plot.y_of(0.0, lo, hi)
    label_chars = int(slot / _CHAR_W)
    every = 1 if label_chars >= 3 else math.ceil(3 * _CHAR_W / slot)
    for i, (label, raw, value) in enumerate(zip(labels, values, clean, strict=False)):
        x = plot.x + i * slot + slot * 0.15
        y_value = plot.y_of(value, lo, hi)
        top, bar_h = min(y_value, zero_y), abs(zero_y - y_value)
        colour = _NEGATIVE if value < 0 else _BAR
        tip = f"{label}: {_label_value(raw)}"
        parts.append(
            f'<rect class="bar" x="{_c(x)}" y="{_c(top)}" width="{_c(slot * 0.7)}" '
            f'height="{_c(bar_h)}" fill="{colour}"><title>{escape(tip)}</title></rect>'
        )
        centre = plot.x + (i + 0.5) * slot
        if label_chars >= 3:
            above = top - 3 if value >= 0 else top + bar_h + 11
            parts.append(_text(centre, above, _label_value(raw), anchor="middle"))
        if i % every == 0:
            parts.append(
                _label(centre, plot.y + plot.h + 14, label, max(label_chars, 3), anchor="middle")
            )
    parts.append(_line(plot.x, zero_y, plot.x + plot.w, zero_y, _AXIS))
    return _close(parts)


def line_chart(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    y_min: float | None = None,
    y_max: float | None = None,
    width: int = 480,
    height: int = 220,
) -> str:
    """A line chart of ``(label, value)`` points in order, with axes and labelled points.

    ``y_min``/``y_max`` fix the value axis (values outside are drawn at the edge); otherwise it
    spans the data. Up to 12 points are all labelled with their value; beyond that only the
    first, last, lowest and highest are, to stay legible. Every point has a tooltip.
    """
    if not points:
        return _no_data(title, width, height)
    values = [_finite(v) for _, v in points]
    lo = min(values) if y_min is None else float(y_min)
    hi = max(values) if y_max is None else float(y_max)
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    left, right, bottom = 52.0, 36.0, 34.0
    plot = _Box(left, _TITLE_H + 12, width - left - right, height - _TITLE_H - 12 - bottom)
    parts = _open(title, width, height)
    parts += _y_axis(plot, lo, hi)
    parts.append(_line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, _AXIS))
    n = len(points)
    # Points sit inset from the axes so their value labels do not collide with the tick labels.
    inset = min(18.0, plot.w / (2 * n))
    step = (plot.w - 2 * inset) / (n - 1) if n > 1 else 0.0
    xs = [plot.x + plot.w / 2] if n == 1 else [plot.x + inset + i * step for i in range(n)]
    ys = [plot.y_of(min(max(v, lo), hi), lo, hi) for v in values]
    coords = " ".join(f"{_c(x)},{_c(y)}" for x, y in zip(xs, ys, strict=True))
    parts.append(
        f'<polyline class="line" points="{coords}" fill="none" stroke="{_BAR}" stroke-width="2"/>'
    )
    labelled = set(range(n)) if n <= 12 else {0, n - 1, values.index(min(values))}
    if n > 12:
        labelled.add(values.index(max(values)))
    tick_every = max(1, math.ceil(n / 8))
    label_chars = max(4, int(plot.w / min(n, 8) / _CHAR_W))
    for i, ((label, raw), x, y) in enumerate(zip(points, xs, ys, strict=True)):
        tip = f"{label}: {_label_value(raw)}"
        parts.append(
            f'<circle class="point" cx="{_c(x)}" cy="{_c(y)}" r="3.5" fill="{_BAR}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        if i in labelled:
            parts.append(_text(x, y - 7, _label_value(raw), anchor="middle"))
        if i % tick_every == 0 or i == n - 1:
            parts.append(_line(x, plot.y + plot.h, x, plot.y + plot.h + 4, _AXIS))
            parts.append(_label(x, plot.y + plot.h + 15, label, label_chars, anchor="middle"))
    return _close(parts)


def histogram(
    bins: Sequence[Mapping[str, Any]],
    *,
    title: str = "distribution",
    width: int = 320,
    height: int = 150,
) -> str:
    """A histogram of ``{"lo", "hi", "count"}`` bins (equal-width, in order), as adjacent bars.

    Bins are drawn in equal slots, so degenerate bins (``lo == hi`` when all values are equal)
    still show; the x axis is labelled with the first ``lo``, the middle edge and the last ``hi``.
    """
    if not bins:
        return _no_data(title, width, height)
    counts = [max(0.0, _finite(b.get("count", 0))) for b in bins]
    left, right, bottom = 44.0, 10.0, 24.0
    plot = _Box(left, _TITLE_H + 4, width - left - right, height - _TITLE_H - 4 - bottom)
    hi = max(counts)
    parts = _open(title, width, height)
    parts += _y_axis(plot, 0.0, hi)
    slot = plot.w / len(counts)
    for i, (b, count) in enumerate(zip(bins, counts, strict=True)):
        y = plot.y_of(count, 0.0, hi)
        tip = f"{_edge(b.get('lo'))} to {_edge(b.get('hi'))}: {compact_number(count)}"
        parts.append(
            f'<rect class="bar" x="{_c(plot.x + i * slot)}" y="{_c(y)}" '
            f'width="{_c(max(slot - 1, 0.5))}" height="{_c(plot.y + plot.h - y)}" '
            f'fill="{_BAR}"><title>{escape(tip)}</title></rect>'
        )
    parts.append(_line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, _AXIS))
    base = plot.y + plot.h + 14
    parts.append(_text(plot.x, base, _edge(bins[0].get("lo")), anchor="start"))
    if len(bins) > 1:
        middle = bins[len(bins) // 2].get("lo")
        centre = plot.x + (len(bins) // 2) * slot
        parts.append(_text(centre, base, _edge(middle), anchor="middle"))
    parts.append(_text(plot.x + plot.w, base, _edge(bins[-1].get("hi")), anchor="end"))
    return _close(parts)


def hbar(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    width: int = 320,
    max_value: float | None = None,
    row_height: int = 18,
    value_suffix: str = "",
) -> str:
    """Horizontal bars, one row per label, each with its value at the right.

    Bars scale to ``max(values)`` or to ``max_value`` when given (e.g. 100 for scores); negative
    values grow left from zero.
    """
    if not labels or not values:
        return _no_data(title, width, 60)
    clean = [_finite(v) for v in values[: len(labels)]]
    top = _TITLE_H if title else 4.0
    height = int(top + len(clean) * row_height + 4)
    label_w, value_w = 118.0, 52.0
    plot = _Box(label_w, top, width - label_w - value_w, len(clean) * row_height)
    lo = min(0.0, *clean)
    hi = max(0.0, *clean, *([] if max_value is None else [_finite(max_value)]))
    parts = _open(title, width, height)
    parts.append(
        f'<rect class="plot" x="{_c(plot.x)}" y="{_c(plot.y)}" width="{_c(plot.w)}" '
        f'height="{_c(plot.h)}" fill="none"/>'
    )
    zero_x = plot.x_of(0.0, lo, hi)
    for i, (label, raw, value) in enumerate(zip(labels, values, clean, strict=False)):
        y = top + i * row_height
        x_value = plot.x_of(value, lo, hi)
        colour = _NEGATIVE if value < 0 else _BAR
        text = _label_value(raw) + value_suffix
        parts.append(_label(label_w - 6, y + row_height * 0.68, label, 18, anchor="end"))
        parts.append(
            f'<rect class="bar" x="{_c(min(zero_x, x_value))}" y="{_c(y + 3)}" '
            f'width="{_c(abs(x_value - zero_x))}" height="{_c(row_height - 6)}" '
            f'fill="{colour}"><title>{escape(f"{label}: {text}")}</title></rect>'
        )
        parts.append(_text(plot.x + plot.w + 6, y + row_height * 0.68, text, anchor="start"))
    parts.append(_line(zero_x, plot.y, zero_x, plot.y + plot.h, _AXIS))
    return _close(parts)


# --- building blocks -------------------------------------------------------------------------


class _Box:
    """The plotting area, and value → pixel mappings that never overflow on huge floats."""

    __slots__ = ("h", "w", "x", "y")

    def __init__(self, x: float, y: float, w: float, h: float) -> None:
        self.x, self.y, self.w, self.h = x, y, max(w, 1.0), max(h, 1.0)

    def y_of(self, value: float, lo: float, hi: float) -> float:
        return self.y + self.h - _fraction(value, lo, hi) * self.h

    def x_of(self, value: float, lo: float, hi: float) -> float:
        return self.x + _fraction(value, lo, hi) * self.w


def _fraction(value: float, lo: float, hi: float) -> float:
    # Halving first keeps hi - lo finite even for values near ±1.8e308.
    span = hi * 0.5 - lo * 0.5
    if span <= 0:
        return 0.0
    return (value * 0.5 - lo * 0.5) / span


def _y_axis(plot: _Box, lo: float, hi: float) -> list[str]:
    parts = [
        f'<rect class="plot" x="{_c(plot.x)}" y="{_c(plot.y)}" width="{_c(plot.w)}" '
        f'height="{_c(plot.h)}" fill="none"/>'
    ]
    # About one tick per 30px, so tick labels never overlap on small charts.
    for tick in _ticks(lo, hi, target=min(6, max(1, int(plot.h // 30)))):
        y = plot.y_of(tick, lo, hi)
        parts.append(_line(plot.x, y, plot.x + plot.w, y, _GRID))
        parts.append(_text(plot.x - 5, y + 3.5, compact_number(tick), anchor="end"))
    parts.append(_line(plot.x, plot.y, plot.x, plot.y + plot.h, _AXIS))
    return parts


def _ticks(lo: float, hi: float, target: int = 4) -> list[float]:
    """Nice tick values (1, 2, 2.5 or 5 times a power of ten) inside [lo, hi]."""
    span = hi * 0.5 - lo * 0.5  # half the span, see _fraction
    if span <= 0 or not math.isfinite(span):
        return [lo]
    raw = span / (target / 2)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next((m * power for m in (1.0, 2.0, 2.5, 5.0) if m * power >= raw), 10.0 * power)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step for k in range(first, last + 1)][:12] or [lo]


def _open(title: str, width: float, height: float) -> list[str]:
    label = f' aria-label="{escape(title)}"' if title else ""
    parts = [
        f'<svg class="chart" viewBox="0 0 {_c(width)} {_c(height)}" width="{_c(width)}" '
        f'height="{_c(height)}" role="img"{label} font-family="system-ui, sans-serif" '
        'font-size="11">'
    ]
    if title:
        parts += [
            f"<title>{escape(title)}</title>",
            _text(4, 15, title, anchor="start", weight="600"),
        ]
    return parts


def _close(parts: list[str]) -> str:
    return "".join(parts) + "</svg>"


def _no_data(title: str, width: float, height: float) -> str:
    parts = _open(title, width, height)
    parts.append(
        f'<text class="no-data" x="{_c(width / 2)}" y="{_c(height / 2 + 8)}" '
        f'text-anchor="middle" fill="{_MUTED}">no data</text>'
    )
    return _close(parts)


def _text(x: float, y: float, text: str, *, anchor: str, weight: str = "normal") -> str:
    weight_attr = f' font-weight="{weight}"' if weight != "normal" else ""
    return (
        f'<text x="{_c(x)}" y="{_c(y)}" text-anchor="{anchor}" fill="{_TEXT}"{weight_attr}>'
        f"{escape(text)}</text>"
    )


def _label(x: float, y: float, text: str, max_chars: int, *, anchor: str) -> str:
    """A text label cut to ``max_chars`` with an ellipsis; the full text stays as a tooltip."""
    if len(text) <= max_chars:
        return _text(x, y, text, anchor=anchor)
    short = text[: max(max_chars - 1, 1)] + "…"
    return (
        f'<text x="{_c(x)}" y="{_c(y)}" text-anchor="{anchor}" fill="{_TEXT}">'
        f"<title>{escape(text)}</title>{escape(short)}</text>"
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return (
        f'<line x1="{_c(x1)}" y1="{_c(y1)}" x2="{_c(x2)}" y2="{_c(y2)}" '
        f'stroke="{colour}" stroke-width="1"/>'
    )


def _finite(value: Any) -> float:
    """The value as a float; None, NaN, ±inf and non-numbers count as 0 (labelled "n/a")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _label_value(value: Any) -> str:
    try:
        return compact_number(float(value))
    except (TypeError, ValueError):
        return "n/a"


def _edge(value: Any) -> str:
    return _label_value(value) if value is not None else "?"


def _c(value: float) -> str:
    """A coordinate rounded to 0.01, without trailing zeros (deterministic text)."""
    text = _strip(f"{value:.2f}")
    return "0" if text == "-0" else text


def _strip(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text
