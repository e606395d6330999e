"""The report's charts, as plotly figures built from `ReportData`.

Every figure is a `plotly.graph_objects.Figure` (so plotly validates every
property when it is built) that `leonet.report.html` serialises once to JSON.
Only SVG trace types are used (``scatter``, ``bar``): no WebGL, which may be
missing in a headless or locked-down browser, and no geo/map subplots, which
load their base maps from the network (see `leonet.report.geo`).

User strings (terminal, region, sponsor, rule names) are given to plotly
*HTML-escaped* (`ptext`): plotly.js renders a subset of HTML tags in labels
and decodes entities before writing text nodes, so escaping makes any name
appear literally, ``<b>`` and ``<script>`` included.

Units: ms and Mbit/s here, as everywhere in the report (STYLE.md:
report-only units).
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale, sample_colorscale
from plotly.subplots import make_subplots

from . import geo
from .areas import shape_at
from .base import epoch_ms, times
from .data import ReportData, Series

__all__ = ["build_figures", "ptext", "FONT", "REASON_COLOURS"]

FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
SEA = "#dbe7f0"
LAND = "#f7f6f1"
BORDER = "#8a8f98"
ADMIN1 = "#c3c7cc"
GATEWAY = "#1d3557"
POP = "#c1121f"
SATELLITE = "#8d99ae"
SERVING = "#f77f00"
FAULT = "#d00000"

#: Colour of each reason a terminal-step is (not) served
#: (`leonet.scheduling.assign.REASON_NAMES`); others get `_OTHER`.
REASON_COLOURS = {
    "served": "#2a9d8f",
    "no-satellite": "#e9c46a",
    "no-gateway-path": "#f4a261",
    "policy": "#7b2cbf",
    "capacity": "#e76f51",
    "fault": "#d00000",
    "no-position": "#8d6e63",
    "unserved": "#e76f51",
}
_OTHER = ["#6c757d", "#adb5bd", "#495057", "#343a40"]
#: Distinct line colours (Okabe-Ito, colour-blind safe, then Tableau).
TRACKS = ["#3a0ca3", "#0077b6", "#7209b7", "#006d77", "#9d0208", "#5a189a"]
LINES = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7f7f7f", "#bcbd22", "#17becf", "#8c564b"]


def ptext(value) -> str:
    """A user string as plotly text: HTML-escaped, so plotly shows it literally."""
    return html.escape(str(value), quote=False)


def _num(value: float, fmt: str, unit: str = "") -> str:
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{value:{fmt}}{unit}"


def _base_layout(height: int, **extra) -> dict:
    layout = dict(
        template="none",
        height=height,
        margin=dict(l=64, r=24, t=16, b=48),
        font=dict(family=FONT, size=12, color=INK),
        paper_bgcolor="white",
        plot_bgcolor="white",
        hovermode="x unified",
        hoverlabel=dict(font=dict(family=FONT, size=12)),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0, font=dict(size=11)),
        xaxis=dict(gridcolor=GRID, linecolor="#9aa5b1", zeroline=False, ticks="outside", tickcolor="#9aa5b1"),
        yaxis=dict(gridcolor=GRID, linecolor="#9aa5b1", zeroline=False, ticks="outside", tickcolor="#9aa5b1"),
    )
    layout.update(extra)
    return layout


def _f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _round(values, digits: int) -> np.ndarray:
    # Rounded float64 arrays serialise as exact short decimals... but plotly
    # base64-encodes numpy arrays whatever their values; float32 halves them.
    return np.round(np.asarray(values, dtype=np.float64), digits).astype(np.float32)


# --------------------------------------------------------------------------
# Map
# --------------------------------------------------------------------------


def availability_floor(served_pct: np.ndarray) -> float:
    """Bottom of the availability colour scale, %: the 10th percentile of the terminals, rounded down.

    Kept within [90, 99.5], so the scale resolves the differences that matter
    (99.5 vs 100 %) even when a few terminals get no service at all (a
    geofence); those are clamped to the bottom colour, labelled "≤".
    """
    finite = served_pct[np.isfinite(served_pct)]
    if finite.size == 0:
        return 99.0
    p10 = float(np.percentile(finite, 10))
    for step in (0.5, 1.0, 5.0):
        if p10 >= 100.0 - 10 * step:
            return float(min(max(math.floor(p10 / step) * step, 90.0), 99.5))
    return 90.0


def map_figure(d: ReportData, colour_modes: list[str]) -> go.Figure:
    """Terminals, gateways, PoPs, service areas and a satellite snapshot on the shipped borders.

    Parameters
    ----------
    d : ReportData
        The run's report data; ``d.view`` frames the map.
    colour_modes : list of str
        Terminal colourings offered, first shown: ``"availability"``,
        ``"rtt"``, ``"throughput"``.  Two or more add buttons that restyle
        the terminal trace.

    Returns
    -------
    plotly.graph_objects.Figure
        Lon/lat in degrees on an equirectangular view; layers drawn bottom
        to top in the order of the calls below.
    """
    fig = go.Figure()
    _add_borders(fig, d.view)
    dated = _add_areas(fig, d)
    _add_user_links(fig, d)
    _add_ground_tracks(fig, d)
    _add_backhaul(fig, d)
    _add_satellites(fig, d)
    _add_ground_sites(fig, d)
    _add_moving_tracks(fig, d)
    buttons = []
    terminals = _terminal_trace(d, colour_modes)
    if terminals is not None:
        trace, styles = terminals
        fig.add_trace(trace)
        if len(colour_modes) > 1:
            buttons = _colour_buttons(colour_modes, styles, len(fig.data) - 1)
    _add_moving_events(fig, d)
    now = _add_moving_now(fig, d)
    slider = d.frame_t_ns.size > 0 and (now is not None or bool(dated))
    _map_layout(fig, d.view, buttons, slider=slider)
    if slider:
        _add_slider(fig, d, now, dated)
    return fig


def _add_borders(fig: go.Figure, v: geo.View) -> None:
    """Land filled within the country borders, then first-level admin borders, under everything else."""
    land = geo.country_outlines(v)
    fig.add_trace(
        go.Scatter(
            x=land.lon_deg, y=land.lat_deg, mode="lines", fill="toself", fillcolor=LAND,
            line=dict(color=BORDER, width=0.8), hoverinfo="skip", showlegend=False, name="countries",
        )
    )
    adm1 = geo.admin1_outlines(v)
    if len(adm1):
        fig.add_trace(
            go.Scatter(
                x=adm1.lon_deg, y=adm1.lat_deg, mode="lines", line=dict(color=ADMIN1, width=0.6),
                hoverinfo="skip", showlegend=False, name="admin-1",
            )
        )


def _area_style(action: str) -> dict:
    deny = action == "deny"
    return dict(
        fillcolor="rgba(193,18,31,0.18)" if deny else "rgba(43,147,72,0.08)",
        line=dict(color="#c1121f" if deny else "#2b9348", width=1.6, dash="solid" if deny else "dash"),
    )


def _area_at(area: dict, t_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """The outline of a dated rule's shape in force at ``t_ns`` (empty when none is)."""
    k = shape_at(area["shapes"], int(t_ns))
    if k < 0 or not len(area["shapes"][k]["lines"]):
        return np.array([np.nan], np.float32), np.array([np.nan], np.float32)
    lines = area["shapes"][k]["lines"]
    return lines.lon_deg, lines.lat_deg


