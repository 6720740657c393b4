"""Migrations carry existing data forward."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from gatepass import models  # noqa: F401 - every table on Base.metadata
from gatepass.db import Base
from gatepass.migrations import runner
from tests.conftest import BACKENDS, PG_URL

OLD_TENANT = (
    "INSERT INTO tenants (id, slug, name, token_lifetime, audience, allowed_audiences,"
    " signing_alg, created_at) VALUES (1, 'old', 'Old', 600, 'api://old', '[]',"
    " 'ES256', '2026-01-01 00:00:00')"
)
Row = tuple[str, dict[str, Any]]


def at_revision(url: str, revision: str, *rows: str | Row) -> Engine:
    """The database at ``url`` migrated to ``revision`` only, holding ``rows`` (INSERT
    statements, each alone or with its parameters)."""
    engine = create_engine(url)
    config = runner.alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for row in rows:
            statement, values = (row, {}) if isinstance(row, str) else row
            connection.execute(text(statement), values)
    return engine


def test_tenants_from_before_the_management_api_get_its_builtin_permissions(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    permission = (
        "INSERT INTO permissions (tenant_id, name, label, description, available,"
        " unavailable_reason, builtin) VALUES (1, 'credentials:manage', 'Manage', '', 1, '', 1)"
    )
    engine = at_revision(url, "0002", OLD_TENANT, permission)
    runner.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, builtin, available FROM permissions WHERE tenant_id = 1")
        ).all()
    engine.dispose()
    assert sorted(rows) == [
        ("credentials:manage", 1, 1),
        ("credentials:read", 1, 1),
        ("tenant:admin", 1, 1),
    ]
    assert not runner.pending(create_engine(url))


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL database made for the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    assert PG_URL is not None
    name = f"gatepass_migration_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_clients_from_before_client_uids_each_get_their_own(empty_database: str) -> None:
    old_client = (
        "INSERT INTO oauth_clients (id, tenant_id, client_id, name, description, status,"
        " created_by, created_at) VALUES (:pk, 1, :client_id, 'old', '', 'active', 'cli',"
        " '2026-01-01 00:00:00')"
    )
    clients = [(old_client, {"pk": pk, "client_id": f"old-{pk}"}) for pk in (1, 2, 3)]
    engine = at_revision(empty_database, "0004", OLD_TENANT, *clients)
    runner.upgrade(engine)
    with engine.connect() as connection:
        uids = connection.execute(text("SELECT uid FROM oauth_clients ORDER BY id")).scalars()
        found = list(uids)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO oauth_clients (id, tenant_id, client_id, name, description, status,"
                " created_by, created_at, uid) VALUES (4, 1, 'new', 'new', '', 'active', 'cli',"
                " '2026-01-01 00:00:00', :uid)"
            ),
            {"uid": found[0]},
        )
    assert not runner.pending(engine)
    engine.dispose()
    assert len(set(found)) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", uid) for uid in found)


def test_the_migrations_build_the_schema_the_models_describe(empty_database: str) -> None:
    engine = create_engine(empty_database)
    runner.upgrade(engine)
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert drift == []


def test_client_secrets_stored_before_the_column_rename_keep_their_digest(
    empty_database: str,
) -> None:
    digest = bytes(range(32))
    client = (
        "INSERT INTO oauth_clients (id, tenant_id, client_id, name, description, status,"
        " created_by, created_at, uid) VALUES (1, 1, 'old', 'old', '', 'active', 'cli',"
        " '2026-01-01 00:00:00', :uid)"
    )
    secret = (
        "INSERT INTO client_secrets (id, client_pk, secret_hash, hint, created_at)"
        " VALUES (1, 1, :digest, 'gpcs_…abcd', '2026-01-01 00:00:00')"
    )
    engine = at_revision(
        empty_database,
        "0006",
        OLD_TENANT,
        (client, {"uid": "0" * 32}),
        (secret, {"digest": digest}),
    )
    runner.upgrade(engine)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT digest FROM client_secrets")).scalar_one()
    engine.dispose()
    assert bytes(stored) == digest
