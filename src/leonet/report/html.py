"""One self-contained, offline HTML file: the report of a run.

The file
--------
``report.html`` holds, in this order: the page (HTML + CSS, no external
fonts, images or style sheets), the figures as one JSON document in a
``<script type="application/json">`` element, plotly.js inlined once
(`plotly.offline.get_plotlyjs`, ~4.8 MB), and a dozen lines of JavaScript
that draw each figure into its ``<div>``.  A ``Content-Security-Policy``
meta tag (``default-src 'none'``) forbids the page every network request,
so the report behaves the same on a laptop on a plane as on the machine
that made it, and a mistake that would make it fetch something shows as a
CSP error instead of silently working only online.

Escaping
--------
Every user string (scenario name and description, terminal, region,
sponsor and rule names) reaches the page by one of two roads, and each is
escaped for where it lands:

* into HTML text or attributes: `esc` (``html.escape``, quotes included);
* into the figures' JSON: plotly's encoder, then `script_json`, which
  replaces every ``<``, ``>`` and ``&`` by a ``\\u00XX`` escape (and
  U+2028/U+2029), so no ``</script>`` or ``<!--`` can appear inside the
  script element whatever the data.  JSON can only hold those characters
  inside strings, where the escapes mean the same character.

plotly itself renders a subset of HTML in labels; `figures.ptext` escapes
names for it, so they show literally (see `leonet.report.figures`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path

import numpy as np
import plotly.io as pio

from .._version import __version__
from ..results.store import write_bytes_atomic
from .base import times
from .data import ReportData, collect
from .figures import REASON_COLOURS, build_figures, cdf_x_max_ms

__all__ = ["render_report", "write_report", "script_json", "esc", "REPORT_NAME"]

REPORT_NAME = "report.html"
#: Rows of the moving terminals table at most.
MOVING_ROWS = 100

#: Forbid every network request; allow the inline scripts and styles the
#: file carries.  plotly.js needs 'unsafe-eval' (it compiles a few
#: functions at load time) and data:/blob: images for its PNG export.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)

_PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def esc(value) -> str:
    """A value as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


def script_json(text: str) -> str:
    """JSON text made safe to sit inside a ``<script>`` element."""
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    # plotly.js has neither today; if a release ever does, keep the script element intact.
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def _ok(value) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def _n(value, fmt: str = ",.0f", unit: str = "") -> str:
    return f"{value:{fmt}}{unit}" if _ok(value) else "n/a"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:g} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} days"


def _g(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _usd(value: float) -> str:
    if not _ok(value):
        return "n/a"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f} M"
    return f"${value:,.0f}"


# --------------------------------------------------------------------------
# Page parts
# --------------------------------------------------------------------------


def _header(d: ReportData) -> str:
    m = d.manifest
    sc = m.get("scenario") or {}
    meta = sc.get("scenario") or {}
    net = sc.get("network") or {}
    h = d.headline
    name = meta.get("name") or "unnamed scenario"
    desc = meta.get("description") or ""
    steps = h.get("steps") or 0
    step_s = h.get("step_s") or 0.0
    start = h["epoch_utc"]
    end = start + dt.timedelta(seconds=steps * step_s)
    facts = [
        ("Window (UTC)", f"{start:%Y-%m-%d %H:%M:%S} → {end:%H:%M:%S}" if end.date() == start.date() else f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}"),
        ("Simulated", f"{_duration(steps * step_s)} · {steps:,} steps of {step_s:g} s"),
        ("Satellites", f"{h.get('satellites', 0):,}"),
        ("Terminals", f"{len(d.terminals):,}" if d.terminals is not None else "none"),
        ("Gateways · PoPs", f"{len(d.gateways) if d.gateways is not None else 0} · {len(d.pops) if d.pops is not None else 0}"),
    ]
    if net:
        facts.append(
            ("Network", f"lasers: {net.get('isl', '?')} · scheduler slot {_g(net.get('slot_s'))} s · {net.get('policy', '?')}")
        )
    service = [
        (len(sc.get(key) or []), word)
        for key, word in (("fleets", "fleet"), ("policies", "service-area rule"), ("faults", "fault"))
    ]
    if any(n for n, _ in service):
        facts.append(("Service layer", " · ".join(f"{n} {w}{'' if n == 1 else 's'}" for n, w in service if n)))
    status = h.get("status") or m.get("status", "?")
    facts.append(("Run", f"{status} · leonet {m.get('leonet_version', '?')} · seed {m.get('seed', '?')}"))
    warn = _status_warning(d, status)
    dl = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in facts)
    return f"""
<header class="top">
  <div class="wrap">
    <div class="brand">leonet · run report</div>
    <h1>{esc(name)}</h1>
    {f'<p class="desc">{esc(desc)}</p>' if desc else ''}
    <dl class="facts">{dl}</dl>
    {warn}
  </div>
</header>"""


