"""The page behind an emailed one-time link.

The link's token travels in the URL's fragment (``/console/link#…``), which browsers never send
to a server, so it reaches no access log or proxy. The page asks before revealing: the token goes
in a POST only when the recipient presses the button, so a mail scanner that follows links does
not use the link up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from gatepass.api.auth import source, threaded
from gatepass.audit.service import Actor
from gatepass.console.issuing import delivery_keys
from gatepass.console.web import render, services
from gatepass.deliveries import service as deliveries

router = APIRouter()
DEAD = (
    "This link no longer works: it has been opened already, or it has expired. "
    "Ask the person who sent it for a new one."
)


@router.get("/link")
async def link_page(request: Request) -> Response:
    return render(request, "link.html", {"viewer": None, "opened": None, "error": None})


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
        {"viewer": None, "opened": opened, "error": None, "token_url": token_url},
    )