def _add_dated_area(fig: go.Figure, d: ReportData, area: dict) -> int:
    """Every shape of a dated rule as a faint dotted outline, and the shape in force at the slider's time; returns its trace."""
    xs, ys, text = [], [], []
    for shape in area["shapes"]:
        lines = shape["lines"]
        xs += [lines.lon_deg, np.array([np.nan], np.float32)]
        ys += [lines.lat_deg, np.array([np.nan], np.float32)]
        text += [f"{ptext(area['name'])}<br>{shape['label']}"] * (len(lines) + 1)
    colour = _area_style(area["action"])["line"]["color"]
    fig.add_trace(go.Scatter(
        x=np.concatenate(xs), y=np.concatenate(ys), mode="lines", line=dict(color=colour, width=0.8, dash="dot"),
        name=ptext(f"{area['action']}: {area['name']} (every dated shape)"), hoverinfo="text", hovertext=text,
    ))
    x, y = _area_at(area, d.frame_t_ns[0] if d.frame_t_ns.size else 0)
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="lines", fill="toself", **_area_style(area["action"]),
        name=ptext(f"{area['action']}: {area['name']} (in force at the slider's time)"), hoveron="fills", hoverinfo="name",
    ))
    return len(fig.data) - 1


def _add_areas(fig: go.Figure, d: ReportData) -> dict[int, dict]:
    """Policy service areas (deny: red, solid; allow: green, dashed), then fault areas (orange, dash-dot).

    Returns the traces of dated rules (trace number -> rule), which the time slider redraws.
    """
    dated = {}
    for area in d.service_areas:
        if area.get("shapes"):
            dated[_add_dated_area(fig, d, area)] = area
            continue
        lines = area["lines"]
        if lines is None or not len(lines):
            continue
        fig.add_trace(
            go.Scatter(
                x=lines.lon_deg, y=lines.lat_deg, mode="lines", fill="toself", **_area_style(area["action"]),
                name=ptext(f"{area['action']}: {area['name']}"), hoveron="fills", hoverinfo="name",
            )
        )
    for fault in d.faults:
        lines = fault["lines"]
        if lines is None or not len(lines):
            continue
        fig.add_trace(
            go.Scatter(
                x=lines.lon_deg, y=lines.lat_deg, mode="lines", fill="toself", fillcolor="rgba(247,127,0,0.12)",
                line=dict(color=FAULT, width=1.4, dash="dashdot"),
                name=ptext(f"{fault['kind']}: {fault['name']}"), hoveron="fills", hoverinfo="name",
            )
        )
    return dated


def _add_user_links(fig: go.Figure, d: ReportData) -> None:
    """Terminal -> serving satellite sub-point segments at the snapshot time, one trace, NaN-separated."""
    snap = d.snapshot
    if snap is None or d.terminals is None or not snap["links"]:
        return
    xs, ys = [], []
    moving = d.moving_ids
    for t, (slat, slon) in snap["links"]:
        if t in moving:
            continue  # its row in the terminals table is its first fix, not where it is at the snapshot
        xs += [d.terminals.lon_deg[t], slon, np.nan]
        ys += [d.terminals.lat_deg[t], slat, np.nan]
    fig.add_trace(
        go.Scatter(
            x=_f32(xs), y=_f32(ys), mode="lines", line=dict(color="rgba(247,127,0,0.28)", width=0.6),
            hoverinfo="skip", name=f"user links ({snap['t_utc'][11:]} UTC)",
        )
    )


def _add_ground_tracks(fig: go.Figure, d: ReportData) -> None:
    """Ground tracks of the chosen satellites, one legend entry for them all."""
    for k, track in enumerate(d.tracks):
        fig.add_trace(
            go.Scatter(
                x=_round(track["lon_deg"], 3), y=_round(track["lat_deg"], 3), mode="lines",
                line=dict(color=TRACKS[k % len(TRACKS)], width=1.4, dash="dot"),
                name=f"ground tracks ({len(d.tracks)} {'serving ' if any(t['terminals'] for t in d.tracks) else ''}satellites)", legendgroup="tracks", showlegend=k == 0,
                hovertemplate=ptext(track["name"]) + "<br>%{y:.2f}°, %{x:.2f}°<extra>ground track</extra>",
            )
        )


def _add_backhaul(fig: go.Figure, d: ReportData) -> None:
    """Gateway -> PoP fibre as straight dashed segments; pairs naming a missing site are skipped."""
    if d.gateways is None or d.pops is None or not d.backhaul:
        return
    xs, ys = [], []
    for g, p in d.backhaul:
        if g < len(d.gateways) and p < len(d.pops):
            xs += [d.gateways.lon_deg[g], d.pops.lon_deg[p], np.nan]
            ys += [d.gateways.lat_deg[g], d.pops.lat_deg[p], np.nan]
    fig.add_trace(
        go.Scatter(
            x=xs, y=ys, mode="lines", line=dict(color=GATEWAY, width=1.0, dash="dash"),
            hoverinfo="skip", name="gateway → PoP fibre",
        )
    )


