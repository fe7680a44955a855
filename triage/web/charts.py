"""Small line charts as plain SVG, drawn on the server (no script, no external library)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

COLOURS = ("#1f4e79", "#c2410c", "#15803d", "#7c3aed")


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
               low: float = 0.0, high: float = 1.0, percent: bool = False, width: int = 640,
               height: int = 240) -> Markup:
    """An accessible SVG line chart: one line per series over the x labels, values in [low, high]."""
    left, right, top, bottom = 48, 120, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, low), high) - low) / ((high - low) or 1))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'class="chart" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for k in range(5):
        v = low + (high - low) * k / 4
        text = f"{v * 100:.0f}%" if percent else f"{v:.2f}"
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#4b5563">{text}</text>')
    step = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % step == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
                         f'fill="#4b5563">{escape(label)}</text>')
    for s, (name, values) in enumerate(series.items()):
        colour = COLOURS[s % len(COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        parts.append(f'<rect x="{left + plot_w + 14}" y="{top + 18 * s}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + plot_w + 30}" y="{top + 18 * s + 9}" font-size="12" '
                     f'fill="#1f2937">{escape(name)}</text>')
    if not labels:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="13" '
                     f'fill="#6b7280">Nog geen gegevens</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
