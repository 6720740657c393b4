"""``gatepass webhook``: a tenant's webhook endpoints, their delivery log, and sending."""

from __future__ import annotations

import typer
from sqlalchemy.orm import Session

from gatepass.api.webhook_schemas import DeliveryOut, WebhookIssued, WebhookOut
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
    runtime,
    transaction,
)
from gatepass.destinations import Rules
from gatepass.pagination import PageRequest
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.webhooks import delivery, service
from gatepass.webhooks.signing import SecretBox

webhook_app = typer.Typer(help="Webhook endpoints: signed notices of credential changes.")

EndpointArgument = typer.Argument(..., help="The endpoint's id (ep_...).")
EventOption = typer.Option(
    None, "--event", "-e", help="An event type to send (repeatable); none: every type."
)


@webhook_app.command("list")
def list_endpoints(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """The tenant's webhook endpoints."""
    with transaction(runtime()) as session:
        found = [
            WebhookOut.of(e) for e in service.list_endpoints(session, _tenant(session, tenant))
        ]
    if as_json:
        emit_json([e.model_dump(mode="json") for e in found])
        return
    emit_table(
        f"Webhook endpoints of {tenant}",
        ("id", "url", "events", "enabled", "created by"),
        [(e.id, e.url, " ".join(e.events) or "all", e.enabled, e.created_by) for e in found],
    )


@webhook_app.command("create")
def create(
    tenant: str = TenantOption,
    url: str = typer.Option(..., "--url", help="The https URL that receives the events."),
    description: str = typer.Option("", "--description", "-d"),
    events: list[str] | None = EventOption,
    disabled: bool = typer.Option(False, "--disabled", help="Add it without sending to it yet."),
    as_json: bool = JsonOption,
) -> None:
    """Add an endpoint; its signing secret is printed this once."""
    rt = runtime()
    spec = service.EndpointSpec(
        url=url, description=description, events=events or (), enabled=not disabled
    )
    with transaction(rt) as session:
        endpoint, secret = service.create_endpoint(
            session,
            _tenant(session, tenant),
            spec,
            actor=Actor.cli(),
            rules=Rules.of(rt.settings),
            box=SecretBox.from_master_key(rt.settings.master_key()),
        )
        shown = WebhookIssued.issued(endpoint, secret.reveal())
    _show_secret(shown, as_json)


@webhook_app.command("update")
def update(
    endpoint_id: str = EndpointArgument,
    tenant: str = TenantOption,
    url: str | None = typer.Option(None, "--url"),
    description: str | None = typer.Option(None, "--description", "-d"),
    events: list[str] | None = EventOption,
    all_events: bool = typer.Option(False, "--all-events", help="Send every event type."),
    enabled: bool | None = typer.Option(None, "--enable/--disable"),
    as_json: bool = JsonOption,
) -> None:
    """Change an endpoint's URL, description or event types, or enable or disable it."""
    rt = runtime()
    chosen = () if all_events else events or None
    spec = service.EndpointSpec(url=url, description=description, events=chosen, enabled=enabled)
    with transaction(rt) as session:
        endpoint = service.update_endpoint(
            session,
            _tenant(session, tenant),
            endpoint_id,
            spec,
            actor=Actor.cli(),
            rules=Rules.of(rt.settings),
        )
        shown = WebhookOut.of(endpoint)
    _show(shown, as_json)


@webhook_app.command("delete")
def delete(
    endpoint_id: str = EndpointArgument, tenant: str = TenantOption, yes: bool = YesOption
) -> None:
    """Delete an endpoint, its unsent messages and its delivery log."""
    confirm(yes, f"Delete webhook endpoint '{endpoint_id}'? This cannot be undone.")
    with transaction(runtime()) as session:
        service.delete_endpoint(session, _tenant(session, tenant), endpoint_id, actor=Actor.cli())
    typer.echo(f"Deleted webhook endpoint {endpoint_id}.")


@webhook_app.command("rotate-secret")
def rotate_secret(
    endpoint_id: str = EndpointArgument, tenant: str = TenantOption, as_json: bool = JsonOption
) -> None:
    """A new signing secret, printed this once; the next attempts are signed with it."""
    rt = runtime()
    box = SecretBox.from_master_key(rt.settings.master_key())
    with transaction(rt) as session:
        endpoint, secret = service.rotate_secret(
            session, _tenant(session, tenant), endpoint_id, actor=Actor.cli(), box=box
        )
        shown = WebhookIssued.issued(endpoint, secret.reveal())
    _show_secret(shown, as_json)


@webhook_app.command("test")
def send_test(endpoint_id: str = EndpointArgument, tenant: str = TenantOption) -> None:
    """Queue a webhook.test event for the endpoint."""
    with transaction(runtime()) as session:
        message_id = service.send_test(
            session, _tenant(session, tenant), endpoint_id, actor=Actor.cli()
        )
    typer.echo(f"Queued {message_id}.")


@webhook_app.command("deliveries")
def deliveries(
    endpoint_id: str = EndpointArgument,
    tenant: str = TenantOption,
    limit: int = typer.Option(50, "--limit", min=1, max=200, help="The newest attempts."),
    as_json: bool = JsonOption,
) -> None:
    """The endpoint's delivery log, newest attempt first."""
    with transaction(runtime()) as session:
        page = service.attempts(
            session, _tenant(session, tenant), endpoint_id, PageRequest(limit=limit)
        )
        found = [DeliveryOut.of(a) for a in page.items]
    if as_json:
        emit_json([d.model_dump(mode="json") for d in found])
        return
    emit_table(
        f"Deliveries to {endpoint_id}",
        ("at", "event", "message", "attempt", "status", "ms"),
        [
            (
                iso(d.at),
                d.event_type,
                d.message_id,
                d.attempt,
                d.status_code or d.error,
                d.duration_ms,
            )
            for d in found
        ],
    )


@webhook_app.command("redeliver")
def redeliver(
    endpoint_id: str = EndpointArgument,
    message_id: str = typer.Argument(..., help="The message's webhook-id (msg_...)."),
    tenant: str = TenantOption,
) -> None:
    """Send a message again, with the same webhook-id."""
    with transaction(runtime()) as session:
        service.redeliver(
            session, _tenant(session, tenant), endpoint_id, message_id, actor=Actor.cli()
        )
    typer.echo(f"Queued {message_id} again.")


@webhook_app.command("deliver")
def deliver(as_json: bool = JsonOption) -> None:
    """Send the webhooks due now, of every tenant, once (servers also do it by themselves)."""
    rt = runtime()
    try:
        sent = delivery.deliver_due(rt.db, rt.settings)
    finally:
        rt.db.dispose()
    emit_json({"attempts": sent}) if as_json else typer.echo(f"Made {sent} delivery attempt(s).")


def _tenant(session: Session, slug: str) -> Tenant:
    return tenants.get_tenant(session, slug)


def _show(shown: WebhookOut, as_json: bool) -> None:
    if as_json:
        emit_json(shown.model_dump(mode="json"))
    else:
        emit_fields(f"Webhook endpoint {shown.id}", shown.model_dump(mode="json"))


def _show_secret(shown: WebhookIssued, as_json: bool) -> None:
    _show(shown, as_json)
    if not as_json:
        typer.echo("Store the signing secret now: it is not shown again.")
