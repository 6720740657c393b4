"""What every console page shares: templates, security headers, CSRF, the signed-in user, and
the one-time reveal of a new secret.

A new secret is never put in a URL or re-rendered on reload: the action that creates it seals it
(AES-256-GCM, bound to the session) into a short-lived HttpOnly cookie and redirects; the next
page shows it once in a dialog and clears the cookie.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.datastructures import FormData

from gatepass.api.auth import SESSION_COOKIE, source, threaded
from gatepass.audit.service import Actor
from gatepass.credential_secrets import derive_key
from gatepass.errors import InvalidInputError
from gatepass.services import Services
from gatepass.sessions import service as sessions
from gatepass.sessions.models import ConsoleSession
from gatepass.tenants.models import Tenant
from gatepass.text import is_plain
from gatepass.users.roles import Capability, role_has

HERE = Path(__file__).parent
REVEAL_COOKIE = "gatepass_reveal"
SIGN_IN_COOKIE = "gatepass_sign_in"
REVEAL_SECONDS = 120
NONCE = 12
MULTILINE_FIELDS = frozenset({"description", "allowed_ips"})  # one range per line

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

templates = Jinja2Templates(directory=HERE / "templates")


def as_text(value: Any) -> str:
    """A stored value (an audit event's detail) as a person reads it, not as Python prints it:
    a list as its items with commas, nothing as "none", a flag as "yes" or "no"."""
    if value is None or value in ([], {}):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(as_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {as_text(item)}" for key, item in value.items())
    return str(value)


templates.env.filters["as_text"] = as_text


@dataclass(frozen=True)
class Viewer:
    """The signed-in console user, for one request."""

    tenant_id: int
    tenant_slug: str
    user_id: int
    email: str
    name: str
    role: str
    token: str
    csrf: str

    def can(self, capability: str) -> bool:
        return role_has(self.role, Capability(capability))


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def keys(request: Request) -> sessions.SessionKeys:
    found: sessions.SessionKeys = request.app.state.session_keys
    return found


def secure(request: Request) -> bool:
    return services(request).settings.public_url.startswith("https://")


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, {"request": request, **context}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


def viewer_from(row: ConsoleSession, token: str, request: Request, slug: str) -> Viewer:
    user = row.user
    return Viewer(
        tenant_id=row.tenant_id,
        tenant_slug=slug,
        user_id=user.id,
        email=user.email,
        name=user.display_name or user.email,
        role=user.role,
        token=token,
        csrf=keys(request).csrf_token(token),
    )


def csrf_ok(request: Request, viewer: Viewer, presented: str | None) -> bool:
    return presented is not None and keys(request).csrf_matches(viewer.token, presented)


async def current_viewer(request: Request, tenant: str) -> Viewer | None:
    """The user signed in to ``tenant`` with this request's session cookie, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    db = services(request).db

    def load() -> Viewer | None:
        with db.transaction() as session:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
            if tenant_id is None:
                return None
            row = sessions.resolve(session, tenant_id, token, keys=keys(request))
            return viewer_from(row, token, request, tenant) if row is not None else None

    return await threaded(load)


async def signed_in(request: Request, tenant: str, need: str = "read") -> Viewer | Response:
    """The user signed in to ``tenant`` who holds ``need``, or the answer to send instead
    (the sign-in page, or "not allowed")."""
    viewer = await current_viewer(request, tenant)
    if viewer is None:
        return to_sign_in(tenant)
    if not viewer.can(need):
        return forbidden(request, viewer)
    return viewer


async def posted(
    request: Request, tenant: str, need: str = "read"
) -> tuple[Viewer | Response, FormData]:
    """``signed_in`` for a form post, which must also carry the session's CSRF token.

    Every field is one line of plain text but a description (``gatepass.text``): a form with a
    control character anywhere is refused here, before any action reads it.
    """
    viewer = await signed_in(request, tenant, need)
    form = await request.form()
    if isinstance(viewer, Viewer) and not csrf_ok(request, viewer, field(form, "csrf_token")):
        return forbidden(request, viewer), form
    bad = _unplain_field(form)
    if isinstance(viewer, Viewer) and bad is not None:
        message = f"The field “{bad}” must not contain control characters or line separators."
        return failed(request, viewer, message, request.url.path), form
    return viewer, form


def _unplain_field(form: FormData) -> str | None:
    """The name of the first field that holds a control character, if any."""
    for name, value in form.multi_items():
        text = value if isinstance(value, str) else ""
        if not (is_plain(name) and is_plain(text, multiline=name in MULTILINE_FIELDS)):
            return name if is_plain(name) else "(unnamed)"
    return None


def to_sign_in(tenant: str) -> RedirectResponse:
    return redirect(f"/console/sign-in?tenant={tenant}")


def forbidden(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "forbidden.html", {"viewer": viewer}, status=403)


def failed(
    request: Request, viewer: Viewer, message: str, back: str, status: int = 422
) -> Response:
    """An action could not be done: say why, and link back to where it started."""
    return render(
        request, "error.html", {"viewer": viewer, "message": message, "back": back}, status=status
    )


TITLES = {
    404: "Page not found",
    405: "Not allowed",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def error_page(request: Request, status: int, detail: str) -> Response:
    """A console error as a page (the API answers the same errors as problem documents)."""
    title = TITLES.get(status, "Could not do that")
    if status == 404:
        detail = "There is no console page at this address."
    elif status == 422:
        detail = (
            "The form or the address had invalid fields (a value may be too long, or hold a"
            " control character). Go back and try again."
        )
    return render(
        request,
        "error.html",
        {"viewer": None, "title": title, "message": detail, "back": "/console"},
        status=status,
    )


def actor_of(request: Request, viewer: Viewer) -> Actor:
    ip, agent = source(request)
    return Actor(kind="user", id=viewer.email, source_ip=ip, user_agent=agent, role=viewer.role)


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def end_of_day(value: str) -> datetime | None:
    """An expiry date from a form: the credential works until the end of that day (UTC)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInputError("expiry must be a date such as 2027-01-31") from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def start_of_day(value: str, *, next_day: bool = False) -> datetime | None:
    if not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInputError("dates look like 2026-11-22") from None
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    if not next_day:
        return start
    try:
        return start + timedelta(days=1)
    except OverflowError:  # 9999-12-31: "until the end of time"
        return None


# --- the one-time reveal of a new secret -----------------------------------------------------


def _reveal_cipher(request: Request) -> AESGCM:
    master = services(request).settings.master_key()
    return AESGCM(derive_key(master, b"gatepass console reveal v1"))


def set_reveal(
    request: Request, response: Response, viewer: Viewer, payload: dict[str, str]
) -> None:
    nonce = secrets.token_bytes(NONCE)
    aad = keys(request).tokens.digest(viewer.token)
    sealed = nonce + _reveal_cipher(request).encrypt(nonce, json.dumps(payload).encode(), aad)
    response.set_cookie(
        REVEAL_COOKIE,
        sealed.hex(),
        max_age=REVEAL_SECONDS,
        path=f"/console/{viewer.tenant_slug}",
        secure=secure(request),
        httponly=True,
        samesite="strict",
    )


def take_reveal(request: Request, viewer: Viewer) -> dict[str, str] | None:
    """The secret to show on this page, if an action just made one (the cookie is then cleared
    by ``clear_reveal``)."""
    raw = request.cookies.get(REVEAL_COOKIE)
    if not raw:
        return None
    try:
        sealed = bytes.fromhex(raw)
        aad = keys(request).tokens.digest(viewer.token)
        plain = _reveal_cipher(request).decrypt(sealed[:NONCE], sealed[NONCE:], aad)
        payload: dict[str, str] = json.loads(plain)
    except (ValueError, InvalidTag):
        return None
    return payload


def clear_reveal(response: Response, viewer: Viewer) -> None:
    response.delete_cookie(
        REVEAL_COOKIE, path=f"/console/{viewer.tenant_slug}", httponly=True, samesite="strict"
    )
