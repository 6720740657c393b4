"""The commands every credential kind shares, written once: create, list, show, a new secret,
revoke, revoke all, delete. ``gatepass client`` and ``gatepass apikey`` call these with their
kind and the view that shows one of theirs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import typer

from gatepass.audit.service import Actor
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    YesOption,
    confirm,
    emit_fields,
    emit_json,
    emit_table,
    iso,
    parse_duration,
    runtime,
    transaction,
)
from gatepass.credentials import grace, lifecycle, revoking
from gatepass.db import utcnow
from gatepass.tenants import service as tenants

View = Callable[[Any], dict[str, Any]]
# A column of a listing: its heading and what it shows of a credential's view.
Column = tuple[str, Callable[[dict[str, Any]], Any]]

DescriptionOption = typer.Option("", "--description")
ScopeOption = typer.Option(None, "--scope", help="Permission to grant (repeatable).")
GroupOption = typer.Option(None, "--group", help="Client group (repeatable).")
ExpiresInOption = typer.Option(None, "--expires-in", help="e.g. 90d; default: never.")
AllowIpOption = typer.Option(
    None, "--allow-ip", help="Address or CIDR range it may be used from (repeatable)."
)


def expiry(expires_in: str | None) -> datetime | None:
    """When a credential created now with ``--expires-in`` expires."""
    return utcnow() + parse_duration(expires_in) if expires_in else None


def view_of(kind: lifecycle.Kind[Any], row: Any, now: datetime) -> dict[str, Any]:
    """What every kind's view shows: a kind's view adds its own fields to these."""
    return {
        "name": row.name,
        "description": row.description,
        "scopes": [p.name for p in row.permissions],
        "groups": [g.name for g in row.groups],
        "status": lifecycle.status_of(kind, row, now),
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
        "expires_at": iso(row.expires_at),
        "allowed_ips": row.allowed_ips.split(),
    }


def versions(row: Any, now: datetime) -> list[dict[str, Any]]:
    """Each secret version of a credential, with its own last use (never the secret)."""
    return [
        {
            "hint": s.hint,
            "created_at": iso(s.created_at),
            "expires_at": iso(s.expires_at),
            "last_used_at": iso(s.last_used_at),
            "active": s.expires_at is None or s.expires_at > now,
        }
        for s in row.secrets
    ]


def versions_table(shown: list[dict[str, Any]]) -> None:
    emit_table(
        "Secret versions",
        ("hint", "created", "ends", "last used", "active"),
        [
            (
                s["hint"],
                s["created_at"],
                s["expires_at"] or "-",
                s["last_used_at"] or "never",
                "yes" if s["active"] else "no",
            )
            for s in shown
        ],
    )


def created(
    tenant: str, make: Callable[..., tuple[Any, Any]], spec: Callable[[], Any], view: View
) -> tuple[dict[str, Any], Any]:
    """``make(session, tenant, spec(), actor=, hasher=)`` a credential: its view and its secret
    (in the clear, to be shown once; None for a client with public keys, which has none). A
    refusal, reading the options included, is one line."""
    rt = runtime()
    with transaction(rt) as session:
        row, secret = make(
            session, _tenant(session, tenant), spec(), actor=Actor.cli(), hasher=rt.hasher
        )
        return view(row), secret.reveal() if secret is not None else None


def list_table(
    kind: lifecycle.Kind[Any], tenant: str, view: View, columns: Sequence[Column], as_json: bool
) -> None:
    """Every credential of ``kind`` in ``tenant``, as JSON or as a table of ``columns``."""
    views = listed(kind, tenant, view)
    if as_json:
        emit_json(views)
        return
    emit_table(
        f"{kind.plural} of {tenant}",
        [heading for heading, _ in columns],
        [[shown(v) for _, shown in columns] for v in views],
    )


def scopes(view: dict[str, Any]) -> str:
    return " ".join(view["scopes"])


def last_used(view: dict[str, Any]) -> str:
    return str(view["last_used_at"] or "never")


def listed(kind: lifecycle.Kind[Any], tenant: str, view: View) -> list[dict[str, Any]]:
    with transaction(runtime()) as session:
        return [view(row) for row in lifecycle.list_all(session, _tenant(session, tenant), kind)]


def shown(kind: lifecycle.Kind[Any], tenant: str, ref: str, view: View) -> dict[str, Any]:
    with transaction(runtime()) as session:
        return view(lifecycle.get(session, _tenant(session, tenant), kind, ref))


def rotated(
    kind: lifecycle.Kind[Any], tenant: str, ref: str, grace: str | None, view: View
) -> tuple[dict[str, Any], str]:
    """A new secret (returned in the clear, to be shown once) and the credential's view."""
    rt = runtime()
    period = parse_duration(grace) if grace else None
    with transaction(rt) as session:
        row, secret = lifecycle.rotate(
            session,
            _tenant(session, tenant),
            kind,
            ref,
            grace=period,
            actor=Actor.cli(),
            hasher=rt.hasher,
        )
        return view(row), secret.reveal()


KeepManagementOption = typer.Option(
    False,
    "--keep-management",
    help="Keep the credentials holding api_keys:verify or a management permission"
    " (credentials:read, credentials:manage, tenant:admin).",
)
Change = Callable[..., Any]  # lifecycle.suspend, resume or revoke
DONE = {lifecycle.suspend: "Suspended", lifecycle.resume: "Resumed", lifecycle.revoke: "Revoked"}


