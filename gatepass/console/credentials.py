"""The API credentials page: OAuth clients, their one-time secret, and their lifecycle."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from gatepass.api.auth import threaded
from gatepass.api.schemas import ClientOut
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.console import catalog, forms
from gatepass.console.issuing import Issued, check_email_to, issue
from gatepass.console.web import (
    Viewer,
    actor_of,
    clear_reveal,
    failed,
    field,
    posted,
    redirect,
    render,
    services,
    signed_in,
    take_reveal,
)
from gatepass.credentials import lifecycle, revoking
from gatepass.deliveries import mail
from gatepass.destinations import Rules
from gatepass.errors import DomainError, ForbiddenError, InvalidInputError, NotFoundError
from gatepass.pagination import PageRequest
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.users.roles import ungrantable

router = APIRouter()
LISTED = 200
ACTIONS = ("rotate", "suspend", "resume", "revoke", "delete", "revoke-all")
# the row actions that change a credential's status, by the lifecycle function doing it
STATUS_CHANGES = {
    "suspend": lifecycle.suspend,
    "resume": lifecycle.resume,
    "revoke": lifecycle.revoke,
}


@dataclass(frozen=True)
class FormPage:
    """How the shared credential form reads and where it goes."""

    heading: str
    action: str
    submit: str
    back: str  # the listing: "Cancel", and where a created credential's dialog leads
    active: str  # the navigation entry
    rate_limit: bool = False
    personal: bool = False  # a personal key: never emailed
    editing: bool = False  # an existing credential: no secret is made, so none is emailed
    public_keys: bool = False  # offers public keys (private_key_jwt) instead of a secret


def revealer(viewer: Viewer) -> Callable[[list[str]], bool]:
    """For a page's row menus: may ``viewer`` see a new secret of a credential with these
    scopes (the services enforce it; the page only leaves out what would be refused)."""
    return lambda scopes: not ungrantable(viewer.role, scopes)


def refusal_status(exc: DomainError, *, missing: int = 422) -> int:
    """403 when the role or the person may not do it; ``missing`` when what it names does not
    exist; 422 for anything else."""
    if isinstance(exc, NotFoundError):
        return missing
    return 403 if isinstance(exc, ForbiddenError) else 422


def token_url(request: Request, tenant: str) -> str:
    return f"{services(request).settings.public_url}/realms/{tenant}/protocol/openid-connect/token"


@router.get("/{tenant}/credentials")
async def credentials_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant)
    if isinstance(viewer, Response):
        return viewer
    reveal = take_reveal(request, viewer)

    def load() -> tuple[list[ClientOut], dict[str, object]]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, tenant)
            page = lifecycle.search(
                session, found, CLIENT, lifecycle.CredentialFilter(), PageRequest(limit=LISTED)
            )
            return [ClientOut.of(c) for c in page.items], listing_context(session, found, CLIENT)

    listed, context = await threaded(load)
    response = render(
        request,
        "credentials.html",
        {
            "viewer": viewer,
            "reveal": reveal,
            "token_url": token_url(request, tenant),
            "clients": listed,
            "more": len(listed) >= LISTED,
            "may_reveal": revealer(viewer),
            **context,
        },
    )
    if reveal is not None:
        clear_reveal(response, viewer)
    return response


def listing_context(
    session: Session, tenant: Tenant, kind: lifecycle.Kind[Any]
) -> dict[str, object]:
    """What a page listing credentials of ``kind`` shows beyond them: their permissions by
    label (``catalog``), and the counts of its "Revoke all" dialog (``revoke_counts``)."""
    return {
        "catalog": catalog.load(session, tenant),
        "revoke_counts": catalog.revoke_all(session, tenant, kind),
    }


def client_form(viewer: Viewer) -> FormPage:
    base = f"/console/{viewer.tenant_slug}/credentials"
    return FormPage(
        heading="New OAuth client credentials",
        action=base,
        submit="Save and generate credentials",
        back=base,
        active="credentials",
        public_keys=True,
    )


async def form_page(
    request: Request,
    viewer: Viewer,
    page: FormPage,
    values: forms.CredentialForm,
    error: str | None,
    *,
    status: int = 200,
    warning: str | None = None,
    versions: list[Any] | None = None,
) -> Response:
    """The credential form; ``versions``: an edited credential's secret versions."""
    context = await forms.choices(request, viewer, personal=page.personal)
    return render(
        request,
        "credential_form.html",
        {
            "viewer": viewer,
            "form": page,
            "values": values,
            "error": error,
            "warning": warning,
            "active": page.active,
            "mail": mail.configured(services(request).settings)
            and not (page.personal or page.editing),
            "versions": versions or [],
            **context,
        },
        status=status,
    )


