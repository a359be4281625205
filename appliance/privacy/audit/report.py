"""The auditor's report of the audit log over a date range: what left, when, to which destination, for which purpose,
under which policy, with counts per day, outcome and masked PII category, and the live verification result first.
Rendered as JSON, as CSV (RFC 4180, one row per entry, never payload text) or as one self-contained HTML page whose
charts are inline SVG 1.1 (`appliance.privacy.audit.charts`): no script, font, image or style sheet is fetched.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from appliance.privacy.audit.charts import bar_chart, stacked_bar_chart

REPORT_FORMATS = ("html", "csv", "json")
ROW_FIELDS = ("seq", "time", "action", "outcome", "destination", "purpose", "policy", "categories", "reason")
REPORT_OUTCOMES = ("ok", "blocked", "error")  # always listed, zeros included: "no blocked request" is a finding
SENT_ACTION = "egress.request"  # written before a request goes out: the entries that say what left


@dataclass(frozen=True)
class Verification:
    ok: bool
    line: str  # what `tanaban audit verify` says: "OK: verified ..." or "FAILED: seq N: reason"


@dataclass(frozen=True)
class AuditReport:
    since: str  # first instant covered, as entries hold times; "" = from the first entry
    until: str  # first instant not covered (exclusive); "" = to the last entry
    generated: str  # when the report was made, ISO 8601 UTC
    verification: Verification
    rows: tuple[dict[str, Any], ...]  # one per entry, ROW_FIELDS only: never the payload
    summary: dict[str, Any]


def report_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as a report row: ROW_FIELDS, flat strings (and the seq), no payload, no hashes."""
    return {"seq": entry["seq"], "time": entry["time"], "action": entry["action"], "outcome": entry["outcome"],
            "destination": describe_destination(entry["destination"]), "purpose": entry["purpose"],
            "policy": entry["policy_version"], "categories": describe_categories(entry["categories"]),
            "reason": entry["reason"]}


def describe_destination(dest: Mapping[str, Any]) -> str:
    """host:port (model), or the file a log.export/log.read wrote; "" when the entry names none."""
    if dest.get("file"):
        return str(dest["file"])
    where = f"{dest.get('host') or ''}" + (f":{dest['port']}" if dest.get("port") is not None else "")
    return where + (f" ({dest['model']})" if dest.get("model") else "")


def describe_categories(categories: Mapping[str, int]) -> str:
    return " ".join(f"{kind}:{count}" for kind, count in sorted(categories.items()))


