"""The service modules' docstring examples run (as doctests)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "name", ["leonet.scenario.service", "leonet.service.fleets", "leonet.service.costs", "leonet.service.policy",
             "leonet.service.faults"]
)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