def _status_warning(d: ReportData, status: str) -> str:
    """A banner for a run that did not finish: what it is, and how much of the window the report covers."""
    if status == "complete":
        return ""
    m = d.manifest
    chunks = m.get("chunks", [])
    done = sum(int(c["steps"][1]) - int(c["steps"][0]) for c in chunks if isinstance(c.get("steps"), list))
    total = int(d.headline.get("steps") or 0)
    why = {
        "interrupted": " (it stopped before it finished; continue it with leonet run --resume)",
        "failed": f" ({m.get('error')})" if m.get("error") else "",
    }.get(status, "")
    return (
        f'<p class="warn" id="run-status">This run is <b>{esc(status)}</b>{esc(why)}: the report covers the '
        f"{len(chunks)} chunks written so far, {done:,} of {total:,} steps.</p>"
    )


def _kpis(d: ReportData) -> str:
    h = d.headline
    cards: list[tuple[str, str, str, str]] = []
    if "served_pct" in h:
        unserved = h.get("unserved_by_reason") or {}
        total = h.get("terminal_steps") or 0
        parts = [f"{esc(r)} {100.0 * n / total:.2f} %" for r, n in unserved.items()] if total else []
        sub = "unserved: " + ", ".join(parts) if parts else f"of {total:,} terminal-steps"
        cards.append(("Served", _n(h["served_pct"], ".2f"), "%", sub))
        cards.append(("RTT median", _n(h["rtt_p50_ms"], ".1f"), "ms", _rtt_words(d) + ", served steps"))
        cards.append(("RTT p95", _n(h["rtt_p95_ms"], ".1f"), "ms", "95th percentile"))
        if h.get("throughput"):
            cards.append(
                ("Throughput median", _n(h["throughput_p50_mbps"], ".1f"), "Mbit/s", f"mean {_n(h['throughput_mean_mbps'], '.1f', ' Mbit/s')} per served terminal")
            )
        if h.get("handovers") is not None:
            cards.append(
                ("Handovers", _n(h["handovers_per_terminal_hour"], ".0f"), "/ terminal-hour", f"{h['handovers']:,} changes of serving satellite")
            )
        cards.append(("Terminal-hours", _n(h.get("terminal_hours"), ",.0f"), "h", f"{h.get('terminals_active', 0):,} active terminals"))
    if d.cost is not None:
        c = d.cost
        n = len(c["total_by_sponsor"])
        sub = f"{esc(c['months'][0])} → {esc(c['months'][-1])}, {n} sponsor{'' if n == 1 else 's'}"
        cards.append(("Cost", esc(_usd(c["total_usd"])), "", sub))
    if not cards:
        cards.append(("Satellites", f"{h.get('satellites', 0):,}", "", "no ground segment in this run"))
    return '<section class="kpis wrap">' + "".join(
        f'<div class="kpi"><div class="k">{esc(k)}</div><div class="v">{v}<span class="u">{esc(u)}</span></div>'
        f'<div class="s">{sub}</div></div>'
        for k, v, u, sub in cards
    ) + "</section>"


def _card(fig_id: str, title: str, caption: str, wide: bool = False) -> str:
    return (
        f'<figure class="card{" wide" if wide else ""}" id="card-{esc(fig_id)}"><figcaption><h2>{esc(title)}</h2><p>{caption}</p></figcaption>'
        f'<div id="{esc(fig_id)}" class="chart" role="img" aria-label="{esc(title)}"></div></figure>'
    )


def _map_caption(d: ReportData) -> str:
    parts = []
    if d.terminals is not None:
        other = "median RTT" + (", throughput" if d.headline.get("throughput") else "")
        parts.append(f"{len(d.terminals):,} terminals, coloured by their share of served steps (buttons: {other})")
    if d.gateways is not None:
        parts.append("gateways (▲) and PoPs (■) with their fibre backhaul")
    serving = d.snapshot is not None and bool(d.snapshot["serving"].sum())
    if d.snapshot is not None:
        s = d.snapshot
        parts.append(
            f"{len(s['sat']):,} of {s['total']:,} satellites in view at {esc(s['t_utc'])} UTC"
            + (", the serving ones in orange with their user links" if serving else "")
        )
    if d.tracks:
        which = "serving satellites" if serving else "satellites nearest the centre"
        parts.append(f"ground tracks of {len(d.tracks)} {which} over the run (60 s samples)")
    parts += _moving_caption(d)
    if any(a["lines"] is not None or a.get("shapes") for a in d.service_areas):
        parts.append("service-area rules (deny: red, allow: green dashed)")
    if any(a.get("shapes") for a in d.service_areas):
        parts.append("a rule with dated shapes shows the shape in force at the slider's time (its lag included), "
                     "every other shape dotted")
    text = "; ".join(parts) + "."
    return (
        esc(text[0].upper() + text[1:])
        + " Borders: Natural Earth 10m admin-0 and geoBoundaries ADM1, drawn from the files shipped with leonet "
        "(equirectangular, true scale at the middle latitude). Drag to pan, scroll the axes or use the toolbar to zoom."
    )


