"""The report in a real headless Chromium with the network cut off.

Every request that is not the report file itself is aborted and recorded;
the test asserts none was attempted, that the page logged no console error
and raised no dialog, that the map and every chart drew SVG marks, that a
screenshot is far from blank, and that a terminal named
``<script>alert(1)</script>`` shows as text.

Skipped locally (with the reason) when Playwright or Chromium is missing; a
failure when ``CI=true`` (see ``conftest.browser``).
"""

from __future__ import annotations

import base64
import json

import pytest

from leonet.report import write_report

from report_scene import EVIL, EVIL_GATEWAY

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

#: A rendered chart or map has far more distinct colours than a blank or
#: broken one (a blank plot area is one or two colours; the map's land, sea,
#: borders, colour-scaled terminals and anti-aliasing give hundreds).
MIN_DISTINCT_COLOURS_MAP = 100
MIN_DISTINCT_COLOURS_PAGE = 200

_COUNT_COLOURS = """
async (b64) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  const ctx = c.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return seen.size;
}
"""

_CHARTS = """
() => Array.from(document.querySelectorAll(".chart")).map(el => ({
  id: el.id,
  plotly: el.classList.contains("js-plotly-plot"),
  svgs: el.querySelectorAll(".main-svg").length,
  lines: el.querySelectorAll(".scatterlayer path.js-line").length,
  fills: el.querySelectorAll(".scatterlayer path.js-fill").length,
  points: el.querySelectorAll(".scatterlayer path.point").length,
  bars: el.querySelectorAll(".barlayer path").length,
  width: el.getBoundingClientRect().width,
  height: el.getBoundingClientRect().height,
}))
"""


class Opened:
    """A report open in the browser, with what it did: requests attempted, console messages, dialogs."""

    def __init__(self, page, attempted, console, dialogs):
        self.page, self.attempted, self.console, self.dialogs = page, attempted, console, dialogs

    def assert_clean(self):
        assert self.attempted == [], f"the report tried to reach the network: {self.attempted}"
        assert self.console == [], f"console errors or warnings: {self.console}"
        assert self.dialogs == [], f"dialogs: {self.dialogs}"


def _open_offline(browser, report, width=1400) -> Opened:
    page = browser.new_page(viewport={"width": width, "height": 1000})
    attempted: list[str] = []
    console: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

    def on_dialog(d):
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    url = report.resolve().as_uri()

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_selector("body[data-report-ready='1']", timeout=60_000)
    page.wait_for_timeout(200)
    return Opened(page, attempted, console, dialogs)


@pytest.fixture(scope="module")
def opened(browser, request, tmp_path_factory):
    """``opened(run_fixture_name)``: the run's report open in the browser, one page per run for the module."""
    pages: dict[str, Opened] = {}

    def get(which: str) -> Opened:
        if which not in pages:
            run = request.getfixturevalue(which)
            report = write_report(run, tmp_path_factory.mktemp(which) / "report.html")
            pages[which] = _open_offline(browser, report)
        return pages[which]

    yield get
    for o in pages.values():
        o.page.close()


def _distinct_colours(browser, png: bytes) -> int:
    blank = browser.new_page()
    try:
        return blank.evaluate(_COUNT_COLOURS, base64.b64encode(png).decode())
    finally:
        blank.close()


@pytest.mark.parametrize("which", ["tiny_run", "core_run", "service_run", "column_run", "moving_run", "moving_static_run", "idle_run"])
def test_report_renders_offline_with_no_errors(browser, opened, which):
    o = opened(which)
    page = o.page
    o.assert_clean()

    charts = page.evaluate(_CHARTS)
    expected = json.loads(page.evaluate("document.getElementById('leonet-figures').textContent")).keys()
    assert sorted(c["id"] for c in charts) == sorted(expected)
    for c in charts:
        assert c["plotly"] and c["svgs"] >= 1, c
        assert c["width"] > 300 and c["height"] > 150, c
        assert c["lines"] + c["points"] + c["bars"] > 0, c
    by_id = {c["id"]: c for c in charts}
    m = by_id["fig-map"]
    assert m["fills"] >= 1  # land
    assert m["points"] >= 4 + 1 + 1  # terminals, the gateway, the PoP (and satellites)
    if which == "service_run":
        assert by_id["fig-cost"]["bars"] >= 4

    png_map = page.locator("#fig-map").screenshot()
    assert _distinct_colours(browser, png_map) >= MIN_DISTINCT_COLOURS_MAP
    png_page = page.screenshot(full_page=True)
    assert _distinct_colours(browser, png_page) >= MIN_DISTINCT_COLOURS_PAGE
    o.assert_clean()


