"""What every CLI command shares: settings, the database, output as tables or JSON, errors."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.cli.base import bring_up_to_date, fail, load_settings
from gatepass.db import Database
from gatepass.errors import DomainError
from gatepass.services import Keys, announce_changes, open_database
from gatepass.settings import Settings
from gatepass.signing_keys.material import KeyCipher
from gatepass.users import passwords

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")
TenantOption = typer.Option(..., "--tenant", "-t", help="Tenant slug.")
YesOption = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")

_DURATION = re.compile(r"^(\d+)\s*([smhdw])\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=3653)


def confirm(yes: bool, question: str) -> None:
    """Go on only if ``--yes`` was given or the operator answers yes."""
    if not yes and not typer.confirm(question):
        fail("cancelled")


@dataclass
class Runtime:
    """Settings and the database for one CLI invocation, migrated on first use."""

    settings: Settings

    @cached_property
    def keys(self) -> Keys:
        return Keys.of(self.settings)

    @cached_property
    def db(self) -> Database:
        db = open_database(self.settings)
        if self.settings.redis_url:  # changes made here reach running servers at once
            announce_changes(self.settings, db, self.keys.notice)
        bring_up_to_date(self.settings, db)
        return db

    @property
    def hasher(self) -> cs.SecretHasher:
        return self.keys.hasher

    @property
    def cipher(self) -> KeyCipher:
        return self.keys.cipher


def runtime() -> Runtime:
    settings = load_settings()
    passwords.configure(passwords.HashCost.of(settings))
    return Runtime(settings)


@contextmanager
def transaction(rt: Runtime) -> Iterator[Session]:
    """A database transaction whose domain errors become one-line CLI errors."""
    try:
        with rt.db.transaction() as session:
            yield session
    except DomainError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}")
    finally:
        if "db" in vars(rt):  # a command is short-lived: give its connections back
            rt.db.dispose()


def parse_duration(value: str) -> timedelta:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w``, or an ISO 8601 duration such as ``P1DT2H``."""
    match = _DURATION.match(value.strip())
    try:
        if match:
            duration = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
        else:
            duration = TypeAdapter(timedelta).validate_python(value)
    except (ValidationError, OverflowError):
        duration = MAX_DURATION * 2
    if not timedelta(0) <= duration <= MAX_DURATION:
        fail(
            f"invalid duration '{value[:50]}': use e.g. 90s, 15m, 12h, 30d or P1DT2H"
            " (at most 10 years)"
        )
    return duration


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


def emit_fields(title: str, fields: dict[str, Any]) -> None:
    emit_table(title, ("field", "value"), [(k, _text(v)) for k, v in fields.items()])


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)
