"""The tenant's credential policy, as a form for administrators: every field of
``credentials.policy.CredentialPolicy``, saved through ``provisioning.update_settings`` as the
management API saves it (checked, audited as ``tenant.update``), errors shown in the form.

The same page holds the trusted issuers of workload identity federation (``gatepass.federation``)
as JSON, saved the same way."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from gatepass import provisioning
from gatepass.api.auth import threaded
from gatepass.console.forms import PERIODS, CredentialForm, read_rate
from gatepass.console.web import (
    Viewer,
    actor_of,
    field,
    posted,
    redirect,
    render,
    services,
    signed_in,
)
from gatepass.credentials.policy import CredentialPolicy
from gatepass.destinations import Rules
from gatepass.errors import DomainError, InvalidInputError
from gatepass.tenants import service as tenants
from gatepass.tenants.service import TenantSettings

router = APIRouter()
FIELDS = (
    "max_lifetime_days",
    "expiry_required",
    "rate_requests",
    "rate_period",
    "allowed_ips",
    "dormant_after_days",
    "auto_suspend_dormant",
    "leak_action",
)


@router.get("/{tenant}/policy")
async def policy_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer

    def load() -> tuple[dict[str, Any], str]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, tenant)
            values = form_values(CredentialPolicy.of(found.credential_policy))
            return values, _issuers_text(found.trusted_issuers)

    values, issuers = await threaded(load)
    saved = request.query_params.get("saved")
    return _render(request, viewer, values, error=None, saved=saved, issuers=issuers)


@router.post("/{tenant}/policy")
async def save_policy(request: Request, tenant: str) -> Response:
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    values = {name: field(form, name) for name in FIELDS}
    actor = actor_of(request, viewer)

    def work() -> None:
        changes = TenantSettings(credential_policy=policy_of(form).stored())
        svc = services(request)
        with svc.db.transaction() as session:
            found = tenants.get_tenant(session, tenant)
            provisioning.update_settings(session, found, changes, actor=actor, cipher=svc.cipher)

    try:
        await threaded(work)
    except DomainError as exc:
        issuers = await threaded(lambda: _stored_issuers(request, tenant))
        return _render(
            request, viewer, values, error=str(exc), saved=None, status=422, issuers=issuers
        )
    return redirect(f"/console/{tenant}/policy?saved=1")


@router.post("/{tenant}/policy/trusted-issuers")
async def save_trusted_issuers(request: Request, tenant: str) -> Response:
    """Replace the trusted issuers with the JSON list typed into the form."""
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    typed = field(form, "trusted_issuers").strip()
    actor = actor_of(request, viewer)

    def work() -> None:
        try:
            listed = json.loads(typed or "[]")
        except ValueError:
            raise InvalidInputError(
                'trusted issuers must be a JSON list: [{"issuer": "https://..."}]'
            ) from None
        svc = services(request)
        with svc.db.transaction() as session:
            found = tenants.get_tenant(session, tenant)
            provisioning.update_settings(
                session,
                found,
                TenantSettings(trusted_issuers=listed),
                actor=actor,
                cipher=svc.cipher,
                key_rules=Rules.for_keys(svc.settings),
            )

    try:
        await threaded(work)
    except DomainError as exc:

        def load() -> dict[str, Any]:
            with services(request).db.read() as session:
                found = tenants.get_tenant(session, tenant)
                return form_values(CredentialPolicy.of(found.credential_policy))

        values = await threaded(load)
        return _render(
            request, viewer, values, error=None, saved=None, status=422, issuers=typed,
            issuers_error=str(exc),
        )  # fmt: skip
    return redirect(f"/console/{tenant}/policy?saved=issuers")


def _stored_issuers(request: Request, tenant: str) -> str:
    with services(request).db.read() as session:
        return _issuers_text(tenants.get_tenant(session, tenant).trusted_issuers)


def _issuers_text(stored: list[dict[str, Any]]) -> str:
    """The trusted issuers as the form shows them: JSON, without the fields left empty."""
    shown = [{k: v for k, v in item.items() if v} for item in stored]
    return json.dumps(shown, indent=2) if shown else ""


def form_values(policy: CredentialPolicy) -> dict[str, Any]:
    """The form's fields as ``policy`` fills them."""
    requests, period = CredentialForm.rate_of(policy.default_rate_limit, policy.default_rate_period)
    return {
        "max_lifetime_days": _number(policy.max_lifetime_days),
        "expiry_required": "on" if policy.expiry_required else "",
        "rate_requests": requests,
        "rate_period": period,
        "allowed_ips": "\n".join(policy.allowed_ips),
        "dormant_after_days": _number(policy.dormant_after_days),
        "auto_suspend_dormant": "on" if policy.auto_suspend_dormant else "",
        "leak_action": policy.leak_action,
    }


def policy_of(form: FormData) -> CredentialPolicy:
    """The policy the form asks for; ``InvalidInputError`` says which field is wrong."""
    rate = read_rate(field(form, "rate_requests").strip(), field(form, "rate_period"))
    return CredentialPolicy(
        max_lifetime_days=_whole(form, "max_lifetime_days", "The maximum lifetime"),
        expiry_required=field(form, "expiry_required") == "on",
        default_rate_limit=rate.limit if rate else None,
        default_rate_period=rate.period if rate else None,
        allowed_ips=tuple(field(form, "allowed_ips").replace(",", " ").split()),
        dormant_after_days=_whole(form, "dormant_after_days", "Dormant after"),
        auto_suspend_dormant=field(form, "auto_suspend_dormant") == "on",
        leak_action=field(form, "leak_action") or "revoke",
    ).checked()


def _whole(form: FormData, name: str, label: str) -> int | None:
    text = field(form, name).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        raise InvalidInputError(f"{label} must be a whole number of days")
    return int(text)


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _render(
    request: Request,
    viewer: Viewer,
    values: dict[str, Any],
    *,
    error: str | None,
    saved: str | None,
    status: int = 200,
    issuers: str = "",
    issuers_error: str | None = None,
) -> Response:
    periods = {name: name for name in PERIODS}
    if values["rate_period"] not in periods and str(values["rate_period"]).isdigit():
        periods[values["rate_period"]] = f"{values['rate_period']} seconds"
    context = {
        "viewer": viewer,
        "values": values,
        "periods": periods,
        "error": error,
        "saved": saved,
        "issuers": issuers,
        "issuers_error": issuers_error,
    }
    return render(request, "policy.html", context, status=status)
