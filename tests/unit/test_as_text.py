"""How the console writes a stored value (an audit detail) for people: never a Python repr."""

from __future__ import annotations

from typing import Any

import pytest

from gatepass.console.web import as_text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (["nql", "workflows"], "nql, workflows"),
        ([], "none"),
        (None, "none"),
        ({}, "none"),
        (True, "yes"),
        (False, "no"),
        (3, "3"),
        ("Billing sync", "Billing sync"),
        ({"limit": 100, "period": 60}, "limit 100, period 60"),
        ([["a", "b"], "c"], "a, b, c"),
    ],
)
def test_a_value_reads_as_text(value: Any, shown: str) -> None:
    assert as_text(value) == shown
