"""``gatepass client|apikey update``: one command for every kind of credential.

The options every credential shares are declared once here; a kind adds its own (a client's
token lifetime, a key's rate limit) and says how they become its ``…Changes``. Typer reads a
command's options from its signature, so the command's signature is put together from both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import typer

from gatepass.audit.service import Actor
from gatepass.cli.base import fail
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    emit_fields,
    emit_json,
    runtime,
    transaction,
)
from gatepass.cli.lifecycle import View, expiry
from gatepass.tenants import service as tenants

# What a kind makes of the shared changes and its own options' values: its ``…Changes``.
Spec = Callable[[dict[str, Any], dict[str, Any]], Any]


def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """A keyword option of a command whose signature is put together (``add_update``)."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# The options of ``update``: each left out leaves its field as it is.
SHARED = (
    option("name", str | None, typer.Option(None, "--name", help="A new name.")),
    option(
        "description",
        str | None,
        typer.Option(None, "--description", help="A new description."),
    ),
    option(
        "scope",
        list[str] | None,
        typer.Option(
            None, "--scope", help="Permission to hold (repeatable); replaces the permissions held."
        ),
    ),
    option("no_scopes", bool, typer.Option(False, "--no-scopes", help="Hold no permission.")),
    option(
        "group",
        list[str] | None,
        typer.Option(None, "--group", help="Client group (repeatable); replaces the groups."),
    ),
    option(
        "no_groups", bool, typer.Option(False, "--no-groups", help="Restrict to no client group.")
    ),
    option(
        "expires_in",
        str | None,
        typer.Option(None, "--expires-in", help="Expire this long from now."),
    ),
    option("no_expiry", bool, typer.Option(False, "--no-expiry", help="Never expire.")),
    option(
        "allow_ip",
        list[str] | None,
        typer.Option(
            None,
            "--allow-ip",
            help="Address or CIDR range (repeatable); replaces the IP allowlist.",
        ),
    ),
    option("any_ip", bool, typer.Option(False, "--any-ip", help="Remove the IP allowlist.")),
)


def changes(
    *,
    name: str | None,
    description: str | None,
    scope: list[str] | None,
    no_scopes: bool,
    group: list[str] | None,
    no_groups: bool,
    expires_in: str | None,
    no_expiry: bool,
    allow_ip: list[str] | None,
    any_ip: bool,
) -> dict[str, Any]:
    """The shared fields of ``CredentialChanges`` from ``update``'s options."""
    for given, flag, option_ in ((scope, no_scopes, "--scope"), (group, no_groups, "--group")):
        if given and flag:
            fail(f"{option_} and --no-{option_[2:]}s cannot be given together")
    for given_, flag_, pair in (
        (expires_in, no_expiry, "--expires-in and --no-expiry"),
        (allow_ip, any_ip, "--allow-ip and --any-ip"),
    ):
        if given_ and flag_:
            fail(f"{pair} cannot be given together")
    return {
        "name": name,
        "description": description,
        "scopes": [] if no_scopes else (scope or None),
        "groups": [] if no_groups else (group or None),
        "expires_at": expiry(expires_in),
        "clear_expiry": no_expiry,
        "allowed_ips": [] if any_ip else (allow_ip or None),
    }


def edited(
    tenant: str, edit: Callable[..., Any], ref: str, spec: Callable[[], Any], view: View
) -> dict[str, Any]:
    """``edit(session, tenant, ref, spec(), actor=)`` a credential; its view. A refusal, reading
    the options included, is one line."""
    with transaction(runtime()) as session:
        tenant_ = tenants.get_tenant(session, tenant)
        return view(edit(session, tenant_, ref, spec(), actor=Actor.cli()))


def add_update(
    app: typer.Typer,
    *,
    ref: str,
    title: str,
    edit: Callable[..., Any],
    view: View,
    own: Sequence[inspect.Parameter],
    spec: Spec,
    doc: str,
) -> None:
    """Register ``update`` on ``app``: the shared options and the kind's ``own``; ``spec`` makes
    the kind's changes, ``edit`` applies them. ``ref`` names the argument (``client_id``)."""
    shared = [p.name for p in SHARED]

    def command(ident: str, tenant: str, as_json: bool, **values: Any) -> None:
        common = {name: values.pop(name) for name in shared}
        shown = edited(tenant, edit, ident, lambda: spec(changes(**common), values), view)
        fields = {k: v for k, v in shown.items() if k != "secrets"}
        emit_json(shown) if as_json else emit_fields(f"{title} {ident}", fields)

    argument = typer.Argument(..., metavar=ref)
    parameters = [
        inspect.Parameter("ident", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=argument),
        option("tenant", str, TenantOption),
        *SHARED,
        *own,
        option("as_json", bool, JsonOption),
    ]
    parameters[0] = parameters[0].replace(annotation=str)
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    app.command("update", help=doc)(command)
