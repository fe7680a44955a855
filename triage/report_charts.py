"""The yearly report's charts as plain SVG, drawn on the server for the page and the PDF alike:
black text, a dark solid fill beside a light hatched one (readable in grey print), each bar's count
on it, and a count of 1 to 4 drawn as a dashed outline up to 5 labelled "< 5", never its height."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

from triage.reporting import SMALL, shown

MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
SOLID = "#1f4e79"  # complaints; questions are hatched (a pattern of each chart's own id)
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str  # what the bar counts, for its tooltip
    count: int
    series: int = 0  # 0: complaints (solid), 1: questions (hatched)


def _fill(key: str, series: int) -> str:
    return SOLID if series % 2 == 0 else f"url(#{key}-hatch)"


def _open(key: str, title: str, width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" class="report-chart" id="{key}" aria-label="{escape(title)}" {FONT}>'
            f'<title>{escape(title)}</title><defs><pattern id="{key}-hatch" width="6" height="6" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#cbd5e1"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#334155" stroke-width="2"/></pattern></defs>')


def _count(count: int) -> str:
    return escape(shown(count))


def _drawn(count: int) -> int:
    """The length a bar is drawn at: a small count reaches 5 (its outline says 'below this')."""
    return SMALL if 0 < count < SMALL else count


def _rect(key: str, x: float, y: float, w: float, h: float, bar: Bar) -> str:
    tip = f"<title>{escape(bar.label)}: {_count(bar.count)}</title>"
    if 0 < bar.count < SMALL:
        return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="white" stroke="#111" '
                f'stroke-dasharray="3 2">{tip}</rect>')
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{_fill(key, bar.series)}" '
            f'stroke="#111" stroke-width="0.5">{tip}</rect>')


def _legend(key: str, x: float, y: float, names: Sequence[str]) -> str:
    out = []
    for i, name in enumerate(names):
        out.append(f'<rect x="{x}" y="{y + 18 * i}" width="12" height="12" fill="{_fill(key, i)}" stroke="#111" '
                   f'stroke-width="0.5"/><text x="{x + 18}" y="{y + 18 * i + 10}" font-size="12" '
                   f'fill="#000">{escape(name)}</text>')
    return "".join(out)


def columns(key: str, title: str, groups: Sequence[tuple[str, Sequence[Bar]]], names: Sequence[str] = (),
            width: int = 640, height: int = 230) -> Markup:
    """Vertical bars in groups (a month: complaints and questions), the count above each bar."""
    left, right, top, bottom = 12, 130 if names else 12, 20, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    high = max([_drawn(b.count) for _, bars in groups for b in bars] + [SMALL])
    slot = plot_w / max(len(groups), 1)
    parts = [_open(key, title, width, height)]
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#111"/>')
    for g, (label, bars) in enumerate(groups):
        bar_w = min(28.0, slot * 0.8 / max(len(bars), 1))
        x0 = left + slot * g + (slot - bar_w * len(bars)) / 2
        for i, bar in enumerate(bars):
            h = plot_h * _drawn(bar.count) / high
            x, y = x0 + i * bar_w, top + plot_h - h
            if bar.count:
                parts.append(_rect(key, x, y, bar_w - 1, h, bar))
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="10" text-anchor="middle" '
                         f'fill="#000">{_count(bar.count)}</text>')
        parts.append(f'<text x="{left + slot * (g + 0.5):.1f}" y="{height - 10}" font-size="11" '
                     f'text-anchor="middle" fill="#000">{escape(label)}</text>')
    if names:
        parts.append(_legend(key, left + plot_w + 16, top, names))
    parts.append("</svg>")
    return Markup("".join(parts))


def rows(key: str, title: str, groups: Sequence[tuple[str, Sequence[Bar]]], names: Sequence[str] = (),
         width: int = 640) -> Markup:
    """Horizontal bars in groups (a topic: complaints and questions), the count after each bar."""
    left, right, top, bar_h = 200, 170 if names else 60, 8, 16
    group_h = bar_h * max((len(bars) for _, bars in groups), default=1) + 12
    height = top * 2 + group_h * max(len(groups), 1)
    plot_w = width - left - right
    high = max([_drawn(b.count) for _, bars in groups for b in bars] + [SMALL])
    parts = [_open(key, title, width, height)]
    for g, (label, bars) in enumerate(groups):
        y0 = top + g * group_h
        parts.append(f'<text x="{left - 8}" y="{y0 + bar_h * len(bars) / 2 + 4:.1f}" font-size="12" '
                     f'text-anchor="end" fill="#000">{escape(label)}</text>')
        for i, bar in enumerate(bars):
            w, y = plot_w * _drawn(bar.count) / high, y0 + i * bar_h
            if bar.count:
                parts.append(_rect(key, left, y, w, bar_h - 2, bar))
            parts.append(f'<text x="{left + w + 5:.1f}" y="{y + bar_h - 5}" font-size="10" fill="#000">'
                         f'{_count(bar.count)}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top - 4}" y2="{height - top + 4}" stroke="#111"/>')
    if names:
        parts.append(_legend(key, left + plot_w + 60, top, names))
    parts.append("</svg>")
    return Markup("".join(parts))


def month_label(first: date, several_years: bool) -> str:
    name = MONTHS[first.month - 1]
    return f"{name} {first.year % 100:02d}" if several_years else name