def _add_satellites(fig: go.Figure, d: ReportData) -> None:
    """The snapshot's satellites: idle ones small and grey, serving ones as orange diamonds on top."""
    snap = d.snapshot
    if snap is None or not len(snap["sat"]):
        return
    idle = snap["serving"] == 0
    for mask, label, colour, size, symbol in (
        (idle, f"satellites ({snap['t_utc'][11:]} UTC)", SATELLITE, 4, "circle"),
        (~idle, "serving satellites", SERVING, 7, "diamond"),
    ):
        if not mask.any():
            continue
        idx = np.flatnonzero(mask)
        fig.add_trace(
            go.Scatter(
                x=_round(snap["lon_deg"][idx], 3), y=_round(snap["lat_deg"][idx], 3), mode="markers",
                marker=dict(color=colour, size=size, symbol=symbol, opacity=0.85, line=dict(width=0)),
                name=label,
                hovertext=[
                    f"{ptext(snap['name'][i])}<br>{ptext(snap['shell'][i])} · {snap['altitude_km'][i]:.0f} km"
                    + (f"<br>serving {snap['serving'][i]} terminals" if snap["serving"][i] else "")
                    for i in idx
                ],
                hoverinfo="text",
            )
        )


def _add_ground_sites(fig: go.Figure, d: ReportData) -> None:
    """Gateways (navy triangles) and PoPs (red squares)."""
    if d.gateways is not None and len(d.gateways):
        fig.add_trace(
            go.Scatter(
                x=d.gateways.lon_deg, y=d.gateways.lat_deg, mode="markers",
                marker=dict(color=GATEWAY, size=13, symbol="triangle-up", line=dict(color="white", width=1)),
                name="gateways", hoverinfo="text",
                hovertext=[f"gateway {ptext(i)}<br>{ptext(n)}" for i, n in zip(d.gateways.ids, d.gateways.names)],
            )
        )
    if d.pops is not None and len(d.pops):
        fig.add_trace(
            go.Scatter(
                x=d.pops.lon_deg, y=d.pops.lat_deg, mode="markers",
                marker=dict(color=POP, size=14, symbol="square", line=dict(color="white", width=1)),
                name="PoPs", hoverinfo="text",
                hovertext=[f"PoP {ptext(i)}<br>{ptext(n)}" for i, n in zip(d.pops.ids, d.pops.names)],
            )
        )


def _terminal_hover(d: ReportData) -> list[str]:
    """Hover text of every terminal: name, region, served share, RTT, throughput, handovers."""
    st = d.terminal_stats
    names = d.terminals.names
    return [
        f"<b>{ptext(names[t])}</b><br>{ptext(d.terminals.regions[t] or d.terminals.countries[t])}"
        f"<br>served {_num(100 * st['served_share'][t], '.2f', ' %')}"
        f"<br>RTT p50 {_num(st['rtt_p50_ms'][t], '.1f', ' ms')} · p95 {_num(st['rtt_p95_ms'][t], '.1f', ' ms')}"
        + (f"<br>throughput p50 {_num(st['throughput_p50_mbps'][t], '.1f', ' Mbit/s')}" if d.headline.get("throughput") else "")
        + f"<br>handovers {_num(st['handovers_per_hour'][t], '.0f', ' /h')}"
        for t in range(len(names))
    ]


def _colour_styles(d: ReportData, idx: np.ndarray, colour_modes: list[str]) -> dict[str, dict]:
    """Per colour mode, the terminal marker's restyle properties (plotly attribute path -> value).

    ``idx`` (intp[N]) are the terminals drawn (those with steps).
    Availability is clamped at `availability_floor`, its lowest tick then
    labelled "≤"; RTT uses a reversed scale so that green-ish means short.
    """
    st = d.terminal_stats
    served = 100.0 * st["served_share"][idx]
    lo = availability_floor(served)
    modes = {
        "availability": (np.maximum(served, lo), "served %", "RdYlGn", lo, 100.0, False),
        "rtt": (st["rtt_p50_ms"][idx], "median RTT, ms", "Viridis", None, None, True),
        "throughput": (st["throughput_p50_mbps"][idx], "median Mbit/s", "Viridis", None, None, False),
    }
    clamped = bool(served.size) and float(np.nanmin(served)) < lo
    styles = {}
    for mode in colour_modes:
        values, title, scale, cmin, cmax, reverse = modes[mode]
        ticks = np.linspace(cmin, cmax, 5) if cmin is not None else None
        styles[mode] = {
            "marker.color": [None if not math.isfinite(x) else round(float(x), 3) for x in values],
            # Explicit [position, colour] lists: plotly.js knows fewer scale
            # names than plotly (no RdYlGn), and restyle passes names through.
            "marker.colorscale": [[float(p), c] for p, c in get_colorscale(scale)],
            "marker.reversescale": reverse,
            "marker.cauto": cmin is None,
            "marker.cmin": cmin,
            "marker.cmax": cmax,
            "marker.colorbar.title.text": title,
            "marker.colorbar.tickmode": "auto" if ticks is None else "array",
            "marker.colorbar.tickvals": None if ticks is None else [float(t) for t in ticks],
            "marker.colorbar.ticktext": None if ticks is None else [("≤ " if k == 0 and clamped else "") + f"{t:g}" for k, t in enumerate(ticks)],
        }
    return styles