def change_status(
    change: Change, kind: lifecycle.Kind[Any], tenant: str, ref: str, view: View, as_json: bool
) -> None:
    with transaction(runtime()) as session:
        shown_view = view(change(session, _tenant(session, tenant), kind, ref, actor=Actor.cli()))
    emit_json(shown_view) if as_json else typer.echo(f"{DONE[change]} {kind.label} {ref}.")


def retire_unused(
    kind: lifecycle.Kind[Any], tenant: str, ref: str, idle: str, view: View, as_json: bool
) -> None:
    with transaction(runtime()) as session:
        row, ended = grace.retire_unused(
            session,
            _tenant(session, tenant),
            kind,
            ref,
            idle=parse_duration(idle),
            actor=Actor.cli(),
        )
        shown_view = view(row)
    if as_json:
        emit_json({**shown_view, "retired": ended})
    else:
        typer.echo(
            f"Ended {ended} older secret version(s) of {kind.label} {ref} unused for {idle}."
        )


def revoke_all(
    kind: lifecycle.Kind[Any], tenant: str, *, keep_management: bool, yes: bool, as_json: bool
) -> None:
    kept = " but those that verify API keys or manage Gatepass" if keep_management else ""
    confirm(yes, f"Revoke ALL {kind.plural} of tenant '{tenant}'{kept}?")
    with transaction(runtime()) as session:
        count = revoking.revoke_all(
            session,
            _tenant(session, tenant),
            kind,
            actor=Actor.cli(),
            keep_management=keep_management,
        )
    emit_json({"revoked": count}) if as_json else typer.echo(f"Revoked {count} {kind.label}(s).")


def delete(kind: lifecycle.Kind[Any], tenant: str, ref: str, *, yes: bool, as_json: bool) -> None:
    confirm(yes, f"Delete {kind.label} '{ref}'? This cannot be undone.")
    with transaction(runtime()) as session:
        lifecycle.delete(session, _tenant(session, tenant), kind, ref, actor=Actor.cli())
    emit_json({"deleted": ref}) if as_json else typer.echo(f"Deleted {kind.label} {ref}.")


def _tenant(session: Any, slug: str) -> Any:
    return tenants.get_tenant(session, slug)


def add_commands(
    app: typer.Typer,
    kind: lifecycle.Kind[Any],
    ref: str,
    view: View,
    *,
    title: str,
    columns: Sequence[Column],
    docs: dict[str, str],
) -> None:
    """Register ``list``, ``show``, ``retire-unused``, ``suspend``, ``resume``, ``revoke``,
    ``revoke-all`` and ``delete`` of ``kind`` on ``app``; ``ref`` names the argument in the help
    (``client_id``), ``title`` one credential (``API key``), ``columns`` the list's table and
    ``docs`` each command's help."""

    def list_command(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
        list_table(kind, tenant, view, columns, as_json)

    def show_command(
        ident: str = typer.Argument(..., metavar=ref),
        tenant: str = TenantOption,
        as_json: bool = JsonOption,
    ) -> None:
        shown_ = shown(kind, tenant, ident, view)
        if as_json:
            emit_json(shown_)
            return
        emit_fields(f"{title} {ident}", {k: v for k, v in shown_.items() if k != "secrets"})
        versions_table(shown_["secrets"])

    def status_command(change: Change) -> Callable[..., None]:
        def command(
            ident: str = typer.Argument(..., metavar=ref),
            tenant: str = TenantOption,
            as_json: bool = JsonOption,
        ) -> None:
            change_status(change, kind, tenant, ident, view, as_json)

        return command

    def retire_command(
        ident: str = typer.Argument(..., metavar=ref),
        tenant: str = TenantOption,
        idle: str = typer.Option("60m", "--idle", help="Unused for at least this long (min 5m)."),
        as_json: bool = JsonOption,
    ) -> None:
        retire_unused(kind, tenant, ident, idle, view, as_json)

    def revoke_all_command(
        tenant: str = TenantOption,
        keep_management: bool = KeepManagementOption,
        yes: bool = YesOption,
        as_json: bool = JsonOption,
    ) -> None:
        revoke_all(kind, tenant, keep_management=keep_management, yes=yes, as_json=as_json)

    def delete_command(
        ident: str = typer.Argument(..., metavar=ref),
        tenant: str = TenantOption,
        yes: bool = YesOption,
        as_json: bool = JsonOption,
    ) -> None:
        delete(kind, tenant, ident, yes=yes, as_json=as_json)

    app.command("list", help=docs["list"])(list_command)
    app.command("show", help=docs["show"])(show_command)
    app.command("retire-unused", help=docs["retire"])(retire_command)
    app.command("suspend", help=docs["suspend"])(status_command(lifecycle.suspend))
    app.command("resume", help=docs["resume"])(status_command(lifecycle.resume))
    app.command("revoke", help=docs["revoke"])(status_command(lifecycle.revoke))
    app.command("revoke-all", help=docs["revoke_all"])(revoke_all_command)
    app.command("delete", help=docs["delete"])(delete_command)
