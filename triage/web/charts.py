"""Small line charts as plain SVG, drawn on the server (no script, no external library)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

COLOURS = ("#1f4e79", "#c2410c", "#15803d", "#7c3aed")
Series = Mapping[str, Sequence[float | None]]


@dataclass(frozen=True)
class Axis:
    """The value axis: its range, and whether values are shares shown as percentages."""

    low: float = 0.0
    high: float = 1.0
    percent: bool = False


@dataclass(frozen=True)
class _Frame:
    """Where the plot sits in the picture and how values map onto it."""

    axis: Axis
    count: int
    width: int = 640
    height: int = 240
    left: int = 48
    right: int = 120
    top: int = 16
    bottom: int = 40

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    def x(self, i: int) -> float:
        return self.left + (self.plot_w * (i + 0.5) / max(self.count, 1))

    def y(self, v: float) -> float:
        low, high = self.axis.low, self.axis.high
        plot_h = self.height - self.top - self.bottom
        return self.top + plot_h * (1 - (min(max(v, low), high) - low) / ((high - low) or 1))


def line_chart(title: str, labels: Sequence[str], series: Series, axis: Axis | None = None) -> Markup:
    """An accessible SVG line chart: one line per series over the x labels, values on `axis`."""
    f = _Frame(axis or Axis(), len(labels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {f.width} {f.height}" role="img" '
             f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             *_grid(f), *_x_labels(f, labels), *_lines(f, series)]
    if not labels:
        parts.append(f'<text x="{f.width / 2}" y="{f.height / 2}" text-anchor="middle" font-size="13" '
                     f'fill="#6b7280">Nog geen gegevens</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _grid(f: _Frame) -> list[str]:
    out = []
    for k in range(5):
        v = f.axis.low + (f.axis.high - f.axis.low) * k / 4
        text = f"{v * 100:.0f}%" if f.axis.percent else f"{v:.2f}"
        out.append(f'<line x1="{f.left}" x2="{f.left + f.plot_w}" y1="{f.y(v):.1f}" y2="{f.y(v):.1f}" '
                   f'stroke="#e5e7eb"/><text x="{f.left - 6}" y="{f.y(v) + 4:.1f}" font-size="11" '
                   f'text-anchor="end" fill="#4b5563">{text}</text>')
    return out


def _x_labels(f: _Frame, labels: Sequence[str]) -> list[str]:
    step = max(1, f.count // 8)
    return [f'<text x="{f.x(i):.1f}" y="{f.height - f.bottom + 16}" font-size="11" text-anchor="middle" '
            f'fill="#4b5563">{escape(label)}</text>' for i, label in enumerate(labels) if i % step == 0]


def _lines(f: _Frame, series: Series) -> list[str]:
    out = []
    for s, (name, values) in enumerate(series.items()):
        colour = COLOURS[s % len(COLOURS)]
        points = [(f.x(i), f.y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        out.append(f'<rect x="{f.left + f.plot_w + 14}" y="{f.top + 18 * s}" width="10" height="10" '
                   f'fill="{colour}"/><text x="{f.left + f.plot_w + 30}" y="{f.top + 18 * s + 9}" font-size="12" '
                   f'fill="#1f2937">{escape(name)}</text>')
    return out