def _terminal_trace(d: ReportData, colour_modes: list[str]) -> tuple[go.Scatter, dict[str, dict]] | None:
    """The terminals as one marker trace coloured by the first mode, and every mode's restyle.

    One trace whose marker the colour buttons restyle (values, scale,
    colour bar), so hover texts are written once whatever the modes.
    None when the run has no terminals or no per-terminal statistics.
    """
    if d.terminals is None or d.terminal_stats is None or not len(d.terminals):
        return None
    hover = _terminal_hover(d)
    # Moving terminals are drawn as their tracks (`_add_moving`), not at their first fix.
    steps = d.terminal_stats["steps"] > 0
    steps[sorted(t for t in d.moving_ids if t < steps.size)] = False
    idx = np.flatnonzero(steps)
    if idx.size == 0:
        return None
    styles = _colour_styles(d, idx, colour_modes)
    first = styles[colour_modes[0]]
    marker = dict(
        color=first["marker.color"], colorscale=first["marker.colorscale"], reversescale=first["marker.reversescale"],
        size=9, opacity=0.95, line=dict(color="#333", width=0.5),
        colorbar=dict(
            title=dict(text=first["marker.colorbar.title.text"], side="right"), thickness=12, len=0.8, x=1.0,
            xanchor="left", xpad=10, tickmode=first["marker.colorbar.tickmode"],
        ),
    )
    if first["marker.cmin"] is not None:
        marker.update(cmin=first["marker.cmin"], cmax=first["marker.cmax"])
        marker["colorbar"].update(tickvals=first["marker.colorbar.tickvals"], ticktext=first["marker.colorbar.ticktext"])
    trace = go.Scatter(
        x=_round(d.terminals.lon_deg[idx], 4), y=_round(d.terminals.lat_deg[idx], 4), mode="markers",
        marker=marker, name="terminals", hoverinfo="text", hovertext=[hover[t] for t in idx],
    )
    return trace, styles


def _colour_buttons(colour_modes: list[str], styles: dict[str, dict], trace: int) -> list[dict]:
    """One restyle button per colour mode, acting on trace number *trace* only."""
    labels = {"availability": "Colour: availability", "rtt": "Colour: median RTT", "throughput": "Colour: throughput"}
    buttons = []
    for mode in colour_modes:
        args = {k: [v] for k, v in styles[mode].items()}
        buttons.append(dict(label=labels[mode], method="restyle", args=[args, [trace]]))
    return buttons


def _map_layout(fig: go.Figure, v: geo.View, buttons: list[dict], slider: bool = False) -> None:
    """Size the map to its view, put the legend under it, lock the aspect, add the colour buttons (and room for a time slider)."""
    # The map card is ~1,150 px wide for the plot itself at a 1,400 px window;
    # the view was widened to MAP_ASPECT, so this height fills that width.
    # Legend rows below the map, ~5 entries a row.
    entries = sum(1 for t in fig.data if t.showlegend is not False and t.visible is not False)
    bottom = 30 + 22 * math.ceil(max(entries, 1) / 5)
    top = (40 if buttons else 10) + (SLIDER_PX if slider else 0)
    height = int(min(max(1080 / max(v.aspect, 0.3), 420), 820)) + top + bottom
    fig.update_layout(
        _base_layout(
            height,
            hovermode="closest",
            plot_bgcolor=SEA,
            margin=dict(l=44, r=96, t=top, b=bottom, autoexpand=False),
            legend=dict(
                orientation="h", yanchor="top", y=-28 / max(height - bottom, 1), xanchor="left", x=0, font=dict(size=11),
                bgcolor="rgba(255,255,255,0)", entrywidth=0, itemwidth=30,
            ),
            dragmode="pan",
        )
    )
    fig.update_xaxes(
        range=[v.lon_min_deg, v.lon_max_deg], ticksuffix="°", showgrid=True, gridcolor="rgba(255,255,255,0.7)",
        constrain="domain", zeroline=False, mirror=True, linecolor="#9aa5b1",
    )
    fig.update_yaxes(
        range=[v.lat_min_deg, v.lat_max_deg], ticksuffix="°", showgrid=True, gridcolor="rgba(255,255,255,0.7)",
        scaleanchor="x", scaleratio=v.y_scale, constrain="domain", zeroline=False, mirror=True, linecolor="#9aa5b1",
    )
    if buttons:
        fig.update_layout(
            updatemenus=[dict(
                type="buttons", direction="right", buttons=buttons, x=0.0, xanchor="left", y=1.0, yanchor="bottom",
                pad=dict(b=10 + (SLIDER_PX if slider else 0)), bgcolor="white", bordercolor="#9aa5b1", font=dict(size=11), showactive=True, active=0,
            )]
        )


# --------------------------------------------------------------------------
# Moving terminals on the map
# --------------------------------------------------------------------------

#: Height of the time slider above the map, px.
SLIDER_PX = 64
#: Served steps of moving terminals are coloured by the modelled RTT in these bands (ms): lower bound, label, colour.
RTT_BANDS = (
    (0.0, "served, RTT < 30 ms", "#1a9641"),
    (30.0, "served, RTT 30–50 ms", "#78c679"),
    (50.0, "served, RTT 50–80 ms", "#fdae61"),
    (80.0, "served, RTT ≥ 80 ms", "#d7191c"),
)
MOVING_LINE = "#52606d"
NOW = "#111827"


def rtt_band(rtt_ms: float) -> int:
    """Index of the `RTT_BANDS` band of a served step's RTT (a NaN RTT goes to the first band)."""
    k = 0
    for j, (lo, _, _) in enumerate(RTT_BANDS):
        if rtt_ms >= lo:
            k = j
    return k


def _state_colour(state: str, rtt_ms: float) -> str:
    if state == "served":
        return RTT_BANDS[rtt_band(rtt_ms)][2]
    return REASON_COLOURS.get(state, _OTHER[0])


def _tname(d: ReportData, g: int) -> str:
    """A terminal's name (a table naming an index the terminals table lacks gets a placeholder, not an IndexError)."""
    return d.terminals.names[g] if 0 <= g < len(d.terminals) else f"terminal {g}"


def _hhmmss(d: ReportData, t_ns) -> list[str]:
    return [t[11:19] for t in times(d.headline["epoch_utc"], np.asarray(t_ns, dtype=np.int64))]