def _moving_caption(d: ReportData) -> list[str]:
    m = d.moving
    if m is None or not m.tracks:
        return []
    decimated = sum(1 for t in m.tracks if len(t.t_ns) < t.steps)
    out = [
        f"the tracks of {len(m.tracks):,} moving terminals: a dot per step where served, coloured by its modelled RTT, "
        "a cross where not served in the colour of the reason"
        + (", ▼ cut-offs and ▲ restorations" if d.events is not None and d.events["markers"] else "")
        + (f" ({decimated} long tracks thinned to regularly spaced steps plus every change of state)" if decimated else "")
    ]
    if m.frame_t_ns.size:
        which = "them" if len(m.animated) == len(m) else f"the first {len(m.animated)} of them"
        out.append(f"the slider above the map (or ▶) moves {which} through {m.frame_t_ns.size} times of the run")
    return out


def _region_table(d: ReportData) -> str:
    if not d.regions:
        return ""
    rows = "".join(
        f"<tr><td>{esc(r['region'])}</td><td class=n>{r['terminals']:,}</td><td class=n>{_n(r['served_pct'], '.2f')}</td>"
        f"<td class=n>{_n(r['rtt_p50_ms'], '.1f')}</td><td class=n>{_n(r['rtt_p95_ms'], '.1f')}</td>"
        f"<td class=n>{_n(r['handovers_per_terminal_hour'], '.0f')}</td></tr>"
        for r in d.regions
    )
    return (
        '<figure class="card"><figcaption><h2>By region</h2><p>Sorted by median RTT. Served % counts terminal-steps; '
        "RTT percentiles are over served steps.</p></figcaption>"
        '<div class="tablewrap"><table id="regions"><thead><tr><th>region</th><th class=n>terminals</th><th class=n>served %</th>'
        "<th class=n>RTT p50 ms</th><th class=n>RTT p95 ms</th><th class=n>handovers /h</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></figure>"
    )


def _terminal_table(d: ReportData) -> str:
    if not d.worst_terminals:
        return ""
    thr = d.headline.get("throughput")
    rows = "".join(
        f"<tr><td>{esc(t['name'])}</td><td class=mono>{esc(t['id'])}</td><td>{esc(t['region'])}</td>"
        f"<td class=n>{_n(t['served_pct'], '.2f')}</td><td class=n>{_n(t['rtt_p50_ms'], '.1f')}</td>"
        f"<td class=n>{_n(t['rtt_p95_ms'], '.1f')}</td>"
        + (f"<td class=n>{_n(t['throughput_p50_mbps'], '.1f')}</td>" if thr else "")
        + f"<td class=n>{_n(t['handovers_per_hour'], '.0f')}</td>"
        f"<td>{_reason_chip(t['main_unserved_reason'])}</td></tr>"
        for t in d.worst_terminals
    )
    n = len(d.terminals) if d.terminals is not None else 0
    return (
        f'<figure class="card wide"><figcaption><h2>Terminals with the least service</h2><p>The {len(d.worst_terminals)} '
        f"of {n:,} terminals with the lowest served share (ties: highest p95 RTT).</p></figcaption>"
        '<div class="tablewrap"><table id="terminals"><thead><tr><th>terminal</th><th>id</th><th>region</th>'
        "<th class=n>served %</th><th class=n>RTT p50 ms</th><th class=n>RTT p95 ms</th>"
        + ("<th class=n>Mbit/s p50</th>" if thr else "")
        + f"<th class=n>handovers /h</th><th>main reason unserved</th></tr></thead><tbody>{rows}</tbody></table></div></figure>"
    )


def _reason_chip(reason: str, label: str | None = None) -> str:
    if not reason:
        return ""
    colour = REASON_COLOURS.get(reason, "#6c757d")
    return f'<span class="chip" style="background:{esc(colour)}">{esc(label or reason)}</span>'


