"""The report file without a browser: self-contained, escaped, sections present exactly when their data is."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from leonet.errors import RunDirectoryError
from leonet.report import REPORT_NAME, collect, render_report, write_report
from leonet.report import data as report_data
from leonet.report.html import CSP, script_json

from report_scene import EVIL, EVIL_DESCRIPTION, EVIL_GATEWAY, INACTIVE_STEPS

#: Every chart of a run with terminals, and those of the service layer.
CORE_FIGURES = ("fig-map", "fig-service", "fig-rtt-terminals", "fig-rtt-cdf", "fig-links")
SERVICE_FIGURES = ("fig-throughput", "fig-utilisation", "fig-cost")


def _figures(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="leonet-figures">(.*?)</script>', page, re.S)
    assert m, "no figures JSON in the report"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def tiny_page(tiny_run) -> str:
    return write_report(tiny_run).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def core_page(core_run) -> str:
    return write_report(core_run).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def service_page(service_run) -> str:
    return write_report(service_run).read_text(encoding="utf-8")


def test_default_output_is_report_html_in_the_run(tiny_run, tiny_page):
    assert (tiny_run / REPORT_NAME).is_file()
    assert tiny_page.startswith("<!DOCTYPE html>")


def test_one_self_contained_file(tiny_page):
    # plotly.js inlined exactly once, no external resource of any kind.
    assert tiny_page.count("* plotly.js v") == 1
    for needle in ("<link", "<iframe", "<img", "@import", "cdn.plot.ly/", "topojsonURL", "mapbox", "scattergeo"):
        outside_plotly = re.sub(r"<script>/\*\*\n\* plotly\.js.*?</script>", "", tiny_page, flags=re.S)
        assert needle not in outside_plotly, needle
    assert re.search(r'\bsrc\s*=\s*["\']?https?:', tiny_page) is None
    # The CSP forbids every request; the test in a browser checks it is obeyed.
    assert f'http-equiv="Content-Security-Policy" content="{html.escape(CSP)}"' in tiny_page
    assert "default-src 'none'" in CSP and "connect-src 'none'" in CSP


def test_script_json_cannot_close_a_script_element():
    text = json.dumps({"name": "</script><script>alert(1)</script><!-- \u2028 & >"})
    safe = script_json(text)
    assert "<" not in safe and ">" not in safe and "&" not in safe and "\u2028" not in safe
    assert json.loads(safe) == json.loads(text)


def test_user_strings_escaped_in_html(tiny_page):
    # Exactly the four script elements the report writes: user data adds none.
    assert tiny_page.lower().count("</script") == 4
    assert tiny_page.lower().count("<script") == 4
    assert f"<h1>{html.escape(EVIL)}</h1>" in tiny_page
    assert html.escape(EVIL_DESCRIPTION) in tiny_page
    assert "<img" not in tiny_page  # the description's tag is text, not an element
    assert f"<td>{html.escape(EVIL)}</td>" in tiny_page  # the terminals table
    assert "<b>gw</b>" not in tiny_page


def test_user_strings_reach_plotly_as_escaped_data(tiny_page):
    figs = _figures(tiny_page)
    hover = json.dumps(figs["fig-map"])
    # plotly renders a subset of HTML and decodes entities: escaped names show literally.
    assert html.escape(EVIL, quote=False) in hover
    assert html.escape(EVIL_GATEWAY, quote=False) in hover
    assert EVIL not in json.dumps(figs)


def test_core_sections_present_service_sections_skipped(core_page):
    figs = _figures(core_page)
    assert set(CORE_FIGURES) <= set(figs)
    assert not set(SERVICE_FIGURES) & set(figs)
    for fig_id in figs:
        assert f'id="{fig_id}"' in core_page
    assert 'id="terminals"' in core_page and 'id="regions"' in core_page
    assert 'id="cost"' not in core_page and 'id="rules"' not in core_page
    assert "Throughput median" not in core_page and "Mbit/s p50" not in core_page
    for reason in ("throughput: the run has no throughput values", "utilisation: no table", "cost: the run has no cost ledger"):
        assert reason in core_page


def test_the_engine_output_renders(tiny_page):
    # Whatever the engine writes today, the core sections are there.
    assert set(CORE_FIGURES) <= set(_figures(tiny_page))


def test_service_sections_appear_with_their_tables(service_page):
    figs = _figures(service_page)
    assert set(CORE_FIGURES) | set(SERVICE_FIGURES) <= set(figs)
    assert 'id="cost"' in service_page and 'id="rules"' in service_page
    assert "Mbit/s p50" in service_page  # terminals table gains a throughput column
    assert "Throughput median" in service_page  # and the headline a card
    assert "the run has no cost ledger" not in service_page
    # Cost: totals by sponsor, the hostile sponsor escaped.
    assert "$4,194" in service_page  # 193.55 + 2500 + 500 + 1000
    assert f"<td>{html.escape(EVIL)}</td><td class=n>$1,000</td>" in service_page
    bars = figs["fig-cost"]["data"]
    assert sorted(t["name"] for t in bars) == sorted(
        ["SpaceX (donation)", "Government of Poland", html.escape(EVIL, quote=False)]
    )
    # Service areas: Crimea (deny) and Ukraine (allow) drawn; the unknown region noted, not fatal.
    names = [t.get("name", "") for t in figs["fig-map"]["data"]]
    assert "deny: no service in Crimea" in names
    assert "allow: donated terminals in Ukraine only" in names
    assert "region not drawn" in service_page and "Atlantis" in service_page
    # Map colour modes: availability, median RTT, throughput.
    buttons = figs["fig-map"]["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["Colour: availability", "Colour: median RTT", "Colour: throughput"]
    assert [b["args"][0]["marker.colorbar.title.text"] for b in buttons] == [["served %"], ["median RTT, ms"], ["median Mbit/s"]]


def test_headline_matches_the_run_summary(core_run):
    d = collect(core_run)
    summary = json.loads((core_run / "manifest.json").read_text())["summary"]
    assert d.headline["served_pct"] == pytest.approx(summary["served_pct"], abs=0.01)
    assert d.headline["rtt_p50_ms"] == pytest.approx(summary["rtt_p50_ms"], abs=0.01)
    assert d.headline["rtt_p95_ms"] == pytest.approx(summary["rtt_p95_ms"], abs=0.01)
    assert d.headline["handovers_per_terminal_hour"] == pytest.approx(summary["handovers_per_terminal_hour"], abs=0.01)
    assert d.headline["terminals"] == 4


def test_throughput_and_utilisation_values(service_run):
    d = collect(service_run)
    assert d.headline["throughput"]
    assert 20.0 <= d.headline["throughput_p50_mbps"] <= 120.0
    (u,) = d.utilisation
    assert u["label"] == "gateway load"
    mean, top = u["series"].columns["mean"], u["series"].columns["max"]
    assert np.isfinite(mean).all()  # NaN utilisation (no capacity) is left out
    assert 20.0 <= mean.min() and top.max() <= 90.0  # shares shown in %
    assert d.cost["months"] == ["2022-02", "2022-03"]
    assert d.cost["total_usd"] == pytest.approx(4193.55)


def test_throughput_column_and_inactive_steps(column_run, core_run):
    d = collect(column_run)
    core = collect(core_run)
    # Inactive terminal-steps are left out of every figure ...
    assert d.headline["terminal_steps"] == core.headline["terminal_steps"] - INACTIVE_STEPS
    assert "inactive" not in d.headline["unserved_by_reason"]
    assert "inactive" not in d.reasons.columns
    assert d.terminal_stats["steps"][3] == core.terminal_stats["steps"][3] - INACTIVE_STEPS
    # ... so availability is unchanged by them.
    assert d.headline["served_pct"] == pytest.approx(core.headline["served_pct"])
    # Throughput per served terminal is 50 + its index; demand 100.
    assert d.headline["throughput"]
    stats = d.terminal_stats["throughput_p50_mbps"]
    served = d.terminal_stats["served_share"] > 0
    assert stats[served] == pytest.approx(50.0 + np.flatnonzero(served))
    assert np.nanmax(d.throughput.columns["demand"]) == pytest.approx(100.0)


def test_time_series_downsampled_to_whole_step_buckets(core_run, monkeypatch):
    monkeypatch.setattr(report_data, "MAX_POINTS", 7)
    d = collect(core_run)
    steps = d.headline["steps"]  # 60 steps of 10 s -> buckets of ceil(60 / 7) = 9 steps
    assert d.reasons.bucket_s == 90.0
    assert len(d.reasons.t_utc) == -(-steps // 9) <= 7
    assert all(len(v) == len(d.reasons.t_utc) for v in d.rtt_terminals.columns.values())
    assert d.reasons.t_utc[:2] == ["2026-05-30 12:00:00", "2026-05-30 12:01:30"]


def test_satellite_snapshot_and_tracks(tiny_run):
    d = collect(tiny_run)
    s = d.snapshot
    assert s["total"] == 24 * 22
    assert 0 < len(s["sat"]) <= s["total"]
    assert d.view.contains(s["lat_deg"], s["lon_deg"], margin_share=0.05).all()
    assert 1 <= len(d.tracks) <= report_data.TRACK_SATELLITES
    for track in d.tracks:
        lon = track["lon_deg"][~np.isnan(track["lon_deg"])]
        assert len(lon) >= 10  # 10 min of 60 s samples, plus the snapshot
    assert s["serving"].sum() == len(s["links"])


def test_run_without_ground_segment(bare_run):
    page = write_report(bare_run).read_text(encoding="utf-8")
    figs = _figures(page)
    assert list(figs) == ["fig-map"]
    assert "no ground segment" in page
    assert any("satellites" in t.get("name", "") for t in figs["fig-map"]["data"])


def test_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(RunDirectoryError, match="not a leonet run"):
        write_report(tmp_path)


def test_render_is_deterministic_apart_from_the_timestamp(tiny_run):
    d = collect(tiny_run)
    a, b = render_report(d), render_report(d)
    strip = lambda s: re.sub(r"at \d{4}-\d\d-\d\d \d\d:\d\d UTC", "", s)  # noqa: E731
    assert strip(a) == strip(b)


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory) -> Path:
    """The tiny run stopped by Ctrl-C after its first chunk (30 of 60 steps): the engine marks it interrupted."""
    from leonet.engine.run import run_scenario
    from leonet.errors import RunInterrupted
    from leonet.scenario.load import load_scenario

    from report_scene import TINY

    tmp = tmp_path_factory.mktemp("interrupted")
    (tmp / "tiny.toml").write_text(TINY, encoding="utf-8")

    def progress(done: int, total: int) -> None:
        if done >= 30:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        run_scenario(load_scenario(tmp / "tiny.toml"), tmp / "run", progress=progress)
    return tmp / "run"


def _banner(page: str) -> str:
    m = re.search(r'<p class="warn" id="run-status">(.*?)</p>', page, re.S)
    assert m, "no status banner"
    return re.sub(r"<[^>]+>", "", m.group(1))


def test_interrupted_run_says_so(interrupted_run):
    assert json.loads((interrupted_run / "manifest.json").read_text())["status"] == "interrupted"
    page = write_report(interrupted_run).read_text(encoding="utf-8")
    text = _banner(page)
    assert "interrupted" in text and "1 chunks written so far, 30 of 60 steps" in text
    assert "--resume" in text
    assert "<dd>interrupted · leonet" in page


def test_killed_run_says_interrupted(interrupted_run, tmp_path):
    # A run killed outright (SIGKILL, power cut) leaves "running" in its manifest and nobody holding its lock.
    import shutil

    run = tmp_path / "run"
    shutil.copytree(interrupted_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["status"] = "running"
    (run / "manifest.json").write_text(json.dumps(manifest))
    page = write_report(run, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "interrupted" in _banner(page) and "running" not in _banner(page)


def test_complete_run_has_no_banner(tiny_page):
    assert 'id="run-status"' not in tiny_page