def _step_text(name: str, clock: str | None, state: str, rtt_ms: float) -> str:
    """Hover text of a moving terminal's step, kept short (there can be thousands): name, time, RTT or reason."""
    what = f"RTT {rtt_ms:.1f} ms" if state == "served" and math.isfinite(rtt_ms) else (
        "served" if state == "served" else f"not served: {ptext(state)}")
    return f"<b>{ptext(name)}</b><br>" + (f"{clock} · " if clock else "") + what


def _add_moving_tracks(fig: go.Figure, d: ReportData) -> None:
    """Each moving terminal's decimated track: one line for all, then its steps as markers by state.

    Served steps are circles coloured by `RTT_BANDS`; unserved steps crosses
    in the colour of their reason (`REASON_COLOURS`), one trace per band and
    reason so that each has its legend entry.
    """
    m = d.moving
    if m is None or not m.tracks or d.terminals is None:
        return
    xs, ys, groups = [], [], {}
    for tr in m.tracks:
        wraps = _break_lines(tr.lat_deg, tr.lon_deg)
        xs += [wraps[1], [np.nan]]
        ys += [wraps[0], [np.nan]]
        clock = _hhmmss(d, tr.t_ns)
        for k, state in enumerate(tr.state):
            if state == "no-position":
                continue  # nowhere known: the line breaks there (NaN), no marker
            key = ("served", rtt_band(tr.rtt_ms[k])) if state == "served" else ("unserved", state)
            g = groups.setdefault(key, ([], [], []))
            g[0].append(tr.lon_deg[k])
            g[1].append(tr.lat_deg[k])
            g[2].append(_step_text(_tname(d, tr.terminal), clock[k], state, tr.rtt_ms[k]))
    fig.add_trace(go.Scatter(
        x=_round(np.concatenate(xs), 4), y=_round(np.concatenate(ys), 4), mode="lines", connectgaps=False,
        line=dict(color=MOVING_LINE, width=1.2), hoverinfo="skip", name=f"tracks of {len(m.tracks)} moving terminals",
    ))
    for key in sorted(groups, key=lambda k: (k[0] != "served", str(k[1]))):
        lon, lat, text = groups[key]
        served = key[0] == "served"
        colour = RTT_BANDS[key[1]][2] if served else REASON_COLOURS.get(key[1], _OTHER[0])
        fig.add_trace(go.Scatter(
            x=_round(lon, 4), y=_round(lat, 4), mode="markers", hovertext=text, hoverinfo="text",
            name=RTT_BANDS[key[1]][1] if served else f"not served: {ptext(key[1])}",
            marker=dict(color=colour, size=5 if served else 7, symbol="circle" if served else "x-thin-open",
                        line=dict(color=colour, width=1.6) if not served else dict(width=0)),
        ))