def summarize(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts over `entries`: all of them per day, outcome and action; what left (egress.request) per destination,
    purpose, policy and masked PII category, with the records and payload bytes sent."""
    per_day: Counter[str] = Counter()
    per_day_outcome: defaultdict[str, Counter[str]] = defaultdict(Counter)
    per_outcome: Counter[str] = Counter(dict.fromkeys(REPORT_OUTCOMES, 0))
    per_action: Counter[str] = Counter()
    sent = {"requests": 0, "records": 0, "bytes": 0}
    left: dict[str, Counter[str]] = {name: Counter() for name in ("destination", "purpose", "policy", "category")}
    count = 0
    for entry in entries:
        count += 1
        day = entry["time"][:10]
        per_day[day] += 1
        per_day_outcome[day][entry["outcome"]] += 1
        per_outcome[entry["outcome"]] += 1
        per_action[entry["action"]] += 1
        if entry["action"] == SENT_ACTION:
            _count_sent(entry, sent, left)
    return {"entries": count, "per_day": _plain(per_day),
            "per_day_outcome": {day: _plain(c) for day, c in sorted(per_day_outcome.items())},
            "per_outcome": _plain(per_outcome), "per_action": _plain(per_action), "sent": sent,
            **{f"sent_per_{name}": _plain(c) for name, c in left.items()}}


def _count_sent(entry: Mapping[str, Any], sent: dict[str, int], left: dict[str, Counter[str]]) -> None:
    sent["requests"] += 1
    sent["records"] += entry["record_count"]
    sent["bytes"] += entry["payload_size"]
    left["destination"][describe_destination(entry["destination"])] += 1
    left["purpose"][entry["purpose"]] += 1
    left["policy"][entry["policy_version"]] += 1
    left["category"].update(entry["categories"])


def _plain(counter: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counter.items()))


def build_report(entries: Iterable[Mapping[str, Any]], verification: Verification, *, since: str = "",
                 until: str = "", generated: str) -> AuditReport:
    """The report of `entries` (those in the range, in seq order) under the live log's verification result."""
    chosen = list(entries)
    return AuditReport(since, until, generated, verification, tuple(report_row(e) for e in chosen),
                       summarize(chosen))


# --- rendering ---------------------------------------------------------------------------------------------------

def render(report: AuditReport, fmt: str) -> str:
    return {"html": render_html, "csv": render_csv, "json": render_json}[fmt](report)


def write_report(text: str, out: Path) -> None:
    """A new file, mode 0600 (it names destinations and reasons); refuses to overwrite."""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _range_text(report: AuditReport) -> str:
    return (f"{report.since or 'first entry'} .. {report.until or 'last entry'} (UTC, end exclusive); "
            f"generated {report.generated}")


def render_json(report: AuditReport) -> str:
    """verification, range, summary and rows (the rows as in CSV)."""
    doc = {"verification": {"ok": report.verification.ok, "result": report.verification.line},
           "range": {"since": report.since, "until": report.until}, "generated": report.generated,
           "summary": report.summary, "rows": list(report.rows)}
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def render_csv(report: AuditReport) -> str:
    """Two `#` lines (verification, range), then the header and one row per entry."""
    buffer = io.StringIO()
    buffer.write(f"# {_one_line(report.verification.line)}\n# range: {_range_text(report)}\n")
    writer = csv.DictWriter(buffer, fieldnames=ROW_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.rows)
    return buffer.getvalue()


def _one_line(text: str) -> str:
    return " ".join(text.split())


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:70em;color:#222;padding:0 1em}
.verify{font-weight:bold;padding:.6em .8em;border-radius:4px;margin:0 0 1em}
.ok{background:#e3f4e1;border:1px solid #3a7d34}.failed{background:#fbe3e1;border:1px solid #b3261e}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;
vertical-align:top}td.n{text-align:right}h2{margin-top:1.6em;border-bottom:1px solid #ddd}svg{display:block}
"""


def render_html(report: AuditReport) -> str:
    """One page: verification first, the range, what left, per-day/outcome/category counts with charts, entries."""
    check = report.verification
    summary = report.summary
    parts = [
        f'<p class="verify {"ok" if check.ok else "failed"}">{_e(check.line)}</p>',
        "<h1>Tanaban audit report</h1>", f"<p>Range: {_e(_range_text(report))}. "
        f"{summary['entries']} entries in the range.</p>",
        "<h2>What left</h2>", _kv_table({"requests sent": summary["sent"]["requests"],
                                         "customer records": summary["sent"]["records"],
                                         "payload bytes": summary["sent"]["bytes"]}),
        "<h3>Per destination</h3>", _count_table(summary["sent_per_destination"], "destination", "requests"),
        "<h3>Per purpose</h3>", _count_table(summary["sent_per_purpose"], "purpose", "requests"),
        "<h3>Per policy</h3>", _count_table(summary["sent_per_policy"], "policy_version", "requests"),
        "<h2>Personal data masked in what left, per category</h2>",
        bar_chart(summary["sent_per_category"], "masked values"),
        _count_table(summary["sent_per_category"], "category", "values masked"),
        "<h2>Entries per day and outcome</h2>", stacked_bar_chart(_every_day(summary["per_day_outcome"])),
        _day_table(summary["per_day_outcome"]),
        "<h2>Per outcome</h2>", _count_table(summary["per_outcome"], "outcome"),
        "<h2>Per action</h2>", _count_table(summary["per_action"], "action"),
        "<h2>Entries</h2>", _rows_table(report.rows),
    ]
    title = f"Tanaban audit report {'OK' if check.ok else 'FAILED'}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body></html>\n")


def _every_day(per_day: Mapping[str, Mapping[str, int]]) -> dict[str, Mapping[str, int]]:
    """Days without entries filled in, so a quiet day shows as a gap in the chart rather than disappearing."""
    if not per_day:
        return {}
    first, last = (date.fromisoformat(d) for d in (min(per_day), max(per_day)))
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return {d.isoformat(): per_day.get(d.isoformat(), {}) for d in days}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _kv_table(values: Mapping[str, Any]) -> str:
    return "<table>" + "".join(f'<tr><th>{_e(k)}</th><td class="n">{_e(v)}</td></tr>' for k, v in values.items()) \
        + "</table>"


def _count_table(counts: Mapping[str, int], label: str, unit: str = "entries") -> str:
    if not counts:
        return "<p>none</p>"
    body = "".join(f'<tr><td>{_e(k) or "(none)"}</td><td class="n">{v}</td></tr>' for k, v in counts.items())
    return f"<table><tr><th>{_e(label)}</th><th>{_e(unit)}</th></tr>{body}</table>"


def _day_table(per_day_outcome: Mapping[str, Mapping[str, int]]) -> str:
    outcomes = sorted({o for counts in per_day_outcome.values() for o in counts} | set(REPORT_OUTCOMES))
    head = "".join(f"<th>{_e(o)}</th>" for o in outcomes)
    body = "".join(f"<tr><td>{_e(day)}</td>" + "".join(f'<td class="n">{counts.get(o, 0)}</td>' for o in outcomes)
                   + "</tr>" for day, counts in per_day_outcome.items())
    return f"<table><tr><th>day (UTC)</th>{head}</tr>{body}</table>"


def _rows_table(rows: Iterable[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{_e(name)}</th>" for name in ROW_FIELDS)
    body = "".join("<tr>" + "".join(f"<td>{_e(row[name])}</td>" for name in ROW_FIELDS) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