def _cost_table(d: ReportData) -> str:
    c = d.cost
    if c is None:
        return ""
    days = c.get("terminal_days_by_sponsor")
    rows = "".join(
        f"<tr><td>{esc(s)}</td><td class=n>{esc(_usd(v))}</td>"
        + (f"<td class=n>{_n(days.get(s), ',.0f')}</td>" if days else "")
        + f"<td class=n>{_n(100.0 * v / c['total_usd'] if c['total_usd'] else float('nan'), '.1f')}</td></tr>"
        for s, v in sorted(c["total_by_sponsor"].items(), key=lambda kv: -kv[1])
    )
    return (
        '<figure class="card"><figcaption><h2>Cost by sponsor</h2>'
        f"<p>From the cost ledger ({esc(c['table'])}), {esc(c['months'][0])} to {esc(c['months'][-1])}; prorated by the second.</p></figcaption>"
        '<div class="tablewrap"><table id="cost"><thead><tr><th>sponsor</th><th class=n>total</th>'
        + ("<th class=n>terminal-days</th>" if days else "")
        + f"<th class=n>share %</th></tr></thead><tbody>{rows}</tbody></table></div></figure>"
    )


def _rules_table(d: ReportData) -> str:
    if not d.service_areas:
        return ""
    rows = "".join(
        f"<tr><td>{esc(a['name'])}</td><td>{_action_chip(a['action'])}</td><td>{esc(a['region'] or 'everywhere')}</td>"
        f"<td>{esc(a['from'] or '')}</td><td>{esc(a['until'] or '')}</td>"
        f"<td>{esc(', '.join(map(str, a['fleets'])) if a['fleets'] else 'all')}</td><td>{esc(a['note'])}</td></tr>"
        for a in d.service_areas
    )
    return (
        '<figure class="card"><figcaption><h2>Service-area rules</h2><p>The scenario\'s policies: deny wins; allow rules '
        "are a whitelist for the fleets they name.</p></figcaption>"
        '<div class="tablewrap"><table id="rules"><thead><tr><th>rule</th><th>action</th><th>region</th><th>from</th>'
        f"<th>until</th><th>fleets</th><th>note</th></tr></thead><tbody>{rows}</tbody></table></div></figure>"
    )


def _faults_table(d: ReportData) -> str:
    if not d.faults:
        return ""
    rows = "".join(
        f"<tr><td>{esc(f['name'])}</td><td>{_reason_chip('fault', f['kind'])}</td><td>{esc(f['from'] or 'start')}</td>"
        f"<td>{esc(f['until'] or 'end')}</td><td>{esc(f['details'])}</td><td>{esc(f['note'])}</td></tr>"
        for f in d.faults
    )
    return (
        '<figure class="card"><figcaption><h2>Faults</h2><p>Scheduled and random outages of the scenario; windows inside '
        "the run are shaded on the time charts.</p></figcaption>"
        '<div class="tablewrap"><table id="faults"><thead><tr><th>fault</th><th>kind</th><th>from</th><th>until</th>'
        f"<th>what</th><th>note</th></tr></thead><tbody>{rows}</tbody></table></div></figure>"
    )


def _table_card(title: str, caption: str, table_id: str, head: list[str], rows: list[str], wide: bool = False) -> str:
    """A card holding one table; ``head`` entries starting with "#" are numeric (right-aligned) columns."""
    ths = "".join(f"<th class=n>{esc(h[1:])}</th>" if h.startswith("#") else f"<th>{esc(h)}</th>" for h in head)
    return (
        f'<figure class="card{" wide" if wide else ""}"><figcaption><h2>{esc(title)}</h2><p>{caption}</p></figcaption>'
        f'<div class="tablewrap"><table id="{esc(table_id)}"><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></figure>"
    )


