"""What the control-character tests of every edge share: the characters, a snapshot of
everything stored, and the app's own log output, captured.

The characters stand for the rule of ``gatepass.text``: NUL (PostgreSQL cannot store it), a C0
control, DEL, a C1 control that is also a line break (U+0085), and the line separator U+2028.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from gatepass.db import Database
from gatepass.models import Base

CHARS = [
    pytest.param("\x00", id="nul"),
    pytest.param("\x1f", id="c0"),
    pytest.param("\x7f", id="del"),
    pytest.param("\u0085", id="nel"),
    pytest.param("\u2028", id="line-separator"),
]
VOLATILE = frozenset({"last_used_at", "last_seen_at"})  # touched by reading, not by changes


def stored(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the columns that record use), to compare before/after."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in VOLATILE]
            rows = session.execute(select(*columns)).all()
            found[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return found


class Logs:
    """The JSON lines the app writes, as its own handler formats them (tracebacks included)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def assert_clean(self) -> None:
        assert "database unavailable" not in self.text, self.text
        assert "$argon2" not in self.text, self.text
        assert "Traceback" not in self.text, self.text


@contextmanager
def captured_logs() -> Iterator[Logs]:
    """Capture the root logger's output; the app must have been made (it sets up logging)."""
    root = logging.getLogger()
    logs = Logs()
    handler = logging.StreamHandler(logs.stream)
    if root.handlers:
        handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        yield logs
    finally:
        root.removeHandler(handler)
