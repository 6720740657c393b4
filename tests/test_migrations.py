"""Migrations carry existing data forward."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from gatepass.migrations import runner


def test_tenants_from_before_the_management_api_get_its_builtin_permissions(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = runner.alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            text(
                "INSERT INTO tenants (id, slug, name, token_lifetime, audience, allowed_audiences,"
                " signing_alg, created_at) VALUES (1, 'old', 'Old', 600, 'api://old', '[]',"
                " 'ES256', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO permissions (tenant_id, name, label, description, available,"
                " unavailable_reason, builtin) VALUES (1, 'credentials:manage', 'Manage', '',"
                " 1, '', 1)"
            )
        )
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
