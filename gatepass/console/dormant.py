"""The dormant-credentials page: the report of ``credentials.dormancy`` (the API's and the
CLI's), for every role that may list credentials, with its CSV download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gatepass.api.auth import threaded
from gatepass.apikeys.kind import API_KEY
from gatepass.clients.kind import CLIENT
from gatepass.console.web import SECURITY_HEADERS, render, services, signed_in
from gatepass.credentials import dormancy
from gatepass.errors import DomainError, InvalidInputError
from gatepass.tenants import service as tenants

router = APIRouter()
KIND_LABELS = {"oauth_client": "OAuth client", "api_key": "API key"}


@router.get("/{tenant}/dormant")
async def dormant_page(
    request: Request,
    tenant: str,
    days: Annotated[str, Query(max_length=10)] = "90",
    format: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """Active credentials unused for ``days`` days, least recently used first; ``format=csv``
    downloads them."""
    viewer = await signed_in(request, tenant)
    if isinstance(viewer, Response):
        return viewer

    def load() -> list[dormancy.Dormant]:
        if not (days.isascii() and days.isdigit()):
            raise InvalidInputError(f"days must be a whole number, 1 to {dormancy.MAX_DAYS}")
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, tenant)
            return dormancy.report(session, found, [CLIENT, API_KEY], days=int(days))

    try:
        found = await threaded(load)
    except DomainError as exc:
        context = {"viewer": viewer, "days": days, "items": [], "error": str(exc)}
        return render(request, "dormant.html", {**context, "kinds": KIND_LABELS}, status=422)
    if format == "csv":
        return _csv(tenant, days, found)
    context = {"viewer": viewer, "days": days, "items": found, "error": None}
    return render(request, "dormant.html", {**context, "kinds": KIND_LABELS})


def _csv(tenant: str, days: str, found: list[dormancy.Dormant]) -> Response:
    name = f"dormant-credentials-{tenant}-{days}d.csv"
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    return Response(dormancy.as_csv(found), media_type="text/csv; charset=utf-8", headers=headers)
