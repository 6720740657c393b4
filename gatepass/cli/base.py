"""What every command needs, kept light for ``gatepass serve``: failing with a message,
the settings, and a database schema brought up to date.

``gatepass serve`` imports only this and ``gatepass.cli.serve`` before it replaces itself with
the server process, so that it starts without the rest of the CLI (``gatepass.cli.entry``).
"""

from __future__ import annotations

from typing import NoReturn

import typer
from pydantic import ValidationError

from gatepass.db import Database
from gatepass.migrations import runner
from gatepass.settings import Settings


def new_app() -> typer.Typer:
    """The ``gatepass`` command, before its subcommands are added."""
    return typer.Typer(
        name="gatepass",
        help="Gatepass: OAuth 2.0 client credentials and API keys for your public API.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )


def fail(message: str) -> NoReturn:
    from rich.console import Console  # noqa: PLC0415 - only a failing command needs it

    Console(stderr=True).print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def load_settings() -> Settings:
    """The settings, or a one-line error naming what is wrong with them."""
    try:
        settings = Settings()
    except ValidationError as exc:
        fail("invalid configuration: " + "; ".join(e["msg"] for e in exc.errors()))
    if settings.effective_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def bring_up_to_date(settings: Settings, db: Database) -> None:
    """Migrate ``db`` if its schema is behind, or refuse to go on if that is turned off."""
    if runner.pending(db.engine):
        if not settings.auto_migrate:
            fail("the database schema is out of date: run 'gatepass migrate'")
        runner.upgrade(db.engine)
