"""``gatepass user`` commands: console users."""

from __future__ import annotations

import sys

import typer

from gatepass import provisioning
from gatepass.audit.service import Actor
from gatepass.cli.base import fail
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    emit_fields,
    emit_json,
    emit_table,
    iso,
    runtime,
    transaction,
)
from gatepass.tenants import service as tenants
from gatepass.users import service as users
from gatepass.users.models import ROLES

user_app = typer.Typer(help="Console users.")


@user_app.command("create")
def create(
    tenant: str = TenantOption,
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
    name: str = typer.Option("", "--name", help="Display name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a console user. The password is read from stdin, never from the command line."""
    if not password_stdin:
        fail("pass --password-stdin and the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    rt = runtime()
    with transaction(rt) as session:
        user = users.create_user(
            session,
            tenants.get_tenant(session, tenant),
            email=email,
            role=role,
            password=password,
            display_name=name,
            actor=Actor.cli(),
        )
        view = {"email": user.email, "role": user.role, "status": user.status, "tenant": tenant}
    emit_json(view) if as_json else emit_fields(f"User {user.email} created", view)


@user_app.command("list")
def list_(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """List a tenant's console users."""
    rt = runtime()
    with transaction(rt) as session:
        views = [
            {
                "email": u.email,
                "name": u.display_name,
                "role": u.role,
                "status": u.status,
                "created_at": iso(u.created_at),
            }
            for u in users.list_users(session, tenants.get_tenant(session, tenant))
        ]
    if as_json:
        emit_json(views)
        return
    emit_table(
        f"Users of {tenant}",
        ("email", "name", "role", "status", "created"),
        [tuple(v.values()) for v in views],
    )


@user_app.command("disable")
def disable(email: str, tenant: str = TenantOption) -> None:
    """Disable a user; their personal API keys stop working at once."""
    rt = runtime()
    with transaction(rt) as session:
        provisioning.set_status(
            session, tenants.get_tenant(session, tenant), email, active=False, actor=Actor.cli()
        )
    typer.echo(f"Disabled {email}.")


@user_app.command("enable")
def enable(email: str, tenant: str = TenantOption) -> None:
    """Enable a disabled user again."""
    rt = runtime()
    with transaction(rt) as session:
        provisioning.set_status(
            session, tenants.get_tenant(session, tenant), email, active=True, actor=Actor.cli()
        )
    typer.echo(f"Enabled {email}.")


@user_app.command("set-role")
def set_role(
    email: str,
    tenant: str = TenantOption,
    role: str = typer.Option(..., "--role", help=" | ".join(ROLES)),
) -> None:
    """Change a user's role."""
    rt = runtime()
    with transaction(rt) as session:
        provisioning.set_role(
            session, tenants.get_tenant(session, tenant), email, role=role, actor=Actor.cli()
        )
    typer.echo(f"{email} is now {role}.")
