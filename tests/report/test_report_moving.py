"""Moving terminals, cut-offs and latency in the report (issues 12 and 13), without a browser.

The run: the `report_scene.MOVING` scenario (a route into the Crimea deny rule,
a real GPX drive with gaps, a ping probe), with the engine's
``terminal_positions`` and ``service_events`` tables (`conftest.moving_run`).  Every
value the report shows is checked against the run's own tables read here
with pyarrow/pandas, or against an independent reference (the route's
great-circle length).
"""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from leonet.ground.motion import great_circle_m
from leonet.report import collect, render_report, write_report
from leonet.report import figures as report_figures
from leonet.report import latency as report_latency
from leonet.report import moving as report_moving
from leonet.results.query import open_run

from report_scene import MOVING_BOAT

BOAT_WAYPOINTS = [(46.45, 30.80), (45.19, 33.37), (44.95, 34.10)]


def _figures(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="leonet-figures">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def _table(run, sql: str) -> pd.DataFrame:
    con = open_run(run)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def moving_data(moving_run):
    return collect(moving_run)


@pytest.fixture(scope="module")
def moving_page(moving_run) -> str:
    return write_report(moving_run).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def joined(moving_run) -> pd.DataFrame:
    """Every moving terminal-step: position, status, served, reason, RTT (pandas, from the run's tables)."""
    return _table(
        moving_run,
        """SELECT p.t_ns, p.terminal, p.lat_deg, p.lon_deg, CAST(p.status AS VARCHAR) AS status, s.served,
                  CAST(s.reason AS VARCHAR) AS reason, s.rtt_ms
           FROM terminal_positions p JOIN terminal_steps s USING (t_ns, terminal) ORDER BY terminal, t_ns""",
    )


def _states(frame: pd.DataFrame) -> list[str]:
    return [
        "no-position" if st == "no-position" else "served" if served else reason
        for st, served, reason in zip(frame["status"], frame["served"], frame["reason"])
    ]


def test_moving_terminals_found_by_their_positions(moving_data, moving_run):
    ids = _table(moving_run, "SELECT index, id FROM terminals ORDER BY index")
    moving = sorted(ids.loc[ids["id"].str.startswith(("route:", "track:")), "index"].tolist())
    assert moving_data.moving.terminals == moving == [2, 3]
    assert moving_data.moving_ids == {2, 3}


def test_tracks_are_the_positions_with_every_change_of_state(moving_data, joined):
    for tr in moving_data.moving.tracks:
        rows = joined[(joined["terminal"] == tr.terminal) & (joined["status"] != "inactive")].reset_index(drop=True)
        assert tr.steps == len(rows)
        k = np.searchsorted(rows["t_ns"].to_numpy(), tr.t_ns)
        assert (rows["t_ns"].to_numpy()[k] == tr.t_ns).all()
        np.testing.assert_array_equal(tr.lat_deg, rows["lat_deg"].to_numpy()[k])
        np.testing.assert_array_equal(tr.lon_deg, rows["lon_deg"].to_numpy()[k])
        states = _states(rows)
        assert tr.state == [states[i] for i in k]
        served = np.array(tr.state) == "served"
        np.testing.assert_array_equal(tr.rtt_ms[served], rows["rtt_ms"].to_numpy()[k][served])
        assert np.isnan(tr.rtt_ms[~served]).all()
        # First step, last step, and the first step of every change of state are kept.
        changes = {0, len(rows) - 1} | {i for i in range(1, len(rows)) if states[i] != states[i - 1]}
        assert changes <= set(k.tolist())


def test_gaps_break_the_track(moving_data, joined):
    car = next(t for t in moving_data.moving.tracks if t.terminal == 3)
    gap = np.array(car.state) == "no-position"
    assert gap.any(), "the car's drive has gaps longer than max_gap_s = 20 s"
    assert np.isnan(car.lat_deg[gap]).all() and np.isnan(car.lon_deg[gap]).all()
    assert np.isfinite(car.lat_deg[~gap]).all()


def test_decimation_keeps_regular_steps_and_changes(moving_run, joined, monkeypatch):
    monkeypatch.setattr(report_moving, "MAX_MOVING_POINTS", 20)
    monkeypatch.setattr(report_moving, "MIN_POINTS_PER_TERMINAL", 10)
    d = collect(moving_run)
    cap = 10
    for tr in d.moving.tracks:
        rows = joined[(joined["terminal"] == tr.terminal) & (joined["status"] != "inactive")].reset_index(drop=True)
        n = len(rows)
        states = _states(rows)
        changes = [i for i in range(1, n) if states[i] != states[i - 1]]
        stride = math.ceil(n / cap)
        k = set(np.searchsorted(rows["t_ns"].to_numpy(), tr.t_ns).tolist())
        assert set(range(0, n, stride)) | {n - 1} <= k
        assert len(tr.t_ns) <= 2 * cap + 1 < n
        if len(changes) <= cap:
            assert set(changes) <= k


def test_distance_travelled_is_the_route_length(moving_data):
    # The boat's whole route (306 km at 1,200 km/h, 15 min) lies inside the 20-min run.
    lat = [w[0] for w in BOAT_WAYPOINTS]
    lon = [w[1] for w in BOAT_WAYPOINTS]
    route_km = float(great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum()) / 1000.0
    boat = moving_data.moving.stats[2]
    # Steps of 10 s (3.3 km) cut the one corner of the route by metres at most.
    assert boat["distance_km"] == pytest.approx(route_km, rel=2e-4)
    assert boat["max_speed_kmh"] == pytest.approx(1200.0, rel=1e-9)
    assert boat["no_position_pct"] == 0.0


def test_car_distance_leaves_gaps_out(moving_data, moving_run, joined):
    rows = joined[joined["terminal"] == 3].reset_index(drop=True)
    ok = (rows["status"] == "ok").to_numpy()
    both = ok[1:] & ok[:-1]
    legs = great_circle_m(rows["lat_deg"][:-1], rows["lon_deg"][:-1], rows["lat_deg"][1:], rows["lon_deg"][1:])
    sampled_km = float(legs[both].sum()) / 1000.0
    car = moving_data.moving.stats[3]
    terminals = _table(moving_run, "SELECT * FROM terminals ORDER BY index")
    if "distance_km" in terminals:
        # The engine's exact distance (connected legs inside the window) is the one shown and summed in the summary ...
        assert car["distance_km"] == terminals["distance_km"][3]
        # ... and the legs between steps with a position come close to it (a gap is left out of both).
        assert car["distance_km"] == pytest.approx(sampled_km, rel=0.05)
    else:
        assert car["distance_km"] == pytest.approx(sampled_km, rel=1e-9)
    nopos = int((rows["status"] == "no-position").sum())
    assert car["no_position_pct"] == pytest.approx(100.0 * nopos / int((rows["status"] != "inactive").sum()))


def test_served_share_and_handovers_of_moving_terminals(moving_data, moving_run):
    steps = _table(moving_run, "SELECT terminal, served, CAST(reason AS VARCHAR) AS reason FROM terminal_steps")
    ho = _table(moving_run, "SELECT terminal, count(*) AS n FROM handovers WHERE from_sat >= 0 AND to_sat >= 0 GROUP BY 1")
    st = moving_data.terminal_stats
    for g in (2, 3):
        mine = steps[steps["terminal"] == g]
        # As the run's summary counts availability: steps inactive or without a position are left out.
        counted = mine[~mine["reason"].isin(["inactive", "no-position"])]
        assert st["served_share"][g] == pytest.approx(counted["served"].mean())
        n = int(ho.loc[ho["terminal"] == g, "n"].sum())
        assert st["handovers_per_hour"][g] == pytest.approx(n / (len(counted) * 10.0 / 3600.0))
        in_run = mine[mine["reason"] != "inactive"]
        assert moving_data.moving.stats[g]["hours"] == pytest.approx(len(in_run) * 10.0 / 3600.0)
    car = steps[steps["terminal"] == 3]
    assert (car["reason"] == "no-position").any()


def test_events_table_lists_the_service_events(moving_data, moving_page, moving_run):
    ev = _table(moving_run, "SELECT t_ns, terminal, CAST(event AS VARCHAR) AS event, CAST(reason AS VARCHAR) AS reason, "
                            "lat_deg, lon_deg FROM service_events ORDER BY t_ns, terminal")
    rows = moving_data.events["rows"]
    assert [(r["t_ns"], r["terminal"], r["event"]) for r in rows] == list(zip(ev["t_ns"], ev["terminal"], ev["event"]))
    assert moving_data.events["total"] == len(ev)
    boat_cut = next(r for r in rows if r["terminal"] == 2 and r["event"] == "cut-off")
    assert boat_cut["reason"] == "policy" and "Crimea" in boat_cut["place"]
    for r in rows:
        if not math.isfinite(r["lat_deg"]):
            assert r["place"] == "position unknown"
    table = moving_page[moving_page.index('<table id="events">'):]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == len(ev) + 1
    first = ev.iloc[0]
    when = (pd.Timestamp("2026-05-30T12:00:00") + pd.Timedelta(int(first["t_ns"]), "ns")).strftime("%Y-%m-%d %H:%M:%S")
    assert when in table
    assert html.escape(MOVING_BOAT) in table and MOVING_BOAT not in moving_page


def test_events_are_capped(moving_run, monkeypatch):
    monkeypatch.setattr(report_moving, "MAX_EVENTS", 2)
    d = collect(moving_run)
    assert len(d.events["rows"]) == 2 < d.events["total"]
    assert "The first 2 in time order are listed" in render_report(d)


def test_events_not_recorded(unrecorded_run):
    d = collect(unrecorded_run)
    assert d.moving is not None and d.events is None
    page = render_report(d)
    assert 'id="events-not-recorded"' in page and "Not recorded" in page
    assert "not recorded (the run has no service_events table)" in page
    table = page[page.index('<table id="moving">'):]
    assert table[: table.index("</table>")].count("not recorded") == 2


def test_runs_without_the_new_tables(moving_static_run, core_run, bare_run):
    for run in (moving_static_run, core_run, bare_run):
        page = write_report(run).read_text(encoding="utf-8")
        figs = _figures(page)
        assert 'id="moving"' not in page and 'id="events"' not in page and "events-not-recorded" not in page
        names = [t.get("name") or "" for t in figs["fig-map"]["data"]]
        assert not any(n.startswith(("tracks of", "moving terminals at", "served, RTT")) for n in names)
        for slider in figs["fig-map"]["layout"].get("sliders", []):
            # Only the dated service area of the moving scenario has a slider here.
            assert slider["currentvalue"]["prefix"] == "service areas at "
    page = write_report(moving_static_run).read_text(encoding="utf-8")
    assert "moving terminals: the run has no terminal_positions table" in page
    assert "cut-offs and restorations: not recorded" in page


def test_static_terminals_trace_leaves_moving_ones_out(moving_page):
    fig = _figures(moving_page)["fig-map"]
    (terminals,) = [t for t in fig["data"] if t.get("name") == "terminals"]
    texts = " ".join(terminals["hovertext"])
    assert "Kyiv" in texts and "Lviv" in texts and "boat" not in texts and "Visnjan" not in texts


def _decode(value) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array {dtype, bdata} (base64)."""
    if isinstance(value, dict):
        import base64

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).astype(np.float64)
    return np.array([np.nan if v is None else v for v in value], dtype=np.float64)


def test_slider_frames_hold_the_positions(moving_page, moving_run, joined):
    fig = _figures(moving_page)["fig-map"]
    steps = np.sort(joined["t_ns"].unique())
    frames = fig["frames"]
    assert len(frames) == min(report_moving.MAX_FRAMES, steps.size)
    now = [k for k, t in enumerate(fig["data"]) if t.get("name") == "moving terminals at the slider's time"]
    assert len(now) == 1
    slider = fig["layout"]["sliders"][0]
    assert [s["args"][0][0] for s in slider["steps"]] == [f["name"] for f in frames]
    picks = steps[np.unique(np.round(np.linspace(0, steps.size - 1, len(frames))).astype(int))]
    for frame, t in zip(frames, picks):
        assert frame["traces"][0] == now[0]
        at = joined[joined["t_ns"] == t].sort_values("terminal")
        data = frame["data"][0]
        np.testing.assert_allclose(_decode(data["x"]), at["lon_deg"].to_numpy(), atol=1e-4)
        np.testing.assert_allclose(_decode(data["y"]), at["lat_deg"].to_numpy(), atol=1e-4)
        clock = (pd.Timestamp("2026-05-30T12:00:00") + pd.Timedelta(int(t), "ns")).strftime("%H:%M:%S")
        assert frame["name"] == clock


def test_latency_distributions_and_parts(moving_data, moving_run):
    steps = _table(moving_run, "SELECT * FROM terminal_steps WHERE served AND CAST(reason AS VARCHAR) <> 'inactive'")
    lat = moving_data.latency
    assert lat["modelled"]
    for col in ("rtt_ms", "propagation_rtt_ms"):
        np.testing.assert_allclose(lat[col], np.quantile(steps[col].to_numpy(), lat["levels"]), rtol=1e-9)
    # The floor is a floor.
    assert (lat["propagation_rtt_ms"] <= lat["rtt_ms"] + 1e-9).all()
    parts = {p["column"]: p for p in lat["parts"]}
    for col in ("propagation_rtt_ms", "access_ms", "processing_ms", "queueing_ms", "reconfiguration_ms"):
        assert parts[col]["mean_ms"] == pytest.approx(steps[col].mean(), rel=1e-9)
    # rtt_ms is the sum of its parts, so the means add up.
    assert sum(p["mean_ms"] for p in lat["parts"]) == pytest.approx(steps["rtt_ms"].mean(), rel=1e-9)


def test_latency_labelled_as_the_modelled_ping_rtt(moving_page, core_run):
    assert "rtt_ms, the modelled ping RTT to the PoP" in moving_page
    assert "modelled ping RTT to the PoP, served steps" in moving_page  # the KPI card
    figs = _figures(moving_page)
    names = [t["name"] for t in figs["fig-latency"]["data"]]
    assert names == ["modelled ping RTT (rtt_ms)", "propagation floor (propagation_rtt_ms)"]
    # A run whose steps carry no latency parts predates the model: its rtt_ms is said to be propagation only.
    old = write_report(core_run).read_text(encoding="utf-8")
    assert "propagation round trip to the PoP, served steps" in old
    assert "latency model: the run predates it" in old
    assert [t["name"] for t in _figures(old)["fig-latency"]["data"]] == ["propagation RTT (rtt_ms)"]


def test_pings_at_full_resolution(moving_data, moving_run, moving_page):
    pings = _table(moving_run, "SELECT * FROM pings ORDER BY terminal, t_ns")
    p = moving_data.pings
    assert p["terminal"] == 2  # the probe on the boat
    s = p["series"]
    assert not s["bucketed"]
    mine = pings[pings["terminal"] == 2]
    np.testing.assert_array_equal(s["t_ns"], mine["t_ns"].to_numpy())
    np.testing.assert_array_equal(s["lost"], mine["lost"].to_numpy())
    np.testing.assert_array_equal(s["rtt_ms"][~s["lost"]], mine["rtt_ms"].to_numpy()[~s["lost"]])
    (probe,) = p["probes"]
    assert probe["pings"] == len(mine) and probe["lost"] == int(mine["lost"].sum())
    assert probe["interval_ms"] == pytest.approx(500.0)
    assert probe["p50_ms"] == pytest.approx(float(np.median(mine.loc[~mine["lost"], "rtt_ms"])))
    fig = _figures(moving_page)["fig-pings"]
    (markers,) = [t for t in fig["data"] if t["name"].startswith("pings")]
    assert _decode(markers["x"]).size == int((~mine["lost"]).sum())
    assert fig["layout"]["xaxis"]["type"] == "date"
    # Times travel as ms since 1970 (plotly's date numbers): the first ping is at the run's start.
    assert _decode(markers["x"])[0] == pd.Timestamp("2026-05-30T12:00:00Z").value / 1e6 + mine["t_ns"].iloc[0] / 1e6


def test_long_ping_series_are_bucketed(moving_run, monkeypatch):
    monkeypatch.setattr(report_latency, "MAX_PINGS", 100)
    monkeypatch.setattr(report_latency, "PING_BUCKETS", 50)
    d = collect(moving_run)
    s = d.pings["series"]
    pings = _table(moving_run, "SELECT * FROM pings WHERE terminal = 2")
    assert s["bucketed"] and s["t_ns"].size <= 50
    assert s["count"].sum() == len(pings) and s["lost"].sum() == int(pings["lost"].sum())
    ok = np.isfinite(s["p50_ms"])
    assert (s["min_ms"][ok] <= s["p50_ms"][ok]).all() and (s["p50_ms"][ok] <= s["max_ms"][ok]).all()
    assert np.nanmin(s["min_ms"]) == pytest.approx(pings.loc[~pings["lost"], "rtt_ms"].min())
    assert np.nanmax(s["max_ms"]) == pytest.approx(pings.loc[~pings["lost"], "rtt_ms"].max())
    page = render_report(d)
    assert "min–max per" in json.dumps(_figures(page)["fig-pings"], ensure_ascii=False)


def test_rtt_bands_cover_every_rtt():
    bands = report_figures.RTT_BANDS
    assert report_figures.rtt_band(0.0) == 0 and report_figures.rtt_band(29.999) == 0
    assert report_figures.rtt_band(30.0) == 1 and report_figures.rtt_band(1e6) == len(bands) - 1
    assert [b[0] for b in bands] == sorted(b[0] for b in bands)


def test_view_frames_the_terminals_and_the_sites_in_use(moving_data, moving_run, joined):
    used = _table(moving_run, "SELECT DISTINCT pop FROM terminal_steps WHERE pop >= 0")["pop"].tolist()
    assert used == [0]  # Warsaw; Sydney is in the run but no route reaches it
    v = moving_data.view
    assert v.contains(moving_data.pops.lat_deg[0], moving_data.pops.lon_deg[0])
    assert not v.contains(moving_data.pops.lat_deg[1], moving_data.pops.lon_deg[1])
    ok = joined["status"] == "ok"
    assert v.contains(joined.loc[ok, "lat_deg"], joined.loc[ok, "lon_deg"]).all()  # every position of every track
    assert v.contains(moving_data.terminals.lat_deg, moving_data.terminals.lon_deg).all()


def test_edge_cases_render(idle_run):
    d = collect(idle_run)
    assert d.moving.terminals == [3] and d.moving.tracks == []  # inactive at every step: nothing to draw
    assert d.moving.stats[3]["hours"] == 0.0 and math.isnan(d.moving.stats[3]["no_position_pct"])
    assert d.events is not None and d.events["total"] == 0 and d.events["rows"] == []
    assert d.pings["probes"][0]["loss_pct"] == 100.0 and math.isnan(d.pings["probes"][0]["p50_ms"])
    page = render_report(d)
    assert "No terminal lost or regained service in this run." in page
    table = page[page.index('<table id="moving">'):]
    assert "n/a" in table[: table.index("</table>")]
    figs = _figures(page)
    assert "fig-pings" in figs and "fig-map" in figs


def test_positions_without_rows(empty_positions_run):
    d = collect(empty_positions_run)
    assert d.moving is None and d.events["total"] == 0
    page = render_report(d)
    assert 'id="moving"' not in page
    assert "moving terminals: none moved in this run (terminal_positions has no row)" in page


def test_moving_terminals_are_their_own_region(moving_data):
    regions = {r["region"]: r for r in moving_data.regions}
    assert regions["(moving terminals)"]["terminals"] == 2
    assert "(unknown)" not in regions  # the two fixed terminals are in Kyiv and Lviv Oblast
    assert any(c["region"] == "(moving terminals)" for c in moving_data.rtt_cdf)


def test_dated_service_area_follows_the_slider(moving_data, moving_page, moving_run):
    from leonet.ground.regions import load_region
    from leonet.report import geo

    (area,) = [a for a in moving_data.service_areas if a["name"] == "moving line"]
    assert [s["start_ns"] for s in area["shapes"]] == [360 * 10**9, 780 * 10**9]  # 12:05 and 12:12, plus 60 s of lag
    fig = _figures(moving_page)["fig-map"]
    (k,) = [i for i, t in enumerate(fig["data"]) if t.get("name") == "deny: moving line (in force at the slider's time)"]
    lviv = geo.region_outline(load_region("oblast:Lviv").geometry, moving_data.view)
    odesa = geo.region_outline(load_region("oblast:Odessa Oblast").geometry, moving_data.view)
    seen = set()
    for frame, t in zip(fig["frames"], moving_data.frame_t_ns):
        (data,) = [dd for tr, dd in zip(frame["traces"], frame["data"]) if tr == k]
        x = _decode(data["x"])
        expected = lviv if 360e9 <= t < 780e9 else odesa if t >= 780e9 else None
        if expected is None:
            assert np.isnan(x).all()
        else:
            np.testing.assert_array_equal(x, expected.lon_deg.astype(float))
        seen.add(None if expected is None else id(expected))
    assert len(seen) == 3
    # The engine applied the same rule: the Lviv terminal is cut off exactly when the slider shows Lviv Oblast denied.
    ev = _table(moving_run, "SELECT t_ns, CAST(event AS VARCHAR) AS event, CAST(reason AS VARCHAR) AS reason "
                            "FROM service_events WHERE terminal = 1 ORDER BY t_ns")
    assert ev.values.tolist()[:2] == [[360 * 10**9, "cut-off", "policy"], [780 * 10**9, "restored", "policy"]]
    assert "moving line" in moving_page and "2 dated shapes, each switch 60 s late (lag_s)" in moving_page


def test_headline_and_distances_match_the_run_summary(moving_data, moving_run):
    summary = json.loads((moving_run / "manifest.json").read_text())["summary"]
    assert moving_data.headline["served_pct"] == pytest.approx(summary["served_pct"], abs=0.01)
    assert moving_data.headline["rtt_p50_ms"] == pytest.approx(summary["rtt_p50_ms"], abs=0.01)
    assert summary["moving_terminals"] == len(moving_data.moving)
    total = sum(s["distance_km"] for s in moving_data.moving.stats.values())
    assert total == pytest.approx(summary["distance_travelled_km"], abs=1e-3)