def _moving_table(d: ReportData) -> str:
    """One row per moving terminal: distance, time in the run, service, handovers, cut-offs."""
    m = d.moving
    if m is None or d.terminals is None or d.terminal_stats is None:
        return ""
    st = d.terminal_stats
    recorded = d.events is not None
    rows = []
    for g in m.terminals[:MOVING_ROWS]:
        x = m.stats.get(g, {})
        served, ho, p50 = (float(st[k][g]) if g < st[k].size else math.nan for k in ("served_share", "handovers_per_hour", "rtt_p50_ms"))
        cut = f"{x.get('cutoffs', 0):,} / {x.get('restorations', 0):,}" if recorded else "not recorded"
        rows.append(
            f"<tr><td>{esc(_name(d, g))}</td><td class=mono>{esc(d.terminals.ids[g] if g < len(d.terminals) else '')}</td>"
            f"<td class=n>{_n(x.get('distance_km'), ',.1f')}</td><td class=n>{_n(x.get('hours'), ',.2f')}</td>"
            f"<td class=n>{_n(100.0 * served, '.1f')}</td><td class=n>{_n(x.get('no_position_pct'), '.1f')}</td>"
            f"<td class=n>{_n(ho, ',.0f')}</td><td class=n>{_n(p50, '.1f')}</td>"
            f"<td class=n>{_n(x.get('max_speed_kmh'), ',.0f')}</td><td class=n>{cut}</td></tr>"
        )
    more = f" The first {MOVING_ROWS} of {len(m):,} are listed." if len(m) > MOVING_ROWS else ""
    caption = (
        f"{len(m):,} terminal{'' if len(m) == 1 else 's'} moved in this run. Distance: along its track or route inside "
        "the run window (great-circle legs; a gap in the track is not bridged). In run: from its first fix to its last, "
        "within the window. Served % and handovers per hour count the steps with a position, as the run's summary does; "
        f"no position % is the share of the time in the run spent on gaps of the track.{more}"
    )
    head = ["terminal", "id", "#distance km", "#in run h", "#served %", "#no position %", "#handovers /h",
            "#RTT p50 ms", "#max km/h", "#cut-offs / restorations"]
    return _table_card("Moving terminals", caption, "moving", head, rows, wide=True)


def _events_table(d: ReportData) -> str:
    """The cut-offs and restorations (time, terminal, event, reason, place), or "not recorded"."""
    ev = d.events
    if ev is None:
        if d.moving is None:
            return ""
        return (
            '<figure class="card"><figcaption><h2>Cut-offs and restorations</h2></figcaption>'
            '<p id="events-not-recorded">Not recorded: this run has no <span class="mono">service_events</span> table '
            "(it was made by a leonet that did not write one). Nothing is derived from the steps in its place.</p></figure>"
        )
    if d.terminals is None:
        return ""
    rows = [
        f"<tr><td class=\"mono nw\">{esc(t)}</td><td>{esc(_name(d, r['terminal']))}</td>"
        f"<td>{_reason_chip('served' if r['event'] == 'restored' else 'fault', r['event'])}</td>"
        f"<td>{_event_reason(r)}</td><td>{esc(r['place'])}</td>"
        f"<td class=mono>{esc(_lat_lon(r['lat_deg'], r['lon_deg']))}</td></tr>"
        for r, t in zip(ev["rows"], _utc(d, [r["t_ns"] for r in ev["rows"]]))
    ]
    parts = []
    for event in sorted(ev["counts"]):
        why = ", ".join(f"{esc(k)} {n:,}" for k, n in sorted(ev["counts"][event].items(), key=lambda kv: -kv[1]) if k)
        parts.append(f"{sum(ev['counts'][event].values()):,} {esc(event)}" + (f" ({why})" if why else ""))
    shown = f" The first {len(ev['rows']):,} in time order are listed." if ev["total"] > len(ev["rows"]) else ""
    caption = (
        ("; ".join(parts) + "." if parts else "No terminal lost or regained service in this run.") + shown
        + " From the run's service_events table; places from the borders shipped with leonet (admin-1 unit, country)."
    )
    head = ["time (UTC)", "terminal", "event", "reason", "place", "lat, lon"]
    return _table_card("Cut-offs and restorations", caption, "events", head, rows)


def _event_reason(r: dict) -> str:
    """The reason of a cut-off; at a restoration, the reason service had been lost for ("was policy")."""
    if not r["reason"] or r["reason"] == "served":
        return ""
    return _reason_chip(r["reason"], r["reason"] if r["event"] == "cut-off" else f"was {r['reason']}")


def _name(d: ReportData, g: int) -> str:
    return d.terminals.names[g] if 0 <= g < len(d.terminals) else f"terminal {g}"


def _utc(d: ReportData, t_ns: list[int]) -> list[str]:
    return times(d.headline["epoch_utc"], np.array(t_ns, dtype=np.int64)) if t_ns else []


def _lat_lon(lat: float, lon: float) -> str:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return "—"
    return f"{abs(lat):.3f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.3f}° {'E' if lon >= 0 else 'W'}"


