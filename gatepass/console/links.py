"""The page behind an emailed one-time link.

The link's token travels in the URL's fragment (``/console/link#…``), which browsers never send
to a server, so it reaches no access log or proxy. The page asks before revealing: the token goes
in a POST only when the recipient presses the button, so a mail scanner that follows links does
not use the link up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from gatepass.api.auth import source, threaded
from gatepass.audit.service import Actor
from gatepass.console.issuing import delivery_keys
from gatepass.console.web import SECURITY_HEADERS, render, services
from gatepass.deliveries import mail
from gatepass.deliveries import service as deliveries

router = APIRouter()
DEAD = (
    "This link no longer works: it has been opened already, or it has expired. "
    "Ask the person who sent it for a new one."
)


@router.get("/link")
async def link_page(request: Request) -> Response:
    return render(request, "link.html", {"viewer": None, "opened": None, "error": None})


@router.post("/link/about")
async def about_link(
    request: Request, token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """Which credential a link is for, asked by its page's script before the recipient chooses
    to see the secret; the link stays unused. A dead link answers ``found: false`` (200, so the
    page, not the browser console, says so)."""
    keys = delivery_keys(request)

    def work() -> dict[str, str] | None:
        with services(request).db.read() as session:
            return deliveries.describe_delivery(session, token.strip(), keys=keys)

    about = await threaded(work)
    body: dict[str, object] = {"found": about is not None}
    if about is not None:
        body["summary"] = mail.Credential.of(about).summary()
    response = JSONResponse(body)
    response.headers.update(SECURITY_HEADERS)
    return response


@router.post("/link")
async def open_link(request: Request, token: Annotated[str, Form(max_length=200)] = "") -> Response:
    ip, agent = source(request)
    keys = delivery_keys(request)

    def work() -> deliveries.Opened | None:
        with services(request).db.transaction() as session:
            return deliveries.open_delivery(
                session, token.strip(), keys=keys, actor=Actor("recipient", "", ip, agent)
            )

    opened = await threaded(work)
    if opened is None:  # unknown, used or expired: the page does not say which
        return render(
            request, "link.html", {"viewer": None, "opened": None, "error": DEAD}, status=410
        )
    token_url = (
        f"{services(request).settings.public_url}/realms/{opened.tenant_slug}"
        "/protocol/openid-connect/token"
    )
    return render(
        request,
        "link.html",
        {
            "viewer": None,
            "opened": opened,
            "summary": mail.Credential.of(opened.payload).summary(),
            "error": None,
            "token_url": token_url,
        },
    )
