"""Fixtures of the container checks: the Dockerfile and compose.yaml as parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.container.dockerfile import Dockerfile, parse

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return parse(REPOSITORY / "Dockerfile")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPOSITORY / "compose.yaml").read_text())
    return loaded
