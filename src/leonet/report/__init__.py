"""The report of a run: one self-contained HTML file that works offline.

``leonet report RUN`` (and the end of ``leonet run``) write ``RUN/report.html``:
headline numbers, a map of terminals, gateways, PoPs, service areas and
satellites drawn on the borders shipped with leonet, time series of service
and RTT, RTT distributions by region, the modelled RTT against its
propagation floor and, when the run has them, the tracks of moving terminals
(with a time slider), their cut-offs and restorations, the probes' pings,
throughput, utilisation and cost by sponsor.

Modules: `leonet.report.data` (DuckDB queries over the run; it calls
`leonet.report.moving` for moving terminals and service events and
`leonet.report.latency` for the latency model's parts and the pings, all on
`leonet.report.base`), `leonet.report.geo` (outlines from the shipped borders),
`leonet.report.figures` (plotly figures) and `leonet.report.html` (the
page, escaping, and writing the file).
"""

from .data import ReportData, collect
from .html import REPORT_NAME, render_report, write_report

__all__ = ["ReportData", "collect", "render_report", "write_report", "REPORT_NAME"]
