"""One SQLAlchemy engine per test database and pool limits, shared by the tests of a process.

SQLAlchemy caches each statement's compiled SQL per engine. An app, a factory and a CLI command
made anew for every test would compile every statement again in every test: a fifth of the
suite's time in the HTTP and API tests. The suite gives each test the same database URL (a fresh
copy of the SQLite template at the same path, or the run's PostgreSQL database emptied), so the
``Database`` objects made for it share one engine per URL and pool limits, and its compiled SQL.

A shared ``Database`` leaves the pool open when its user disposes of it (an app shutting down
while the test's CLI command or second app still holds connections); ``reset(url)`` closes the
pooled connections when the next test's database is made, before it replaces the file. Only the
URLs given to ``reusable`` are shared: a test that makes a database of its own gets an engine of
its own, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from gatepass import services
from gatepass.db import Database, PoolLimits, make_engine

_engines: dict[tuple[str, PoolLimits | None], Engine] = {}
_reusable: set[str] = set()


def reusable(url: str) -> None:
    _reusable.add(url)


class SharedDatabase(Database):
    def dispose(self) -> None:
        """Nothing: other users of the engine may be running; ``reset`` disposes of it."""


def database(url: str, pool: PoolLimits | None = None) -> Database:
    """A ``Database`` on ``url``, on the shared engine where ``url`` is a reusable one."""
    if url not in _reusable:
        return Database(url, pool)
    engine = _engines.get((url, pool))
    if engine is None:
        engine = _engines[(url, pool)] = make_engine(url, pool)
    return SharedDatabase(url, pool, engine=engine)


def reset(url: str) -> None:
    """Close every pooled connection to ``url`` (an engine stays usable after ``dispose``)."""
    for (engine_url, _), engine in _engines.items():
        if engine_url == url:
            engine.dispose()


def is_shared(engine: Engine) -> bool:
    return any(shared is engine for shared in _engines.values())


@contextmanager
def unshared() -> Iterator[None]:
    """Meanwhile the app and the CLI make engines of their own (to test that they close them)."""
    services.Database = Database  # type: ignore[misc]
    try:
        yield
    finally:
        share()


def share() -> None:
    """Make the app and the CLI open their database through ``database``."""
    services.Database = database  # type: ignore[misc,assignment]
