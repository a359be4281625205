"""Small inline SVG 1.1 bar charts for the audit report: plain text that any browser draws offline, with no
script, font or external reference (no xmlns URL either: inline SVG in HTML5 needs none).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

WIDTH = 720  # px; fits an A4 page printed from the browser
LABEL_WIDTH = 220  # px for category/destination names in horizontal charts; longer names are cut with "..."
ROW_HEIGHT = 22  # px per bar in horizontal charts
PLOT_HEIGHT = 180  # px of the per-day chart's bar area
MAX_DAY_LABELS = 12  # at most this many dates under the per-day chart, evenly spaced, so they never overlap
COLOURS = {"ok": "#3a7d34", "blocked": "#d08a00", "error": "#b3261e", "failed": "#6a1b9a"}
OTHER_COLOUR = "#777777"  # outcomes outside COLOURS


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cut(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bar_chart(counts: Mapping[str, int], unit: str) -> str:
    """Horizontal bars, one per key, longest = the largest count; "" for no data (the table says "none")."""
    if not counts:
        return ""
    top = max(max(counts.values()), 1)
    room = WIDTH - LABEL_WIDTH - 60
    height = ROW_HEIGHT * len(counts) + 8
    bars = []
    for i, (name, value) in enumerate(counts.items()):
        y = 4 + i * ROW_HEIGHT
        length = round(room * value / top)
        bars.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{_e(_cut(name or "(none)"))}</text>'
                    f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW_HEIGHT - 6}" fill="#4a6fa5">'
                    f"<title>{_e(name)}: {value}</title></rect>"
                    f'<text x="{LABEL_WIDTH + length + 4}" y="{y + 15}">{value}</text>')
    return (f'<svg width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'font-family="sans-serif" font-size="12"><title>{_e(unit)}</title>{"".join(bars)}</svg>')


def stacked_bar_chart(per_day: Mapping[str, Mapping[str, int]]) -> str:
    """One vertical bar per day, stacked by outcome (ok at the bottom), with a legend and the largest day's total."""
    if not per_day:
        return ""
    outcomes = sorted({o for counts in per_day.values() for o in counts},
                      key=lambda o: (list(COLOURS).index(o) if o in COLOURS else len(COLOURS), o))
    top = max(max(sum(c.values()) for c in per_day.values()), 1)
    left, legend_h, axis_h = 40, 24, 36
    step = (WIDTH - left - 10) / len(per_day)
    bar = max(min(step * 0.8, 40), 1)
    every = -(-len(per_day) // MAX_DAY_LABELS)  # ceil: label every n-th day
    parts = [_legend(outcomes, left),
             f'<text x="{left - 4}" y="{legend_h + 10}" text-anchor="end">{top}</text>'
             f'<text x="{left - 4}" y="{legend_h + PLOT_HEIGHT}" text-anchor="end">0</text>'
             f'<line x1="{left}" y1="{legend_h + PLOT_HEIGHT}" x2="{WIDTH - 10}" y2="{legend_h + PLOT_HEIGHT}" '
             'stroke="#999"/>']
    for i, (day, counts) in enumerate(per_day.items()):
        x = left + i * step + (step - bar) / 2
        base = legend_h + PLOT_HEIGHT
        for outcome in outcomes:
            h = PLOT_HEIGHT * counts.get(outcome, 0) / top
            if h > 0:
                base -= h
                parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS.get(outcome, OTHER_COLOUR)}"><title>{_e(day)} {_e(outcome)}: '
                             f"{counts[outcome]}</title></rect>")
        if i % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{legend_h + PLOT_HEIGHT + 16}" text-anchor="middle" '
                         f'font-size="10">{_e(day[5:])}</text>')
    height = legend_h + PLOT_HEIGHT + axis_h
    return (f'<svg width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'font-family="sans-serif" font-size="12"><title>entries per day (UTC) by outcome</title>'
            f'{"".join(parts)}</svg>')


def _legend(outcomes: list[str], left: int) -> str:
    items = []
    for i, outcome in enumerate(outcomes):
        x = left + i * 110
        items.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS.get(outcome, OTHER_COLOUR)}"/>'
                     f'<text x="{x + 16}" y="14">{_e(outcome)}</text>')
    return "".join(items)
