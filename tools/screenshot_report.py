"""Regenerate docs/report.png: a screenshot of the report of the built-in `ukraine` run.

Usage::

    python tools/screenshot_report.py                  # run `ukraine` (~45 s) into a temp dir, then shoot
    python tools/screenshot_report.py --run runs/ukraine   # reuse an existing run

Needs Playwright's Python package and a Chromium binary (Debian's
``chromium`` at /usr/bin/chromium by default; ``--chromium PATH`` for
another).  It never runs ``playwright install``.  The page is opened from
disk with every other request blocked, exactly as the browser test does,
and the script fails if the page asked for anything over the network or
logged a console error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: docs/report.png must stay below this (it is committed).
MAX_PNG_BYTES = 1_500_000


def _run_ukraine(directory: Path) -> Path:
    from leonet.engine.run import run_scenario
    from leonet.scenario.load import load_scenario

    out = directory / "ukraine"
    print(f"running the built-in ukraine scenario into {out} (~45 s) ...", file=sys.stderr)
    run_scenario(load_scenario("ukraine"), out)
    return out


def shoot(report: Path, png: Path, *, chromium: str, width: int, height: int | None) -> bytes:
    """Open ``report`` offline in headless Chromium and write a PNG of it."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height or 900}, device_scale_factor=1)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def route(r):
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(report.resolve().as_uri())
            page.wait_for_selector("body[data-report-ready='1']", timeout=60_000)
            page.wait_for_timeout(300)
            data = page.screenshot(path=str(png), full_page=height is None)
        finally:
            browser.close()
    if blocked or errors:
        raise SystemExit(f"the report is not clean offline: requests {blocked}, console errors {errors}")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="an existing run directory of the ukraine scenario (default: run it now)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png", help="PNG to write")
    parser.add_argument("--width", type=int, default=1400, help="viewport width, px")
    parser.add_argument("--height", type=int, default=None, help="clip to this height, px (default: full page)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    args = parser.parse_args(argv)

    from leonet.report import write_report

    with tempfile.TemporaryDirectory(prefix="leonet-report-") as tmp:
        run = args.run if args.run is not None else _run_ukraine(Path(tmp))
        report = write_report(run, Path(tmp) / "report.html")
        print(f"report: {report.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        data = shoot(report, args.out, chromium=args.chromium, width=args.width, height=args.height)
    print(f"wrote {args.out} ({len(data) / 1e6:.2f} MB)", file=sys.stderr)
    if len(data) > MAX_PNG_BYTES:
        print(f"warning: {args.out} is larger than {MAX_PNG_BYTES / 1e6:g} MB; use --height to clip it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
