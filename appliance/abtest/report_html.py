"""The A/B report as one self-contained HTML page (`tanaban abtest report --html FILE`): inline CSS and SVG plots,
no script, no font, no CDN, so it opens on an air-gapped machine and can be mailed as one file (issue 18).

Plots: each arm's share of buyers with its interval, each arm's difference to the control with its interval and the
zero line, and the difference's interval as of each day (what a daily reader saw; the verdict is safe at any of
those looks). Every text that reaches the page goes through html.escape.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape

from appliance.abtest.report import ABReport
from appliance.abtest.stats import Interval

_W, _ROW, _PAD = 640, 34, 150  # plot width, row height, left margin for labels (pixels)
_COLOURS = ("#3b6ea5", "#c8553d", "#2a9d8f", "#8a5a9e", "#e9a23b", "#5c6770")
_CSS = """body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:760px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}table{border-collapse:collapse;margin:.6em 0}
td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
.decision{padding:.8em 1em;background:#f3f6fa;border-left:4px solid #3b6ea5}.note{color:#555;font-size:.9em}
svg text{font:12px system-ui,sans-serif}"""


def render_html(report: ABReport) -> str:
    """The whole page as a string."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>A/B report: "
             f"{escape(report.experiment)}</title><style>{_CSS}</style></head><body>",
             f"<h1>A/B report: {escape(report.experiment)}</h1>",
             f"<p class='decision'><b>Decision.</b> {escape(report.decision)}</p>",
             f"<p class='note'>Exposures {_day(report.first_ts)} to {_day(report.last_ts)}, outcomes as of "
             f"{_day(report.now)}; purchases count within {report.window_days} days of an exposure. Control arm: "
             f"{escape(report.control)}. {report.exposures} exposures"
             + (f"; {report.switched} customers saw more than one arm (counted in their first)" if report.switched
                else "") + ".</p>",
             "<h2>Per arm</h2>", _arm_table(report),
             "<h2>Share of exposed customers who bought a recommended item</h2>",
             _interval_plot([(s.arm, s.share) for s in report.summaries], zero=False),
             f"<h2>Difference to {escape(report.control)} (percentage points)</h2>", _comparison_table(report),
             _interval_plot([(c.arm, c.share_diff) for c in report.comparisons], zero=True),
             "<h2>The difference as a daily reader saw it</h2>", _timeline_plot(report),
             f"<h2>How to read this</h2><p class='note'>{escape(report.rule)}</p></body></html>"]
    return "\n".join(parts)


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%" if math.isfinite(x) else "n/a"


def _number(x: float, sign: str = "") -> str:
    return f"{x:{sign}.3f}" if math.isfinite(x) else "n/a"


def _interval_text(i: Interval, scale: float = 100.0, unit: str = "%") -> str:
    """Shares and percentage points (scale 100) with one decimal, counts per customer (scale 1) with three."""
    if not math.isfinite(i.low) or not math.isfinite(i.high):
        return "n/a"
    digits = 1 if scale == 100.0 else 3
    return f"{i.low * scale:.{digits}f}{unit} to {i.high * scale:.{digits}f}{unit}"


def _arm_table(report: ABReport) -> str:
    hidden = "<td colspan='8'>suppressed: too few customers to show without exposing one</td>"
    rows = "".join(
        f"<tr><td>{escape(s.arm)}</td><td>{s.customers}</td>" + (hidden if s.buyers is None else
        f"<td>{s.buyers}</td><td>{_pct(s.share.estimate)}</td>"
        f"<td>{_interval_text(s.share)}</td><td>{_number(s.items.estimate)}</td>"
        f"<td>{_interval_text(s.items, 1.0, '')}</td><td>{_number(s.purchases.estimate)}</td>"
        f"<td>{_pct(report.lists[s.arm]['coverage'])}</td>"
        f"<td>{_number(report.lists[s.arm]['novelty'])}</td>") + "</tr>" for s in report.summaries)
    return ("<table><tr><th>arm</th><th>exposed</th><th>buyers</th><th>share</th><th>interval</th>"
            "<th>items / customer</th><th>interval</th><th>purchases / customer</th><th>coverage</th>"
            "<th>novelty (bits)</th></tr>"
            f"{rows}</table>")


def _comparison_table(report: ABReport) -> str:
    rows = "".join(
        f"<tr><td>{escape(c.arm)}</td><td>{_number(c.share_diff.estimate * 100, '+')}</td>"
        f"<td>{_interval_text(c.share_diff, 100.0, '')}</td><td>{_number(c.items_diff.estimate, '+')}</td>"
        f"<td>{_interval_text(c.items_diff, 1.0, '')}</td><td>{_number(c.purchases_diff.estimate, '+')}</td>"
        f"<td>{_interval_text(c.purchases_diff, 1.0, '')}</td><td>{escape(c.verdict)}</td></tr>"
        for c in report.comparisons)
    return ("<table><tr><th>arm</th><th>share diff (pp)</th><th>interval</th><th>items diff</th><th>interval</th>"
            f"<th>purchases diff</th><th>interval</th><th>verdict</th></tr>{rows}</table>")