def _latency_table(d: ReportData) -> str:
    """Mean, median and 95th percentile of each part of the modelled RTT."""
    lat = d.latency
    if lat is None or not lat["parts"]:
        return ""
    total = sum(p["mean_ms"] for p in lat["parts"] if math.isfinite(p["mean_ms"]))
    rows = [
        f"<tr><td>{esc(p['label'])}</td><td class=mono>{esc(p['column'])}</td><td class=n>{_n(p['mean_ms'], '.2f')}</td>"
        f"<td class=n>{_n(p['p50_ms'], '.2f')}</td><td class=n>{_n(p['p95_ms'], '.2f')}</td>"
        f"<td class=n>{_n(100.0 * p['mean_ms'] / total if total else float('nan'), '.1f')}</td></tr>"
        for p in lat["parts"]
    ]
    loss = f" Mean expected ping loss (loss_prob): {_n(lat['loss_pct'], '.2f')} %." if _ok(lat.get("loss_pct")) else ""
    caption = (
        "The parts of the modelled ping RTT over served terminal-steps, round trip; the means add up to the mean "
        f"rtt_ms ({_n(total, '.1f')} ms).{loss}"
    )
    return _table_card("Where the round trip goes", caption, "latency-parts", ["part", "column", "#mean ms", "#p50 ms", "#p95 ms", "#share of mean %"], rows)


def _probes_table(d: ReportData) -> str:
    p = d.pings
    if p is None or d.terminals is None:
        return ""
    rows = [
        f"<tr><td>{esc(_name(d, x['terminal']))}{' (drawn)' if x['terminal'] == p['terminal'] else ''}</td>"
        f"<td class=n>{x['pings']:,}</td><td class=n>{_n(x['interval_ms'], ',.0f')}</td><td class=n>{_n(x['loss_pct'], '.2f')}</td>"
        f"<td class=n>{_n(x['p05_ms'], '.1f')}</td><td class=n>{_n(x['p50_ms'], '.1f')}</td><td class=n>{_n(x['p95_ms'], '.1f')}</td></tr>"
        for x in p["probes"]
    ]
    caption = "Every [[probes]] series of the scenario (the pings table): modelled pings to the PoP, lost pings left out of the percentiles."
    return _table_card("Probes", caption, "probes", ["probe terminal", "#pings", "#interval ms", "#lost %", "#p5 ms", "#p50 ms", "#p95 ms"], rows)


def _action_chip(action: str) -> str:
    colour = {"deny": "#c1121f", "allow": "#2b9348"}.get(action, "#6c757d")
    return f'<span class="chip" style="background:{colour}">{esc(action)}</span>'


def _footer(d: ReportData, size_note: str) -> str:
    skipped = "".join(f"<li>{esc(s)}</li>" for s in d.skipped)
    return f"""
<footer class="wrap foot">
  <h2>How to read this report</h2>
  <ul>
    <li><b>Served</b> counts terminal-steps: a terminal is served at a step when it has a serving satellite and a
      route to a PoP. Steps of inactive terminals and of moving terminals without a position are left out.</li>
    <li><b>RTT</b> (<span class="mono">rtt_ms</span>) is {_rtt_definition(d)}, over served steps.
      It is a model's answer, not a measurement.</li>
    <li><b>Handovers</b> are changes of serving satellite; losing or regaining service is not counted.</li>
    <li><b>Moving terminals</b> are drawn where they were at each step (terminal_positions), not at the first fix the
      terminals table holds. Steps without a position (a gap in the track: reason no-position), before a track starts
      and after it ends are left out of every figure but the map, like those of an inactive terminal.</li>
    <li><b>Cut-offs and restorations</b> are changes between served and not served, as the run recorded them
      (service_events).</li>
    <li>Time series with more than {1200:,} steps are averaged into buckets of whole steps.</li>
  </ul>
  {f'<h3>Not in this run</h3><ul class="skipped">{skipped}</ul>' if skipped else ''}
  <p class="small">Generated by leonet {esc(__version__)} from the run <span class="mono">{esc(d.run_dir.resolve().name)}</span>
  at {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC. {esc(size_note)} This file is self-contained and makes no
  network requests (plotly.js {esc(_plotly_version())} is embedded).</p>
</footer>"""


def _rtt_words(d: ReportData) -> str:
    return "modelled ping RTT to the PoP" if _modelled(d) else "propagation round trip to the PoP"


def _modelled(d: ReportData) -> bool:
    return "propagation_rtt_ms" in d.tables.get("terminal_steps", {})


def _rtt_definition(d: ReportData) -> str:
    path = "terminal → satellite → lasers → gateway → fibre → PoP and back"
    if _modelled(d):
        return (
            f"the modelled round trip of a ping from the dish to its PoP ({path}): the propagation floor "
            "(<span class=\"mono\">propagation_rtt_ms</span>) plus MAC access, processing, queueing and the "
            "reconfiguration pause of the latency model"
        )
    return f"the propagation round trip {path} (this run predates the latency model: no access, processing or queueing)"


def _plotly_version() -> str:
    try:
        from plotly.offline import get_plotlyjs_version

        return get_plotlyjs_version()
    except Exception:  # pragma: no cover - plotly without the helper
        return ""


