"""The report's inline SVG charts: well-formed XML, bars proportional to counts, labels escaped, nothing for no data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from appliance.privacy.audit.charts import COLOURS, PLOT_HEIGHT, bar_chart, stacked_bar_chart


def _rects(svg: str) -> list[dict[str, str]]:
    return [r.attrib for r in ET.fromstring(svg).iter("rect")]


def test_bar_lengths_are_proportional_and_labels_escaped() -> None:
    svg = bar_chart({"<PERSON>": 4, "EMAIL_ADDRESS": 1}, "masked values")
    widths = [float(r["width"]) for r in _rects(svg)]
    assert widths[0] == 4 * widths[1] and "&lt;PERSON&gt;" in svg and "<PERSON>" not in svg


def test_stacked_days_sum_to_the_day_total() -> None:
    svg = stacked_bar_chart({"2026-03-01": {"ok": 2, "blocked": 1}, "2026-03-02": {}, "2026-03-03": {"error": 3}})
    bars = [r for r in _rects(svg) if float(r["height"]) > 12]  # legend squares are 12 px
    heights = sorted(round(float(r["height"]), 1) for r in bars)
    assert heights == [PLOT_HEIGHT / 3, PLOT_HEIGHT * 2 / 3, PLOT_HEIGHT]  # 1, 2, 3 of the top day's 3 entries
    assert {r["fill"] for r in bars} == {COLOURS["ok"], COLOURS["blocked"], COLOURS["error"]}
    assert re.findall(r">(03-0\d)<", svg) == ["03-01", "03-02", "03-03"]


def test_no_data_draws_nothing() -> None:
    assert bar_chart({}, "x") == "" and stacked_bar_chart({}) == ""
