"""The README's `leonet query` examples give the documented answers on a fresh run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from leonet.cli import main
from leonet.engine.run import run_scenario
from leonet.scenario.load import load_scenario

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