CSS = """
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f4f6f8;--accent:#0b3d91}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1360px;margin:0 auto;padding:0 24px}
.top{background:linear-gradient(120deg,#0b1f3a 0%,#123a6b 100%);color:#fff;padding:22px 0 18px}
.brand{font-size:12px;letter-spacing:.12em;text-transform:uppercase;opacity:.75}
h1{margin:4px 0 4px;font-size:28px;font-weight:650}
.desc{margin:0 0 12px;max-width:980px;opacity:.88}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}
.facts div{min-width:0}
.facts dt{font-size:11px;text-transform:uppercase;letter-spacing:.06em;opacity:.65}
.facts dd{margin:0;font-size:13px}
.warn{background:#ffe8a3;color:#5c4400;padding:6px 10px;border-radius:6px;display:inline-block}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-top:-2px;padding-top:16px}
.kpi{background:#fff;border:1px solid var(--line);border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.kpi .k{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.kpi .v{font-size:28px;font-weight:650;line-height:1.2;margin-top:2px;font-variant-numeric:tabular-nums}
.kpi .u{font-size:13px;font-weight:500;color:var(--muted);margin-left:4px}
.kpi .s{font-size:12px;color:var(--muted);margin-top:2px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;margin-top:16px}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;margin:0;padding:14px 16px 10px;min-width:0;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.card.wide{grid-column:1/-1}
figcaption h2{font-size:16px;margin:0 0 2px;font-weight:650}
figcaption p{margin:0 0 6px;color:var(--muted);font-size:12.5px}
.chart{width:100%;min-height:200px}
.tablewrap{max-height:440px;overflow:auto}
table{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
th{position:sticky;top:0;background:#f8f9fa;text-align:left;font-weight:600;color:#3e4c59;border-bottom:1px solid var(--line);padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid #f0f2f4;padding:4px 8px}
.n{text-align:right}
.nw{white-space:nowrap}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px;color:#52606d}
.chip{color:#fff;border-radius:9px;padding:1px 8px;font-size:11px;white-space:nowrap}
.foot{color:var(--muted);font-size:12.5px;padding-top:18px;padding-bottom:28px}
.foot h2{font-size:14px;color:var(--ink);margin:8px 0 4px}.foot h3{font-size:13px;margin:8px 0 2px}
.foot ul{margin:4px 0 8px;padding-left:18px}.small{font-size:11.5px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
"""

_INIT_JS = """
(function () {
  var figs = JSON.parse(document.getElementById("leonet-figures").textContent);
  var config = JSON.parse(document.getElementById("leonet-plotly-config").textContent);
  var drawn = [];
  Object.keys(figs).forEach(function (id) {
    var el = document.getElementById(id);
    if (el) {
      var f = figs[id];
      drawn.push(Plotly.newPlot(el, {data: f.data, layout: f.layout, frames: f.frames || [], config: config}));
    }
  });
  Promise.all(drawn).then(function () { document.body.setAttribute("data-report-ready", "1"); });
})();
"""


def _pair(cards) -> list[str]:
    """Cards in a two-column grid: a half-width card left without a partner is made wide."""
    out: list[str] = []
    pending: int | None = None
    for card in cards:
        wide = card.startswith('<figure class="card wide"')
        if wide and pending is not None:
            out[pending] = out[pending].replace('<figure class="card"', '<figure class="card wide"', 1)
            pending = None
        out.append(card)
        if not wide:
            pending = None if pending is not None else len(out) - 1
    if pending is not None:
        out[pending] = out[pending].replace('<figure class="card"', '<figure class="card wide"', 1)
    return out


def _core_cards(d: ReportData, figs: dict) -> list[str]:
    cards: list[str] = []
    if "fig-map" in figs:
        cards.append(_card("fig-map", "Map", _map_caption(d), wide=True))
    if "fig-service" in figs:
        b = d.reasons.bucket_s
        cards.append(_card("fig-service", "Service over time", f"Share of active terminals served (top) and why the others are not (bottom), per {b:g} s."))
    if "fig-rtt-terminals" in figs:
        cards.append(_card("fig-rtt-terminals", "RTT of selected terminals", f"The {_rtt_words(d)}; gaps are steps without service. Jumps are handovers and gateway changes."))
    if "fig-rtt-cdf" in figs:
        top = float(np.nanmax(d.rtt_cdf[0]["rtt_ms"]))
        cards.append(
            _card(
                "fig-rtt-cdf", "RTT distribution by region",
                f"Share of served terminal-steps at or below each RTT ({_rtt_words(d)}). The axis stops at {cdf_x_max_ms(d):.0f} ms; "
                f"the longest RTT is {top:.0f} ms (double-click the chart to see the tail). Click a legend entry to hide a region.",
            )
        )
    cards.append(_region_table(d))
    return cards


