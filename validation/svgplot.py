"""A very small SVG plot writer for the figures of docs/fidelity.md (lines, step CDFs, scatter).

Not a script: ``run_all.py`` imports it.  Why our own: the project's plotting
library (plotly) writes static images only through kaleido and a browser,
matplotlib is not a dependency, and these figures need little: one panel,
linear or log axes, lines, points, a legend.  The output is plain SVG 1.1
text, byte-identical for the same data (no ids, dates or random names), so
a regenerated figure only changes in git when its numbers do.

Example
-------
>>> fig = Figure("RTT", x_label="ms", y_label="share")
>>> fig.line([0, 10], [0, 1], label="a")
>>> svg = fig.svg()
>>> svg.startswith("<svg") and "polyline" in svg
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

#: Colours of the series, in order (colour-blind safe: Okabe & Ito, 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass
class _Series:
    kind: str  # "line" | "points"
    x: list[float]
    y: list[float]
    label: str | None
    colour: str
    dash: str | None = None
    width: float = 1.8
    radius: float = 2.6
    labels: list[str] | None = None  # text next to each point


@dataclass
class Figure:
    """One panel: add series, then `svg` / `save`.

    Parameters
    ----------
    title, x_label, y_label : str
    x_log, y_log : bool
        Logarithmic axes (base 10); values <= 0 are left out.
    x_range, y_range : (float, float), optional
        Axis limits; default: the data's, padded 4 %.
    width, height : int, px
    """

    title: str
    x_label: str = ""
    y_label: str = ""
    x_log: bool = False
    y_log: bool = False
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    width: int = 640
    height: int = 400
    series: list[_Series] = field(default_factory=list)
    vlines: list[tuple[float, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _colour(self, colour: str | None) -> str:
        return colour or PALETTE[len(self.series) % len(PALETTE)]

    def line(self, x, y, label=None, colour=None, dash=None, width=1.8) -> None:
        """A polyline through the points (NaN breaks nothing: such points are dropped)."""
        self.series.append(_Series("line", _floats(x), _floats(y), label, self._colour(colour), dash, width))

    def step_cdf(self, values, label=None, colour=None, dash=None, points=400) -> None:
        """The empirical CDF of ``values`` (NaN dropped), as a line through ``points`` quantiles."""
        v = sorted(float(a) for a in values if not math.isnan(float(a)))
        if not v:
            return
        n = len(v)
        k = max(2, min(points, n))
        xs, ys = [], []
        for i in range(k):
            q = i / (k - 1)
            j = min(n - 1, int(round(q * (n - 1))))
            xs.append(v[j])
            ys.append((j + 1) / n)
        self.line(xs, ys, label=label, colour=colour, dash=dash)

    def points(self, x, y, label=None, colour=None, radius=2.6, labels=None) -> None:
        """A scatter of points; ``labels`` (optional) are written beside them in small type."""
        self.series.append(_Series("points", _floats(x), _floats(y), label, self._colour(colour), None, 0.0, radius,
                                   list(labels) if labels is not None else None))

    def vline(self, x: float, colour: str = "#999999") -> None:
        """A dotted vertical line at ``x``."""
        self.vlines.append((float(x), colour))

    def note(self, text: str) -> None:
        """A line of small text under the legend."""
        self.notes.append(text)

    # ------------------------------------------------------------------

    def svg(self) -> str:
        """The figure as SVG text."""
        left, right, top, bottom = 64, 16, 34, 48
        pw, ph = self.width - left - right, self.height - top - bottom
        xs = [v for s in self.series for v in s.x if _ok(v, self.x_log)]
        ys = [v for s in self.series for v in s.y if _ok(v, self.y_log)]
        x0, x1 = self.x_range or _pad(xs, self.x_log)
        y0, y1 = self.y_range or _pad(ys, self.y_log)
        tx, ty = _Scale(x0, x1, self.x_log, left, left + pw), _Scale(y0, y1, self.y_log, top + ph, top)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" font-family="sans-serif" font-size="11">',
            f'<rect width="{self.width}" height="{self.height}" fill="white"/>',
            f'<text x="{left}" y="20" font-size="13" font-weight="bold">{escape(self.title)}</text>',
        ]
        for v, label in _ticks(x0, x1, self.x_log):
            p = tx(v)
            out.append(f'<line x1="{p:.1f}" y1="{top}" x2="{p:.1f}" y2="{top + ph}" stroke="#e6e6e6"/>')
            out.append(f'<text x="{p:.1f}" y="{top + ph + 14}" text-anchor="middle">{label}</text>')
        for v, label in _ticks(y0, y1, self.y_log):
            p = ty(v)
            out.append(f'<line x1="{left}" y1="{p:.1f}" x2="{left + pw}" y2="{p:.1f}" stroke="#e6e6e6"/>')
            out.append(f'<text x="{left - 4}" y="{p + 4:.1f}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        out.append(f'<text x="{left + pw / 2:.1f}" y="{self.height - 10}" text-anchor="middle">{escape(self.x_label)}</text>')
        out.append(f'<text x="14" y="{top + ph / 2:.1f}" text-anchor="middle" '
                   f'transform="rotate(-90 14 {top + ph / 2:.1f})">{escape(self.y_label)}</text>')
        out.append(f'<clipPath id="plot"><rect x="{left}" y="{top}" width="{pw}" height="{ph}"/></clipPath>')
        out.append('<g clip-path="url(#plot)">')
        for v, colour in self.vlines:
            if _ok(v, self.x_log):
                p = tx(v)
                out.append(f'<line x1="{p:.1f}" y1="{top}" x2="{p:.1f}" y2="{top + ph}" stroke="{colour}" '
                           'stroke-dasharray="2 3"/>')
        for s in self.series:
            pts = [(tx(a), ty(b)) for a, b in zip(s.x, s.y) if _ok(a, self.x_log) and _ok(b, self.y_log)]
            if s.kind == "line" and len(pts) >= 2:
                dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
                coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
                out.append(f'<polyline points="{coords}" fill="none" stroke="{s.colour}" stroke-width="{s.width}"{dash}/>')
            elif s.kind == "points":
                for a, b in pts:
                    out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{s.radius}" fill="{s.colour}" fill-opacity="0.75"/>')
                for a, b, text in zip(s.x, s.y, s.labels or []):
                    if _ok(a, self.x_log) and _ok(b, self.y_log):
                        out.append(f'<text x="{tx(a) + 3:.1f}" y="{ty(b) - 3:.1f}" font-size="8" fill="#555">'
                                   f'{escape(text)}</text>')
        out.append("</g>")
        ly = top + 14
        entries = [s.label for s in self.series if s.label] + self.notes
        if entries:  # a white box under the legend, so lines behind it do not cross the text
            w = 36 + 6.2 * max(len(t) for t in entries)
            out.append(f'<rect x="{left + 4}" y="{top + 3}" width="{w:.0f}" height="{15 * len(entries) + 4}" '
                       'fill="white" fill-opacity="0.85"/>')
        for s in self.series:
            if not s.label:
                continue
            lx = left + 10
            if s.kind == "line":
                dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
                out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 22}" y2="{ly - 4}" stroke="{s.colour}" '
                           f'stroke-width="{s.width}"{dash}/>')
            else:
                out.append(f'<circle cx="{lx + 11}" cy="{ly - 4}" r="{s.radius}" fill="{s.colour}"/>')
            out.append(f'<text x="{lx + 28}" y="{ly}">{escape(s.label)}</text>')
            ly += 15
        for text in self.notes:
            out.append(f'<text x="{left + 10}" y="{ly}" fill="#555">{escape(text)}</text>')
            ly += 14
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` (its folder must exist); returns the path."""
        path = Path(path)
        path.write_text(self.svg(), encoding="utf-8")
        return path


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _ok(v: float, log: bool) -> bool:
    return math.isfinite(v) and (v > 0.0 or not log)