def _scale(values: list[float], zero: bool) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)] + ([0.0] if zero else [])
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or 0.01
    return lo - pad, hi + pad


def _interval_plot(rows: list[tuple[str, Interval]], zero: bool) -> str:
    """One horizontal interval per row, the estimate as a dot; with `zero`, the no-difference line."""
    lo, hi = _scale([v for _, i in rows for v in (i.low, i.high)], zero)
    width = _W - _PAD - 20

    def x(v: float) -> float:
        return _PAD + (min(max(v, lo), hi) - lo) / (hi - lo) * width

    height = _ROW * len(rows) + 30
    out = [f"<svg width='{_W}' height='{height}' viewBox='0 0 {_W} {height}' role='img'>"]
    if zero:
        out.append(f"<line x1='{x(0):.1f}' x2='{x(0):.1f}' y1='0' y2='{height - 24}' stroke='#999' "
                   "stroke-dasharray='4 3'/>")
    for r, (name, i) in enumerate(rows):
        y, colour = 18 + r * _ROW, _COLOURS[r % len(_COLOURS)]
        out.append(f"<text x='4' y='{y + 4}'>{escape(name)}</text>")
        if math.isfinite(i.low) and math.isfinite(i.high):
            out.append(f"<line x1='{x(i.low):.1f}' x2='{x(i.high):.1f}' y1='{y}' y2='{y}' stroke='{colour}' "
                       "stroke-width='3'/>")
        if math.isfinite(i.estimate):
            out.append(f"<circle cx='{x(i.estimate):.1f}' cy='{y}' r='5' fill='{colour}'/>")
    placed: list[float] = []
    for v in (0.0 if zero else (lo + hi) / 2, lo, hi):
        if all(abs(x(v) - p) > 40 for p in placed):  # no label on top of another
            placed.append(x(v))
            out.append(f"<text x='{x(v):.1f}' y='{height - 6}' text-anchor='middle'>{v * 100:.1f}</text>")
    out.append("</svg>")
    return "".join(out)


def _timeline_plot(report: ABReport) -> str:
    """Per arm, the band of the share difference's interval over the days, the estimate as a line, and 0."""
    if not report.timeline:
        return "<p class='note'>No timeline yet.</p>"
    height, top, bottom = 260, 10, 230
    values = [v for _, diffs in report.timeline for i in diffs.values() for v in (i.low, i.high)]
    lo, hi = _scale(values, zero=True)
    t0, t1 = report.timeline[0][0], report.timeline[-1][0]
    width = _W - 60

    def x(t: float) -> float:
        return 50 + (t - t0) / ((t1 - t0) or 1) * width

    def y(v: float) -> float:
        return bottom - (min(max(v, lo), hi) - lo) / (hi - lo) * (bottom - top)

    out = [f"<svg width='{_W}' height='{height}' viewBox='0 0 {_W} {height}' role='img'>",
           f"<line x1='50' x2='{_W - 10}' y1='{y(0):.1f}' y2='{y(0):.1f}' stroke='#999' stroke-dasharray='4 3'/>"]
    for k, arm in enumerate(c.arm for c in report.comparisons):
        colour = _COLOURS[(k + 1) % len(_COLOURS)]
        pts = [(ts, d[arm]) for ts, d in report.timeline if arm in d and math.isfinite(d[arm].low)
               and math.isfinite(d[arm].high)]
        if not pts:
            continue
        band = [f"{x(t):.1f},{y(i.high):.1f}" for t, i in pts] + [f"{x(t):.1f},{y(i.low):.1f}" for t, i in pts[::-1]]
        out.append(f"<polygon points='{' '.join(band)}' fill='{colour}' fill-opacity='0.2'/>")
        line = " ".join(f"{x(t):.1f},{y(i.estimate):.1f}" for t, i in pts)
        out.append(f"<polyline points='{line}' fill='none' stroke='{colour}' stroke-width='2'/>")
        out.append(f"<text x='{x(pts[-1][0]) - 4:.1f}' y='{y(pts[-1][1].estimate) - 6:.1f}' text-anchor='end' "
                   f"fill='{colour}'>{escape(arm)}</text>")
    placed: list[float] = []
    for v in (0.0, lo, hi):
        if all(abs(y(v) - p) > 14 for p in placed):
            placed.append(y(v))
            out.append(f"<text x='46' y='{y(v) + 4:.1f}' text-anchor='end'>{v * 100:.1f}</text>")
    out.append(f"<text x='50' y='{height - 8}'>{_day(t0)}</text><text x='{_W - 10}' y='{height - 8}' "
               f"text-anchor='end'>{_day(t1)}</text></svg>")
    return "".join(out)