def _break_lines(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NaN where a track crosses the antimeridian, so no segment spans the map."""
    jumps = np.flatnonzero(np.abs(np.diff(lon)) > 180.0) + 1
    return np.insert(lat, jumps, np.nan), np.insert(lon, jumps, np.nan)


def _add_moving_events(fig: go.Figure, d: ReportData) -> None:
    """The moving terminals' cut-offs (▼, in the reason's colour) and restorations (▲) where they happened."""
    if d.events is None or not d.events["markers"] or d.terminals is None:
        return
    for event, symbol in (("cut-off", "triangle-down"), ("restored", "triangle-up")):
        rows = [r for r in d.events["markers"] if r["event"] == event and math.isfinite(r["lat_deg"])]
        if not rows:
            continue
        clock = _hhmmss(d, [r["t_ns"] for r in rows])
        fig.add_trace(go.Scatter(
            x=_round([r["lon_deg"] for r in rows], 4), y=_round([r["lat_deg"] for r in rows], 4), mode="markers",
            name="cut-offs" if event == "cut-off" else "restorations", hoverinfo="text",
            marker=dict(
                symbol=symbol, size=10, opacity=0.9, line=dict(color=INK, width=0.8),
                color=[REASON_COLOURS.get(r["reason"], FAULT) if event == "cut-off" else REASON_COLOURS["served"] for r in rows],
            ),
            hovertext=[
                f"<b>{ptext(_tname(d, r['terminal']))}</b><br>{event} at {c} UTC"
                + (f"<br>reason: {ptext(r['reason'])}" if r["reason"] else "")
                for r, c in zip(rows, clock)
            ],
        ))


def _now_style(d: ReportData, i: int) -> dict:
    """Positions, colours and hover texts of the animated terminals at frame ``i``."""
    m = d.moving
    lat, lon, rtt = m.frame_lat_deg[i], m.frame_lon_deg[i], m.frame_rtt_ms[i]
    states = m.frame_state[i]
    return dict(
        x=_round(lon, 4), y=_round(lat, 4),
        marker=dict(color=[_state_colour(s, r) for s, r in zip(states, rtt)]),
        # The slider shows the time: the frames' hover texts leave it out.
        hovertext=[_step_text(_tname(d, g), None, s, r) for g, s, r in zip(m.animated, states, rtt)],
    )


def _add_moving_now(fig: go.Figure, d: ReportData) -> int | None:
    """The animated terminals at the slider's time (labelled markers); returns the trace's number."""
    m = d.moving
    if m is None or not m.animated or m.frame_t_ns.size == 0 or d.terminals is None:
        return None
    first = _now_style(d, 0)
    fig.add_trace(go.Scatter(
        x=first["x"], y=first["y"], mode="markers+text", hoverinfo="text", hovertext=first["hovertext"],
        text=[ptext(_tname(d, g)) for g in m.animated], textposition="top center",
        textfont=dict(size=11, color=NOW),
        marker=dict(size=15, symbol="circle", color=first["marker"]["color"], line=dict(color=NOW, width=2)),
        name="moving terminals at the slider's time",
    ))
    return len(fig.data) - 1


def _frame_data(d: ReportData, i: int, now: int | None, dated: dict[int, dict]) -> tuple[list[int], list[go.Scatter]]:
    """The traces frame ``i`` redraws: the animated terminals and the shapes of dated rules in force then."""
    traces, data = [], []
    if now is not None:
        style = _now_style(d, i)
        traces.append(now)
        data.append(go.Scatter(x=style["x"], y=style["y"], hovertext=style["hovertext"], marker=dict(color=style["marker"]["color"])))
    for k, area in dated.items():
        x, y = _area_at(area, d.frame_t_ns[i])
        traces.append(k)
        data.append(go.Scatter(x=x, y=y))
    return traces, data


def _add_slider(fig: go.Figure, d: ReportData, now: int | None, dated: dict[int, dict]) -> None:
    """Frames of the animated terminals and dated service areas, and a time slider (with play/pause) above the map."""
    clock = [t[11:19] for t in times(d.headline["epoch_utc"], d.frame_t_ns)]
    if len(set(clock)) < len(clock):  # a run longer than a day: the date too
        clock = [t[:19] for t in times(d.headline["epoch_utc"], d.frame_t_ns)]
    frames, steps = [], []
    for i, label in enumerate(clock):
        traces, data = _frame_data(d, i, now, dated)
        frames.append(go.Frame(name=label, traces=traces, data=data))
        steps.append(dict(method="animate", label=label, args=[[label], _ANIMATE_NOW]))
    fig.frames = frames
    what = "moving terminals" if now is not None else "service areas"
    fig.update_layout(
        sliders=[dict(
            active=0, steps=steps, x=0.09, len=0.91, xanchor="left", y=1.0, yanchor="bottom", pad=dict(t=0, b=4),
            currentvalue=dict(prefix=f"{what} at ", suffix=" UTC", font=dict(size=12)),
            ticklen=3, minorticklen=0, font=dict(size=9), tickcolor="#9aa5b1",
        )],
    )
    play = dict(
        type="buttons", direction="right", x=0.0, xanchor="left", y=1.0, yanchor="bottom", pad=dict(b=14),
        bgcolor="white", bordercolor="#9aa5b1", font=dict(size=11), showactive=False,
        buttons=[
            dict(label="▶", method="animate", args=[None, {**_ANIMATE_NOW, "frame": {"duration": 250, "redraw": False}, "fromcurrent": True}]),
            dict(label="❚❚", method="animate", args=[[None], _ANIMATE_NOW]),
        ],
    )
    fig.update_layout(updatemenus=list(fig.layout.updatemenus) + [play])


#: Jump to a frame at once (no tween: positions are not interpolated between frames by the browser).
_ANIMATE_NOW = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}}


# --------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------


def latency_figure(d: ReportData) -> go.Figure:
    """Distribution of the modelled ping RTT and of its propagation floor over served terminal-steps."""
    lat = d.latency
    levels = 100.0 * lat["levels"]
    fig = go.Figure()
    curves = [("rtt_ms", "modelled ping RTT (rtt_ms)" if lat["modelled"] else "propagation RTT (rtt_ms)", LINES[0], "solid")]
    if lat["propagation_rtt_ms"] is not None:
        curves.append(("propagation_rtt_ms", "propagation floor (propagation_rtt_ms)", LINES[1], "dash"))
    for key, name, colour, dash in curves:
        fig.add_trace(go.Scatter(
            x=_round(lat[key], 3), y=levels, mode="lines", name=name, line=dict(color=colour, width=2, dash=dash),
            hovertemplate=f"{name}<br>%{{y:.1f}} % ≤ %{{x:.1f}} ms<extra></extra>",
        ))
    fig.update_layout(_base_layout(360, hovermode="closest"))
    top = float(np.nanmax(lat["rtt_ms"]))
    p99 = float(lat["rtt_ms"][int(round(0.99 * (len(lat["rtt_ms"]) - 1)))])
    fig.update_xaxes(title_text="round trip to the PoP, ms (served terminal-steps)", range=[0, min(1.3 * p99, 1.02 * top)])
    fig.update_yaxes(title_text="share ≤ RTT, %", range=[0, 100.5])
    return fig


def _ms_axis(d: ReportData, t_ns) -> np.ndarray:
    return epoch_ms(d.headline["epoch_utc"], t_ns)


def _ping_traces(fig: go.Figure, d: ReportData) -> None:
    """The drawn probe's pings: one marker each, or per bucket the median with a min-max band; lost pings at 0 ms."""
    s = d.pings["series"]
    x = _ms_axis(d, s["t_ns"])
    if not s["bucketed"]:
        ok = ~s["lost"]
        fig.add_trace(go.Scatter(
            x=x[ok], y=_round(s["rtt_ms"][ok], 3), mode="markers", name="pings (one marker each)",
            marker=dict(color=LINES[0], size=3, opacity=0.55, line=dict(width=0)),
            hovertemplate="%{x|%H:%M:%S.%L}<br>%{y:.1f} ms<extra>ping</extra>",
        ))
        lost_x = x[s["lost"]]
        lost_label = f"lost pings ({int(s['lost'].sum())})"
    else:
        b = f"{s['bucket_s']:.3g} s"
        fig.add_trace(go.Scatter(x=x, y=_round(s["max_ms"], 3), mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip", name="max"))
        fig.add_trace(go.Scatter(x=x, y=_round(s["min_ms"], 3), mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor="rgba(0,114,178,0.25)", name=f"pings: min–max per {b}", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=_round(s["p50_ms"], 3), mode="lines", line=dict(color=LINES[0], width=1),
                                 name=f"pings: median per {b}", hovertemplate="%{x|%H:%M:%S}<br>median %{y:.1f} ms<extra></extra>"))
        lost_x = x[s["lost"] > 0]
        lost_label = f"buckets with lost pings ({int(s['lost'].sum())} lost)"
    if lost_x.size:
        fig.add_trace(go.Scatter(
            x=lost_x, y=np.zeros(lost_x.size, np.float32), mode="markers", name=lost_label,
            marker=dict(color=FAULT, symbol="line-ns-open", size=10, line=dict(width=1.5, color=FAULT)),
            hovertemplate="%{x|%H:%M:%S.%L}<extra>lost</extra>",
        ))


def pings_figure(d: ReportData) -> go.Figure:
    """One probe's pings over time against its terminal's modelled RTT and propagation floor per step."""
    fig = go.Figure()
    _ping_traces(fig, d)
    model = d.pings["model"]
    if model is not None and model["t_ns"].size:
        x = _ms_axis(d, model["t_ns"])
        fig.add_trace(go.Scatter(x=x, y=_round(model["rtt_ms"], 3), mode="lines", line=dict(color=INK, width=1.4, shape="hv"),
                                 name="modelled RTT of the step (rtt_ms)", hovertemplate="%{y:.1f} ms<extra>rtt_ms</extra>"))
        if model["propagation_rtt_ms"] is not None:
            fig.add_trace(go.Scatter(x=x, y=_round(model["propagation_rtt_ms"], 3), mode="lines",
                                     line=dict(color=LINES[1], width=1.2, dash="dash", shape="hv"),
                                     name="propagation floor", hovertemplate="%{y:.1f} ms<extra>floor</extra>"))
    fig.update_layout(_base_layout(380, hovermode="closest"))
    fig.update_xaxes(type="date", hoverformat="%H:%M:%S.%L")
    fig.update_yaxes(title_text="RTT to the PoP, ms", rangemode="tozero")
    _fault_bands(fig, d)
    return fig


# --------------------------------------------------------------------------
# Time series
# --------------------------------------------------------------------------


def _time_axis(fig: go.Figure, series: Series, **kw) -> None:
    fig.update_xaxes(type="date", hoverformat="%H:%M:%S", **kw)


def _fault_bands(fig: go.Figure, d: ReportData) -> None:
    """Shade the windows of the scenario's faults on a time axis, labelled at the top."""
    for fault in d.faults:
        if fault["window"] is None:
            continue
        x0, x1 = fault["window"]
        fig.add_shape(
            type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, layer="below",
            fillcolor="rgba(208,0,0,0.07)", line=dict(width=0),
        )
        fig.add_annotation(
            x=x0, xref="x", y=1.0, yref="paper", xanchor="left", yanchor="top", showarrow=False,
            text=ptext(fault["name"]), font=dict(size=10, color=FAULT), bgcolor="rgba(255,255,255,0.6)",
        )


def service_figure(d: ReportData) -> go.Figure:
    """Served share over time (top) and unserved share by reason (bottom)."""
    s = d.reasons
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.5, 0.5])
    fig.add_trace(
        go.Scatter(
            x=s.t_utc, y=_round(s.columns["served"], 4), mode="lines", name="served",
            line=dict(color=REASON_COLOURS["served"], width=1.6),
            hovertemplate="%{y:.2f} %",
        ),
        row=1, col=1,
    )
    k = 0
    for reason, share in s.columns.items():
        if reason == "served":
            continue
        colour = REASON_COLOURS.get(reason) or _OTHER[k % len(_OTHER)]
        k += reason not in REASON_COLOURS
        fig.add_trace(
            go.Scatter(
                x=s.t_utc, y=_round(np.nan_to_num(share), 4), mode="lines", name=ptext(reason), stackgroup="unserved",
                line=dict(color=colour, width=0.8), fillcolor=colour, hovertemplate="%{y:.2f} %",
            ),
            row=2, col=1,
        )
    served = s.columns["served"]
    lo = float(np.nanmin(served)) if served.size and np.isfinite(served).any() else 0.0
    fig.update_layout(_base_layout(360))
    fig.update_yaxes(title_text="served, %", range=[max(0.0, min(lo - 0.5, 99.0)), 100.4], row=1, col=1, gridcolor=GRID)
    fig.update_yaxes(title_text="unserved, %", rangemode="tozero", row=2, col=1, gridcolor=GRID)
    fig.update_xaxes(type="date", hoverformat="%H:%M:%S", gridcolor=GRID, linecolor="#9aa5b1")
    _fault_bands(fig, d)
    return fig