def _pad(values: list[float], log: bool) -> tuple[float, float]:
    if not values:
        return (1.0, 10.0) if log else (0.0, 1.0)
    lo, hi = min(values), max(values)
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    span = hi - lo or 1.0
    lo, hi = lo - 0.04 * span, hi + 0.04 * span
    return (10**lo, 10**hi) if log else (lo, hi)


class _Scale:
    """Data value -> pixel, linear or log10."""

    def __init__(self, v0: float, v1: float, log: bool, p0: float, p1: float):
        self.log = log
        self.v0, self.v1 = (math.log10(v0), math.log10(v1)) if log else (v0, v1)
        self.p0, self.p1 = p0, p1

    def __call__(self, v: float) -> float:
        v = math.log10(v) if self.log else v
        return self.p0 + (v - self.v0) / (self.v1 - self.v0) * (self.p1 - self.p0)


def _ticks(v0: float, v1: float, log: bool) -> list[tuple[float, str]]:
    """Round tick values inside [v0, v1] with their labels (1-2-5 steps; decades and 2, 5 on log axes)."""
    if log:
        out = []
        for e in range(math.floor(math.log10(v0)), math.ceil(math.log10(v1)) + 1):
            for m in (1, 2, 5):
                v = m * 10.0**e
                if v0 <= v <= v1:
                    out.append((v, _label(v)))
        return out
    raw = (v1 - v0) / 6.0
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(v0 / step) * step
    n = int(math.floor((v1 - first) / step + 1e-9)) + 1
    return [(first + i * step, _label(first + i * step)) for i in range(max(n, 0))]


def _label(v: float) -> str:
    if abs(v) < 1e-12:
        return "0"
    if abs(v) >= 1 and abs(v - round(v)) < 1e-9:
        return f"{int(round(v)):,}"
    return f"{v:.3g}"
