"""Database engine, sessions and the declarative base shared by every domain package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


# A database error's message and traceback never carry the statement's parameters: they can
# be a password's hash or a value a caller pasted in the wrong field.
HIDE_PARAMETERS = True


@dataclass(frozen=True)
class PoolLimits:
    """Connections per process (``size`` kept open, ``overflow`` more on demand) and how long a
    request waits for one before ``sqlalchemy.exc.TimeoutError`` (answered 503 by the edges)."""

    size: int = 5
    overflow: int = 10
    timeout: float = 10.0


def make_engine(url: str, pool: PoolLimits | None = None) -> Engine:
    pool = pool or PoolLimits()
    limits = {
        "pool_size": pool.size,
        "max_overflow": pool.overflow,
        "pool_timeout": pool.timeout,
        "hide_parameters": HIDE_PARAMETERS,
    }
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            limits = {"hide_parameters": HIDE_PARAMETERS}  # one connection per thread, no queue
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **limits
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **limits)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An engine and its session factory; one per process, made by the app factory or the CLI.

    ``engine`` is one made by ``make_engine`` elsewhere, to be shared (the test suite keeps one
    per database across its tests, so each statement is compiled once, not once per test)."""

    def __init__(
        self, url: str, pool: PoolLimits | None = None, engine: Engine | None = None
    ) -> None:
        self.url = url
        self.engine = engine if engine is not None else make_engine(url, pool)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
