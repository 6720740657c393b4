"""Fixtures of the CLI tests: the real command line, in process, on the test database."""

from __future__ import annotations

import pytest

from gatepass.settings import Settings
from tests.cli.harness import Cli


@pytest.fixture
def cli(settings: Settings) -> Cli:
    """The CLI on the same database and secret key as the ``client`` and ``factory`` fixtures."""
    return Cli.on(settings)


@pytest.fixture
def acme(cli: Cli) -> str:
    """Tenant ``acme`` with a small catalog (``spark`` unavailable) and two client groups."""
    cli.ok("tenant", "create", "acme", "--name", "Acme Corp")
    cli.ok("permission", "create", "--tenant", "acme", "nql", "--label", "NQL API")
    cli.ok("permission", "create", "--tenant", "acme", "workflows", "--label", "Workflows API")
    cli.ok("permission", "create", "--tenant", "acme", "spark", "--unavailable")
    cli.ok("group", "create", "--tenant", "acme", "emea")
    cli.ok("group", "create", "--tenant", "acme", "americas")
    return "acme"
