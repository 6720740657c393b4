"""The CLI gives its database connections back when a command ends, whatever the outcome."""

from __future__ import annotations

import pytest
from sqlalchemy.pool import QueuePool
from typer.testing import CliRunner

from gatepass.cli.main import app
from tests import engines as shared_engines
from tests.cli.harness import Cli, engines_connected

COMMANDS = [
    ("tenant", "list", "--json"),
    ("tenant", "create", "acme"),
    ("tenant", "show", "nope"),
    ("demo",),
    ("migrate",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_cli_closes_its_connections(cli: Cli, args: tuple[str, ...]) -> None:
    with shared_engines.unshared(), engines_connected() as engines:
        result = CliRunner().invoke(app, list(args), env=dict(cli.env))

    assert isinstance(result.exception, SystemExit | None), result.exception
    assert engines, "the command did not touch the database"
    still_open: dict[str, int] = {}
    for engine in engines:
        pool = engine.pool
        assert isinstance(pool, QueuePool)
        still_open[str(engine.url)] = pool.checkedin() + pool.checkedout()
        engine.dispose()
    assert sum(still_open.values()) == 0, (
        f"connections left open after the command ended: {still_open}"
    )