async def new_form(
    request: Request, tenant: str, page_of: Callable[[Viewer], FormPage]
) -> Response:
    """The empty form for a new credential."""
    viewer = await signed_in(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    return await form_page(request, viewer, page_of(viewer), forms.CredentialForm(), None)


async def create_from_form(
    request: Request,
    tenant: str,
    page_of: Callable[[Viewer], FormPage],
    spec_of: Callable[[forms.CredentialForm, Viewer], Any],
    make: Callable[..., tuple[Any, Any]],
    issued: Callable[[Any, str], Issued],
) -> Response:
    """Create the credential the form describes (``make(session, tenant, spec, actor=,
    hasher=)``) and show its secret once, or email it as a one-time link; on a refusal, the
    form again with what was typed and why."""
    viewer, form = await posted(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    values = forms.CredentialForm.read(form)
    page = page_of(viewer)
    if page.personal and not values.scopes and not values.empty_ok:
        # A personal key acts only with what it is granted: with nothing, it is useless. Say so
        # and let the user choose, rather than make a key that fails everywhere without a word.
        return await form_page(request, viewer, page, values, None, warning=forms.EMPTY_KEY)
    actor = actor_of(request, viewer)
    hasher = services(request).hasher
    try:
        spec = spec_of(values, viewer)
        if any(getattr(spec, name, None) for name in ("jwks", "jwks_uri", "federation")):
            return await create_keyed(request, viewer, spec, make, values, then=page.back)
        recipient = None if page.personal else check_email_to(request, values.email_to)

        def work(session: Session, found: Tenant) -> Issued:
            row, secret = make(session, found, spec, actor=actor, hasher=hasher)
            return issued(row, secret.reveal())

        return await issue(request, viewer, work, email_to=recipient, then=page.back)
    except DomainError as exc:
        # Pasted keys are never shown again: a private key pasted by mistake stays out of the page.
        kept = replace(values, jwks="")
        return await form_page(request, viewer, page, kept, str(exc), status=refusal_status(exc))


async def create_keyed(
    request: Request,
    viewer: Viewer,
    spec: Any,
    make: Callable[..., tuple[Any, Any]],
    values: forms.CredentialForm,
    *,
    then: str,
) -> Response:
    """A client with public keys: nothing secret is made, so nothing is shown or emailed; the
    new client is in the list, its client ID ready to copy."""
    if values.email_to:
        raise InvalidInputError("a client without a secret has no secret to email")
    actor, hasher = actor_of(request, viewer), services(request).hasher

    def work() -> None:
        with services(request).db.transaction() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            make(session, found, spec, actor=actor, hasher=hasher)

    await threaded(work)
    return redirect(then)


@router.get("/{tenant}/credentials/new")
async def new_credential_page(request: Request, tenant: str) -> Response:
    return await new_form(request, tenant, client_form)


@router.post("/{tenant}/credentials")
async def create_credential(request: Request, tenant: str) -> Response:
    return await create_from_form(
        request,
        tenant,
        client_form,
        lambda values, viewer: clients.NewClient(
            **values.shared(),
            jwks=values.public_keys(),
            jwks_uri=values.jwks_uri or None,
            federation=values.federation_rules(),
        ),
        functools.partial(
            clients.create_client, key_rules=Rules.for_keys(services(request).settings)
        ),
        lambda client, secret: client_issued(client.client_id, client.name, secret),
    )


def client_issued(client_id: str, name: str, secret: str, event: str = "created") -> Issued:
    return Issued(
        kind="client",
        target_type="oauth_client",
        target=client_id,
        name=name,
        secret=secret,
        event=event,
        shown={"client_id": client_id},
    )


@router.post("/{tenant}/credentials/{client_id}/{action}")
async def credential_action(request: Request, tenant: str, client_id: str, action: str) -> Response:
    viewer, form = await posted(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    back = f"/console/{tenant}/credentials"
    if action not in ACTIONS:
        return failed(request, viewer, f"Unknown action “{action}”.", back, status=404)
    return await act(
        request,
        viewer,
        CLIENT,
        client_id,
        action,
        back,
        issued=lambda client, secret: client_issued(client_id, client.name, secret, "rotated"),
        keep_management=keeps_management(form),
        grace=field(form, "grace"),
    )


# What the rotate and regenerate dialogs offer: how long the old secret keeps working.
GRACE_CHOICES = {"": None, "0": None, "3600": 1, "86400": 24, "604800": 168}  # hours


def grace_of(choice: str) -> timedelta | None:
    if choice not in GRACE_CHOICES:
        raise InvalidInputError("the grace period must be none, 1 hour, 24 hours or 7 days")
    hours = GRACE_CHOICES[choice]
    return timedelta(hours=hours) if hours else None


def keeps_management(form: FormData) -> bool:
    """The "Revoke all" dialog's checkbox: checked, the management credentials are kept."""
    return field(form, "keep_management") == "yes"


Guard = Callable[[Session, Tenant], None]


async def act(
    request: Request,
    viewer: Viewer,
    kind: lifecycle.Kind[Any],
    ref: str,
    action: str,
    back: str,
    *,
    issued: Callable[[Any, str], Issued],
    email_to: str = "",
    keep_management: bool = False,
    grace: str = "",
    guard: Guard | None = None,
) -> Response:
    """A row menu action on a credential of ``kind``: a new secret (shown once, or emailed as
    a one-time link), suspend, resume, revoke, delete, or revoke all (``keep_management``:
    but those that verify API keys or manage Gatepass); ``guard`` may refuse first."""
    actor = actor_of(request, viewer)
    svc = services(request)

    def guarded(session: Session, found: Tenant) -> None:
        if guard is not None:
            guard(session, found)

    def work(session: Session, found: Tenant) -> Issued:
        guarded(session, found)
        row, secret = lifecycle.rotate(
            session, found, kind, ref, grace=grace_of(grace), actor=actor, hasher=svc.hasher
        )
        return issued(row, secret.reveal())

    def change() -> None:
        with svc.db.transaction() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            guarded(session, found)
            if action == "revoke-all":
                revoking.revoke_all(
                    session, found, kind, actor=actor, keep_management=keep_management
                )
            elif action in STATUS_CHANGES:
                STATUS_CHANGES[action](session, found, kind, ref, actor=actor)
            else:
                lifecycle.delete(session, found, kind, ref, actor=actor)

    try:
        if action in ("rotate", "regenerate"):
            recipient = check_email_to(request, email_to)
            return await issue(request, viewer, work, email_to=recipient, then=back)
        await threaded(change)
    except DomainError as exc:
        return failed(request, viewer, str(exc), back, status=refusal_status(exc))
    return redirect(back)
