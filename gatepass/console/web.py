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
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gatepass.credential_secrets import derive_key
from gatepass.services import Services
from gatepass.sessions import service as sessions
from gatepass.sessions.models import ConsoleSession
from gatepass.users.roles import Capability, role_has

HERE = Path(__file__).parent
REVEAL_COOKIE = "gatepass_reveal"
SIGN_IN_COOKIE = "gatepass_sign_in"
REVEAL_SECONDS = 120
NONCE = 12

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
