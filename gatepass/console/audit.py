"""The audit-log page: who did what, when and from where, for every role."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gatepass.api.auth import threaded
from gatepass.api.common import cursor_of
from gatepass.api.common import page_request as page_request_of
from gatepass.api.problems import ProblemError
from gatepass.api.schemas import AuditEventOut
from gatepass.audit import service as audit
from gatepass.console.web import (
    Viewer,
    render,
    services,
    signed_in,
    start_of_day,
)
from gatepass.errors import DomainError

router = APIRouter()


@router.get("/{tenant}/audit")
async def audit_page(
    request: Request,
    tenant: str,
    actor: Annotated[str, Query(max_length=320)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    target: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Who did what, when and from where; filtered by actor, action, credential and dates."""
    viewer = await signed_in(request, tenant)
    if isinstance(viewer, Response):
        return viewer
    filters = {"actor": actor, "action": action, "target": target, "since": since, "until": until}
    try:
        where = audit.AuditFilter(
            actor=actor.strip() or None,
            action=action.strip() or None,
            target=target.strip() or None,
            since=start_of_day(since),
            until=start_of_day(until, next_day=True),
        )
        page_request = page_request_of(cursor or None)
    except (DomainError, ProblemError) as exc:
        message = exc.detail if isinstance(exc, ProblemError) else str(exc)
        return _audit_render(
            request, viewer, filters=filters, events=[], next_url=None, error=message, status=422
        )

    def load() -> tuple[list[AuditEventOut], str | None]:
        with services(request).db.read() as session:
            page = audit.search_events(session, viewer.tenant_id, where, page_request)
        return [AuditEventOut.of(e) for e in page.items], cursor_of(page.next_after)

    events, next_cursor = await threaded(load)
    next_url = None
    if next_cursor is not None:
        next_url = f"/console/{tenant}/audit?" + urlencode({**filters, "cursor": next_cursor})
    return _audit_render(
        request, viewer, filters=filters, events=events, next_url=next_url, error=None
    )


def _audit_render(
    request: Request,
    viewer: Viewer,
    *,
    filters: dict[str, str],
    events: list[AuditEventOut],
    next_url: str | None,
    error: str | None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "audit.html",
        {
            "viewer": viewer,
            "filters": filters,
            "events": events,
            "next_url": next_url,
            "error": error,
        },
        status=status,
    )
