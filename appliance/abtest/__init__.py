"""A/B testing (issue 18): arm assignment (assignment.py), the exposure log (exposures.py), outcomes and the
always-valid decision rule (stats.py), the report (report.py, report_html.py) and a simulation (simulate.py)."""
