"""The README's `leonet query` examples give the documented answers on a fresh run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from leonet.cli import main
from leonet.engine.run import run_scenario
from leonet.scenario.load import load_scenario

pytestmark = pytest.mark.slow  # a real run, fuzzing or the browser: deselect with -m "not slow"

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> list[tuple[str, str]]:
    """(command, expected output) of every ```console block that runs `leonet query runs/ukraine`."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), re.S):
        lines = block.splitlines()
        if lines and lines[0].startswith("$ leonet query runs/ukraine"):
            out.append((lines[0][2:], "\n".join(lines[1:]).strip()))
    return out


def test_the_readme_has_query_examples():
    assert len(examples()) >= 3


def test_the_readme_starts_with_the_two_commands():
    first = re.search(r"```bash\n(.*?)```", README.read_text(), re.S).group(1).strip().splitlines()
    assert len(first) == 2
    assert "leonet run" in first[0] and "pytest" in first[1]


@pytest.fixture(scope="module")
def ukraine_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("readme") / "ukraine"
    run_scenario(load_scenario("ukraine"), out)
    return out


@pytest.mark.parametrize("command,expected", examples(), ids=lambda v: v[:60] if isinstance(v, str) else None)
def test_query_example_gives_the_documented_answer(ukraine_run, capsys, command, expected):
    args = shlex.split(command)[1:]
    args[args.index("runs/ukraine")] = str(ukraine_run)
    main(["--quiet", *args])
    assert capsys.readouterr().out.strip() == expected


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_notebook_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """Issue 11: the README's notebook example, exactly as written, in a fresh directory."""
    import pandas as pd

    (block,) = [b for b in _python_blocks() if "leonet.load_scenario" in b]
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(block, "README.md", "exec"), names)  # noqa: S102 - the documentation's own code
    steps, run = names["steps"], names["run"]
    assert isinstance(steps, pd.DataFrame) and str(steps["time_utc"].dt.tz) == "UTC"
    assert steps["time_utc"].iloc[0] == pd.Timestamp("2026-05-30T12:00:00Z")
    assert len(steps) == 202 * 12  # 200 fixed and 2 moving terminals x 12 steps of 5 s
    assert 80.0 <= run.summary.served_pct <= 100.0
    assert (tmp_path / "runs" / "ukraine-1min" / "manifest.json").is_file()
    printed = capsys.readouterr().out
    assert "civilian" in printed and "frontline" in printed
