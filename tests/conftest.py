"""Fixtures shared by the whole suite.

Every test that touches storage gets a fresh, migrated database: a copy of a migrated SQLite
file (at the same path in every test of a process), and, when ``GATEPASS_TEST_DATABASE_URL`` is
set, the same test again on PostgreSQL (a database created for this run, emptied between tests).
The app, the CLI and the factory of a test share one engine per database (``tests/engines.py``).
With ``CI=true`` an unreachable PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient
from xdist.remote import Producer

from gatepass.app import create_app
from gatepass.db import Database
from gatepass.migrations import runner
from gatepass.models import Base
from gatepass.settings import Settings
from tests import engines
from tests.factories import Factory
from tests.password_cost import CHEAP
from tests.scheduling import GroupScheduling

PG_URL = os.environ.get("GATEPASS_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("GATEPASS_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", *(["postgresql"] if PG_URL else [])]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> GroupScheduling | None:
    """``--dist loadgroup`` keeps the groups of ``tests/scheduling.py`` in one process each."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return GroupScheduling(config, log)


def pytest_sessionstart(session: pytest.Session) -> None:
    engines.share()
    if not IN_CI:
        return
    if not PG_URL or not REDIS_URL:
        pytest.exit("CI=true needs GATEPASS_TEST_DATABASE_URL and GATEPASS_TEST_REDIS_URL", 3)
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        pytest.exit(f"CI=true but a test server is unreachable: {exc}", 3)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gatepass.db"
    db = Database(f"sqlite:///{path}")
    runner.upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    assert PG_URL is not None
    name = f"gatepass_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    runner.upgrade(db.engine)
    db.dispose()
    engines.reusable(url)
    yield url
    engines.reset(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each test's SQLite database is, the same path for every test of the process."""
    return tmp_path_factory.mktemp("database")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    url = fresh_database(request, request.getfixturevalue("sqlite_home"))
    engines.reusable(url)
    return url


def fresh_database(request: pytest.FixtureRequest, directory: Path) -> str:
    """A migrated, empty database of the backend ``request.param``: a copy of the SQLite
    template in ``directory``, or the run's PostgreSQL database, emptied."""
    if request.param == "sqlite":
        path = directory / "gatepass.db"
        url = f"sqlite:///{path}"
        engines.reset(url)
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return url
    url = request.getfixturevalue("pg_database")
    assert isinstance(url, str)
    engines.reset(url)
    _empty(url)
    return url


def _empty(url: str) -> None:
    """Delete every row and restart every sequence: a few milliseconds on tables this small,
    where TRUNCATE takes 60-500 ms (it makes each table's files anew)."""
    with engines.database(url).engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        sequences = connection.execute(
            text(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = current_schema()"
            )
        ).scalars()
        for sequence in list(sequences):
            connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


def make_settings(database_url: str, data_dir: Path) -> Settings:
    """Settings on ``database_url`` with a new secret key and the cheap password cost."""
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=secrets.token_hex(32),
        public_url="http://testserver",
        cache_poll_interval=0.05,
        webhook_interval=0,  # tests send webhooks themselves (deliver_due), when they choose
        _env_file=None,  # type: ignore[call-arg]
        **CHEAP,
    )


@pytest.fixture
def redis_url() -> str:
    if REDIS_URL is None:
        pytest.skip("GATEPASS_TEST_REDIS_URL is not set")
    return REDIS_URL


@pytest.fixture
def factory(settings: Settings) -> Iterator[Factory]:
    made = Factory(settings)
    yield made
    made.close()


@pytest.fixture
def acme(factory: Factory) -> Factory:
    """The factory, with a tenant ``acme`` made."""
    factory.tenant("acme")
    return factory


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app over HTTP (in process), lifespan and cache thread included."""
    with TestClient(create_app(settings), base_url="http://testserver") as http:
        yield http