def rtt_terminals_figure(d: ReportData) -> go.Figure:
    s = d.rtt_terminals
    fig = go.Figure()
    for k, (label, values) in enumerate(s.columns.items()):
        fig.add_trace(
            go.Scatter(
                x=s.t_utc, y=_round(values, 3), mode="lines", name=ptext(label),
                line=dict(color=LINES[k % len(LINES)], width=1.3), connectgaps=False, hovertemplate="%{y:.1f} ms",
            )
        )
    fig.update_layout(_base_layout(360))
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0, font=dict(size=10.5)))
    fig.update_yaxes(title_text="RTT, ms", rangemode="tozero")
    _time_axis(fig, s)
    _fault_bands(fig, d)
    return fig


def cdf_x_max_ms(d: ReportData) -> float:
    """Right end of the CDF chart's x axis: 1.5 x the 98th percentile of all terminals (the tail is one double-click away)."""
    q = d.rtt_cdf[0]["rtt_ms"]
    p98 = float(q[int(round(0.98 * (len(q) - 1)))])
    top = float(np.nanmax(np.concatenate([c["rtt_ms"] for c in d.rtt_cdf])))
    return min(max(1.5 * p98, 10.0), 1.02 * top) if math.isfinite(p98) else 1.02 * top


def rtt_cdf_figure(d: ReportData) -> go.Figure:
    levels = np.linspace(0.0, 100.0, len(d.rtt_cdf[0]["rtt_ms"]))
    fig = go.Figure()
    regional = [c for c in d.rtt_cdf if c["region"] != "All terminals"]
    # Regions come sorted by median RTT; colour them along a sequential scale
    # in that order, so the legend reads from the fastest (blue) to the slowest (yellow).
    colours = sample_colorscale("Viridis", list(np.linspace(0.0, 0.88, max(len(regional), 2))))
    for k, c in enumerate(regional):
        fig.add_trace(
            go.Scatter(
                x=_round(c["rtt_ms"], 3), y=levels, mode="lines", name=ptext(c["region"]),
                line=dict(color=colours[k], width=1.3),
                hovertemplate=ptext(c["region"]) + f" ({c['terminals']} terminals)<br>%{{y:.0f}} % ≤ %{{x:.1f}} ms<extra></extra>",
            )
        )
    for c in d.rtt_cdf:
        if c["region"] == "All terminals":
            fig.add_trace(
                go.Scatter(
                    x=_round(c["rtt_ms"], 3), y=levels, mode="lines", name="all terminals",
                    line=dict(color=INK, width=3),
                    hovertemplate="all terminals<br>%{y:.0f} % ≤ %{x:.1f} ms<extra></extra>",
                )
            )
    fig.update_layout(_base_layout(420, hovermode="closest"))
    fig.update_layout(
        legend=dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.01, font=dict(size=10)),
        margin=dict(l=64, r=8, t=16, b=48),
    )
    fig.update_xaxes(title_text="RTT, ms (served terminal-steps)", range=[0, cdf_x_max_ms(d)])
    fig.update_yaxes(title_text="share ≤ RTT, %", range=[0, 100.5])
    return fig