def test_hostile_names_show_as_text(opened):
    o = opened("core_run")
    page = o.page
    o.assert_clean()
    # The scenario name is the page heading, as text.
    assert page.locator("h1").text_content() == EVIL
    # The terminal is a row of the terminals table, as text.
    cells = page.locator("#terminals td").all_text_contents()
    assert EVIL in cells
    # ... and no element was made of it: only the report's own four scripts, no <img> from the description.
    assert page.evaluate("document.scripts.length") == 4
    assert page.evaluate("Array.from(document.scripts).filter(s => !s.type && s.textContent.includes('alert(1)')).length") == 0
    assert page.evaluate("document.images.length") == 0
    # plotly draws the name literally too (legend of the RTT chart: all four terminals are picked).
    legend = page.locator("#fig-rtt-terminals .legendtext").all_text_contents()
    assert any(EVIL in text for text in legend), legend
    # Hovering the gateway shows its name with the tags as text.
    page.locator("#fig-map").scroll_into_view_if_needed()
    hover = page.evaluate(
        """() => {
            const gd = document.getElementById('fig-map');
            const k = gd.data.findIndex(t => t.name === 'gateways');
            Plotly.Fx.hover(gd, [{curveNumber: k, pointNumber: 0}]);
            return Array.from(gd.querySelectorAll('.hoverlayer text')).map(t => t.textContent).join(' ');
        }"""
    )
    assert EVIL_GATEWAY in hover, hover
    page.evaluate("Plotly.Fx.unhover(document.getElementById('fig-map'))")
    o.assert_clean()


def test_colour_buttons_recolour_the_terminals(opened):
    o = opened("core_run")
    page = o.page
    state = """() => { const gd = document.getElementById('fig-map');
        const t = gd.data.find(t => t.name === 'terminals');
        const fills = Array.from(gd.querySelectorAll('.scatterlayer .trace')).pop().querySelectorAll('path.point');
        return [t.marker.colorbar.title.text, Array.from(fills).map(p => p.style.fill).join(';')]; }"""
    title0, fills0 = page.evaluate(state)
    assert title0 == "served %"
    page.locator("#fig-map .updatemenu-button").nth(1).click()
    page.wait_for_timeout(200)
    title1, fills1 = page.evaluate(state)
    assert title1 == "median RTT, ms" and fills1 != fills0
    page.locator("#fig-map .updatemenu-button").nth(0).click()
    page.wait_for_timeout(200)
    assert page.evaluate(state) == [title0, fills0]
    o.assert_clean()


def _decoded(value) -> list[float]:
    """A plotly JSON array (a list, or a typed array {dtype, bdata}) as floats (NaN for null)."""
    import numpy as np

    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).astype(float).tolist()
    return [float("nan") if v is None else float(v) for v in value]


def test_time_slider_moves_the_moving_terminals(opened):
    import numpy as np

    o = opened("moving_run")
    page = o.page
    o.assert_clean()
    frames = json.loads(page.evaluate("document.getElementById('leonet-figures').textContent"))["fig-map"]["frames"]
    state = """() => { const gd = document.getElementById('fig-map');
        const k = gd.data.findIndex(t => t.name === "moving terminals at the slider's time");
        const label = gd.querySelector('.slider-container .slider-label').textContent;
        return {k: k, x: Array.from(gd._fullData[k].x), y: Array.from(gd._fullData[k].y),
                active: gd.layout.sliders[0].active, label: label}; }"""
    before = page.evaluate(state)
    assert before["k"] >= 0 and before["active"] == 0 and len(frames) > 10
    assert before["label"] == f"moving terminals at {frames[0]['name']} UTC"
    np.testing.assert_allclose(before["x"], _decoded(frames[0]["data"][0]["x"]))
    page.locator("#fig-map").scroll_into_view_if_needed()
    rail = page.locator("#fig-map .slider-rail-rect").bounding_box()
    page.mouse.click(rail["x"] + 0.5 * rail["width"], rail["y"] + rail["height"] / 2)
    page.wait_for_timeout(300)
    after = page.evaluate(state)
    i = after["active"]
    assert 0 < i < len(frames) - 1
    assert after["label"] == f"moving terminals at {frames[i]['name']} UTC"
    np.testing.assert_allclose(after["x"], _decoded(frames[i]["data"][0]["x"]))
    np.testing.assert_allclose(after["y"], _decoded(frames[i]["data"][0]["y"]))
    assert not np.allclose(after["x"], before["x"], equal_nan=True)
    o.assert_clean()
