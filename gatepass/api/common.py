"""What every management route shares: paging cursors, the write path, tenant loading."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gatepass.api.auth import Principal
from gatepass.api.idempotency import IdempotencyStore, fingerprint
from gatepass.api.problems import ProblemError
from gatepass.apikeys.kind import check_owner_acts
from gatepass.apikeys.service import CREATE_REFUSAL
from gatepass.errors import ForbiddenError
from gatepass.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest
from gatepass.permissions.service import check_may_reveal
from gatepass.services import Services
from gatepass.tenants.models import Tenant

NO_STORE = {"cache-control": "no-store"}
# The fields of an answer that hold a secret shown once (ClientIssued, ApiKeyIssued).
SECRET_FIELDS = frozenset({"client_secret", "key"})

Cursor = Annotated[
    str | None,
    Query(
        description="The `next_cursor` of the previous page.",
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying with the same key replays the first response instead of acting"
        ' twice (kept 24 h). 1-255 visible ASCII characters; a quoted string (`"key"`) is'
        " read as the key inside the quotes.",
        # What ``idempotency.parse_key`` accepts as it is (it answers 400 to anything else).
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": r"^[\x21\x23-\x7e]+$"},
    ),
]
Filter = Annotated[str | None, Query(max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")]


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def page_request(cursor: str | None, limit: int = DEFAULT_LIMIT) -> PageRequest:
    after = None
    if cursor is not None:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            kind, _, number = raw.partition(":")
            if kind != "after" or not number.isdigit() or len(number) > 18:
                raise ValueError(raw)
            after = int(number)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise ProblemError(
                422, "invalid_cursor", "cursor is not one this API handed out"
            ) from None
    return PageRequest(after=after, limit=limit)


def cursor_of(after: int | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def page_of(page: Page[Any], view: Callable[[Any], BaseModel]) -> dict[str, Any]:
    return {
        "items": [view(item).model_dump(mode="json") for item in page.items],
        "next_cursor": cursor_of(page.next_after),
    }


def tenant_of(session: Session, principal: Principal) -> Tenant:
    tenant = session.get(Tenant, principal.tenant_id)
    if tenant is None:
        raise ProblemError(404, "tenant_not_found", f"tenant '{principal.tenant_slug}' is gone")
    return tenant


def read(request: Request, principal: Principal, work: Callable[[Session, Tenant], Any]) -> Any:
    with services(request).db.read() as session:
        return work(session, tenant_of(session, principal))


def write(
    request: Request,
    principal: Principal,
    work: Callable[[Session, Tenant], BaseModel | dict[str, Any] | None],
    *,
    status: int = 200,
    payload: BaseModel | None = None,
    idempotency_key: str | None = None,
) -> Response:
    """Do ``work`` in one transaction (audit included) and answer with what it returns.

    POST requests honour ``Idempotency-Key``: a retry replays the stored response. A stored
    response holding a secret is replayed only to a caller who may still see it
    (``check_replay``).
    """
    svc = services(request)
    store: IdempotencyStore = request.app.state.idempotency

    def transact(session: Session) -> tuple[int, dict[str, Any]]:
        result = work(session, tenant_of(session, principal))
        if isinstance(result, BaseModel):
            return status, result.model_dump(mode="json")
        return status, result or {}

    body = payload.model_dump_json() if payload is not None else ""
    outcome = store.run(
        svc.db,
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        key=idempotency_key if request.method == "POST" else None,
        fingerprint=fingerprint(request.method, request.url.path, body),
        work=transact,
    )
    headers = dict(NO_STORE)
    if outcome.replayed:
        check_replay(principal, outcome.body)
        headers["idempotent-replayed"] = "true"
    if outcome.status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


def check_replay(principal: Principal, body: dict[str, Any]) -> None:
    """Refuse to replay a secret to a caller who could not be shown it now.

    The first answer was checked when it was made, but the caller's role is read afresh on each
    request: a user demoted since then must not read the secret of a credential they could no
    longer create or rotate, nor of a personal key that is not theirs.
    """
    if not SECRET_FIELDS & body.keys():
        return
    owner = body.get("owner")
    if isinstance(owner, str):
        check_owner_acts(principal.actor, owner, refusal=CREATE_REFUSAL)
    scopes = body.get("scopes")
    if not isinstance(scopes, list):  # every answer with a secret names its scopes
        raise ForbiddenError("this stored answer cannot be replayed: retry without the key")
    check_may_reveal(principal.actor, [str(s) for s in scopes])


def names(items: Sequence[Any]) -> list[str]:
    return [item.name for item in items]


def json_response(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)