def throughput_figure(d: ReportData) -> go.Figure:
    s = d.throughput
    fig = go.Figure()
    styles = {"mean": ("mean (served)", LINES[0], "solid"), "p10": ("10th percentile", LINES[1], "solid"), "demand": ("mean demand", MUTED, "dot")}
    for key, values in s.columns.items():
        name, colour, dash = styles[key]
        fig.add_trace(go.Scatter(x=s.t_utc, y=_round(values, 3), mode="lines", name=name, line=dict(color=colour, width=1.4, dash=dash), hovertemplate="%{y:.1f} Mbit/s"))
    fig.update_layout(_base_layout(320))
    fig.update_yaxes(title_text="Mbit/s per terminal", rangemode="tozero")
    _time_axis(fig, s)
    _fault_bands(fig, d)
    return fig


def utilisation_figure(d: ReportData) -> go.Figure:
    fig = go.Figure()
    for k, u in enumerate(d.utilisation):
        s = u["series"]
        colour = LINES[k % len(LINES)]
        fig.add_trace(go.Scatter(x=s.t_utc, y=_round(s.columns["mean"], 3), mode="lines", name=ptext(u["label"] + " mean"), line=dict(color=colour, width=1.5), hovertemplate="%{y:.1f} %"))
        fig.add_trace(go.Scatter(x=s.t_utc, y=_round(s.columns["max"], 3), mode="lines", name=ptext(u["label"] + " max"), line=dict(color=colour, width=1.0, dash="dot"), hovertemplate="%{y:.1f} %"))
    fig.update_layout(_base_layout(320))
    fig.update_yaxes(title_text="utilisation, %", rangemode="tozero")
    fig.update_xaxes(type="date", hoverformat="%H:%M:%S")
    _fault_bands(fig, d)
    return fig


def links_figure(d: ReportData) -> go.Figure:
    s = d.links
    fig = go.Figure()
    styles = {
        "isl_active": ("laser links up", LINES[0], "y"),
        "isl_dropped": ("laser links down", LINES[1], "y"),
        "gateway_links": ("gateway feeder links", GATEWAY, "y2"),
    }
    for key, (name, colour, axis) in styles.items():
        if key in s.columns:
            fig.add_trace(go.Scatter(x=s.t_utc, y=_round(s.columns[key], 2), mode="lines", name=name, line=dict(color=colour, width=1.4), yaxis=axis, hovertemplate="%{y:,.0f}"))
    fig.update_layout(_base_layout(320))
    fig.update_layout(
        yaxis=dict(title=dict(text="laser links"), rangemode="tozero", gridcolor=GRID),
        yaxis2=dict(title=dict(text="feeder links"), overlaying="y", side="right", rangemode="tozero", showgrid=False),
        margin=dict(l=64, r=64, t=16, b=48),
    )
    fig.update_xaxes(type="date", hoverformat="%H:%M:%S")
    _fault_bands(fig, d)
    return fig


def cost_figure(d: ReportData) -> go.Figure:
    c = d.cost
    fig = go.Figure()
    for k, (sponsor, values) in enumerate(c["by_sponsor_month"].items()):
        fig.add_trace(
            go.Bar(
                x=[f"{m}-15" for m in c["months"]], y=np.round(values, 2), name=ptext(sponsor),
                marker=dict(color=LINES[k % len(LINES)], line=dict(width=0)),
                hovertemplate=ptext(sponsor) + "<br>%{x|%Y-%m}: $%{y:,.0f}<extra></extra>",
            )
        )
    fig.update_layout(_base_layout(360, barmode="stack", hovermode="closest"))
    fig.update_yaxes(title_text="cost, USD per month", tickprefix="$", separatethousands=True)
    fig.update_layout(bargap=0.08)
    fig.update_xaxes(type="date", title_text="month (UTC)", ticklabelmode="period")
    return fig


def build_figures(d: ReportData) -> dict[str, go.Figure]:
    """Figure id -> figure, for every section the run has data for."""
    figs: dict[str, go.Figure] = {}
    modes = ["availability", "rtt"] + (["throughput"] if d.headline.get("throughput") else [])
    if d.terminal_stats is None:
        modes = []
    figs["fig-map"] = map_figure(d, modes)
    if d.reasons is not None and d.reasons.t_utc:
        figs["fig-service"] = service_figure(d)
    if d.rtt_terminals is not None and d.rtt_terminals.columns:
        figs["fig-rtt-terminals"] = rtt_terminals_figure(d)
    if d.rtt_cdf:
        figs["fig-rtt-cdf"] = rtt_cdf_figure(d)
    if d.throughput is not None:
        figs["fig-throughput"] = throughput_figure(d)
    if d.utilisation:
        figs["fig-utilisation"] = utilisation_figure(d)
    if d.links is not None:
        figs["fig-links"] = links_figure(d)
    if d.cost is not None:
        figs["fig-cost"] = cost_figure(d)
    if d.latency is not None:
        figs["fig-latency"] = latency_figure(d)
    if d.pings is not None:
        figs["fig-pings"] = pings_figure(d)
    return figs
