"""Every module's docstring examples run (issue 11: doctests for every module)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import leonet


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(leonet.__path__, "leonet.") if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes, writes here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
