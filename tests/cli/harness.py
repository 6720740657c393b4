"""Driving the real ``gatepass`` CLI in process, and reading back what it stored.

Shared by ``tests/cli`` and ``tests/e2e``; nothing here stands in for a Gatepass component.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import typer.testing
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Text,
    cast,
    create_engine,
    event,
    inspect,
    select,
)
from typer.testing import CliRunner, Result

from gatepass.cli.main import app
from gatepass.settings import Settings
from tests import engines as shared_engines
from tests.password_cost import CHEAP_ENV

PUBLIC_URL = "https://id.example.com"

# Typer's test runner builds the click command tree from ``app`` on every invoke: about 35 ms, a
# third of a CLI test's time. The tree is the same each time (a process of the real CLI builds
# it once too), so it is built once here.
typer.testing._get_command = functools.cache(typer.testing._get_command)  # type: ignore[assignment]
Rows = dict[str, list[tuple[Any, ...]]]


def cli_env(
    *, database_url: str | None, data_dir: str, secret_key: str, public_url: str = PUBLIC_URL
) -> dict[str, str | None]:
    """The environment of one CLI invocation; any other ``GATEPASS_*`` variable is unset."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_DATABASE_URL=database_url,
        GATEPASS_DATA_DIR=data_dir,
        GATEPASS_SECRET_KEY=secret_key,
        GATEPASS_PUBLIC_URL=public_url,
        COLUMNS="200",  # rich folds table cells at the default 80 columns
        **CHEAP_ENV,
    )
    return env


@dataclass
class Cli:
    env: Mapping[str, str | None]
    runner: CliRunner = field(default_factory=CliRunner)

    @classmethod
    def on(cls, settings: Settings, public_url: str = PUBLIC_URL) -> Cli:
        """The CLI on the database and secret key of ``settings`` (as ``factory`` uses them)."""
        assert settings.secret_key is not None
        return cls(
            cli_env(
                database_url=settings.effective_database_url,
                data_dir=str(settings.data_dir),
                secret_key=settings.secret_key.get_secret_value(),
                public_url=public_url,
            )
        )

    def run(self, *args: str, input: str | None = None) -> Result:
        with engines_connected() as engines:
            result = self.runner.invoke(app, list(args), env=dict(self.env), input=input)
        # Should a command leave connections open (test_cli_closes_its_connections reports it),
        # close them here so that one defect fails one test rather than every later one.
        for engine in engines:
            if not shared_engines.is_shared(engine):
                engine.dispose()
        return result

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (
            f"gatepass {' '.join(args)} exited {result.exit_code}: {result.stderr}"
            f"{result.stdout}{result.exception!r}"
        )
        return result.stdout

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", input=input))

    def fails(self, *args: str, input: str | None = None, prompt: bool = False) -> str:
        """The one-line error of a command that must refuse its input; returns that line."""
        result = self.run(*args, input=input)
        assert result.exit_code != 0, f"gatepass {' '.join(args)} succeeded: {result.stdout}"
        assert isinstance(result.exception, SystemExit), (
            f"gatepass {' '.join(args)} crashed instead of reporting an error: "
            f"{result.exception!r}\n{result.stderr}"
        )
        message = result.stderr.strip()
        assert message, "no error message on stderr"
        assert "\n" not in message, f"the error is not one line:\n{result.stderr}"
        assert "Traceback" not in message
        if not prompt:
            assert result.stdout == "", f"output despite the error: {result.stdout}"
        return message


@contextmanager
def engines_connected() -> Iterator[list[Engine]]:
    """The engines that open a connection in this thread meanwhile (not the app's cache thread)."""
    engines: list[Engine] = []
    thread = threading.get_ident()

    def connected(connection: Connection) -> None:
        if threading.get_ident() == thread and connection.engine not in engines:
            engines.append(connection.engine)

    event.listen(Engine, "engine_connect", connected)
    try:
        yield engines
    finally:
        event.remove(Engine, "engine_connect", connected)


def reflected(engine: Engine) -> MetaData:
    """The tables of the database (reflected, not from Gatepass's models). Reflecting takes
    ~100 ms on PostgreSQL, so it is done once per database and set of table names."""
    key = (engine.url.render_as_string(), tuple(sorted(inspect(engine).get_table_names())))
    if key not in _reflected:
        metadata = MetaData()
        metadata.reflect(engine)
        _reflected[key] = metadata
    return _reflected[key]


_reflected: dict[tuple[str, tuple[str, ...]], MetaData] = {}


def dump_tables(database_url: str) -> Rows:
    """Every row of every table (reflected, not from Gatepass's models), in a stable order."""
    engine = create_engine(database_url)
    try:
        metadata = reflected(engine)
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def row_texts(database_url: str) -> list[str]:
    """On PostgreSQL, every row of every table as the server renders it in text."""
    if not database_url.startswith("postgresql"):
        return []
    engine = create_engine(database_url)
    try:
        metadata = reflected(engine)
        with engine.connect() as connection:
            return [
                value
                for table in metadata.tables.values()
                for value in connection.scalars(select(cast(table.table_valued(), Text)))
            ]
    finally:
        engine.dispose()
