"""Regenerate docs/scenario.md, the scenario reference, from the schema.

Usage::

    python tools/scenario_reference.py            # rewrite docs/scenario.md
    python tools/scenario_reference.py --check    # exit 1 if docs/scenario.md is stale
    python tools/scenario_reference.py --file OUT.md   # write (or --check) another file

The text is `leonet.scenario.reference.render_reference`: change a field's
``description`` or example in src/leonet/scenario/, or the intros and
examples in reference.py, then run this.  tests/scenario/test_reference.py
fails while the file differs from the schema.  Run it from the checkout you
changed (``PYTHONPATH=src`` when leonet is installed from another one); the
script puts its own checkout's ``src`` first on the path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "scenario.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale; write nothing")
    parser.add_argument("--file", type=Path, default=TARGET, help="the file to write or check (default: docs/scenario.md)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from leonet.scenario.reference import render_reference

    target: Path = args.file
    text = render_reference()
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if args.check:
        if current != text:
            print(f"{target} is stale: run `python tools/scenario_reference.py`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    if current == text:
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