def _moving_cards(d: ReportData) -> list[str]:
    return [_moving_table(d), _events_table(d)]


def _latency_cards(d: ReportData, figs: dict) -> list[str]:
    cards: list[str] = []
    if "fig-latency" in figs:
        if d.latency["modelled"]:
            text = (
                "Distribution over served terminal-steps of <b>rtt_ms, the modelled ping RTT to the PoP</b> (what a ping "
                "from the dish would measure, by the latency model) and of its floor, the propagation round trip "
                "(propagation_rtt_ms). The gap between the curves is access, processing and queueing."
            )
        else:
            text = "Distribution of rtt_ms over served terminal-steps: this run predates the latency model, so it is the propagation round trip alone."
        cards.append(_card("fig-latency", "Modelled RTT and its propagation floor", text))
        cards.append(_latency_table(d))
    if "fig-pings" in figs:
        p = d.pings
        s = p["series"]
        how = (f"every ping ({s['t_ns'].size:,})" if not s["bucketed"]
               else f"{sum(x['pings'] for x in p['probes'] if x['terminal'] == p['terminal']):,} pings in buckets of {s['bucket_s']:.3g} s (min–max band, median)")
        text = (
            f"The probe of {esc(_name(d, p['terminal']))}: {how}, against the modelled RTT (rtt_ms) and propagation floor "
            "of its steps. Pings are modelled too (the latency model's draws at the probe's interval); lost pings are marked at 0 ms."
        )
        cards.append(_card("fig-pings", "Pings of a probe", text, wide=True))
        cards.append(_probes_table(d))
    return cards


def _service_cards(d: ReportData, figs: dict) -> list[str]:
    cards: list[str] = []
    if "fig-throughput" in figs:
        cards.append(_card("fig-throughput", "Throughput", "Rate given to each served terminal by max-min fair sharing."))
    if "fig-utilisation" in figs:
        cards.append(_card("fig-utilisation", "Utilisation", "Mean and maximum over the resources of each table, per time bucket."))
    if "fig-links" in figs:
        cards.append(_card("fig-links", "Network links", "Laser links up and down (beam below the altitude limit) and gateway feeder links in use."))
    if "fig-cost" in figs:
        cards.append(_card("fig-cost", "Cost by sponsor and month", "Who pays for keeping the fleets online, by calendar month (UTC)."))
        cards.append(_cost_table(d))
    return cards + [_rules_table(d), _faults_table(d), _terminal_table(d)]


def render_report(d: ReportData) -> str:
    """The report page of collected run data, as one HTML string."""
    figs = build_figures(d)
    meta = (d.manifest.get("scenario") or {}).get("scenario") or {}
    title = f"leonet report: {meta.get('name') or 'run'}"
    cards = _core_cards(d, figs) + _moving_cards(d) + _latency_cards(d, figs) + _service_cards(d, figs)
    body_cards = "".join(_pair(c for c in cards if c))

    fig_json = "{" + ",".join(
        f"{json.dumps(k)}:{pio.to_json(f, validate=False, engine='json')}" for k, f in figs.items()
    ) + "}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="leonet {esc(__version__)}">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        _header(d),
        _kpis(d),
        f'<main class="wrap grid">{body_cards}</main>',
        f'<script type="application/json" id="leonet-figures">{script_json(fig_json)}</script>',
        f'<script type="application/json" id="leonet-plotly-config">{script_json(json.dumps(_PLOTLY_CONFIG))}</script>',
        f"<script>{_plotly_js()}</script>",
        f"<script>{_INIT_JS}</script>",
        "</body></html>",
    ]
    size_mb = (sum(len(p.encode("utf-8")) for p in parts) + 3000) / 1e6
    parts.insert(-4, _footer(d, f"File size {size_mb:.1f} MB."))
    return "\n".join(parts)


def write_report(run_dir: Path | str, output: Path | str | None = None) -> Path:
    """Write the report of a run; return its path.

    Parameters
    ----------
    run_dir : path
        A run directory (``leonet run`` output).
    output : path, optional
        Default: ``run_dir / "report.html"``.

    Raises
    ------
    ScenarioError
        When ``run_dir`` is not a leonet run.
    """
    run_dir = Path(run_dir)
    data = collect(run_dir)
    page = render_report(data)
    out = Path(output) if output is not None else run_dir / REPORT_NAME
    write_bytes_atomic(out, page.encode("utf-8"))
    return out
