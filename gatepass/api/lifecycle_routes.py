"""The routes every credential kind shares: revoke all, get one, a new secret, revoke, delete.

One definition serves ``/clients`` and ``/api-keys`` (see ``api.credentials``): what differs is
said by a ``KindRoutes``, so the two kinds cannot drift apart. There is deliberately no
``from __future__ import annotations`` here: FastAPI reads these closures' parameter
annotations, which must be objects rather than names of this module.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gatepass.api import schemas
from gatepass.api.auth import Manager, Principal, Reader
from gatepass.api.common import (
    IdempotencyKey,
    json_response,
    page_of,
    page_request,
    read,
    write,
)
from gatepass.api.problems import responses
from gatepass.credentials import lifecycle
from gatepass.tenants.models import Tenant


@dataclass(frozen=True)
class KindRoutes:
    """What the shared routes of one credential kind say and answer."""

    kind: lifecycle.Kind[Any]
    path: str  # "/clients"
    ref: str  # the path parameter: "client_id"
    ref_rule: Any  # its ``Path(alias=ref, ...)``: length and pattern
    tag: str
    out: Any  # the credential as the API shows it: a model with ``of(row)``
    issued: type[BaseModel]  # ... with its new secret
    issue: Callable[[Request, Tenant, Any, str], BaseModel]  # the answer holding a new secret
    rotate_path: str  # "rotate-secret", "regenerate"
    names: dict[str, str]  # operation names: revoke_all, get, rotate, revoke, delete
    docs: dict[str, str]  # their descriptions


def listed(
    request: Request,
    principal: Principal,
    spec: KindRoutes,
    where: lifecycle.CredentialFilter,
    cursor: str | None,
    limit: int,
) -> Response:
    """A page of the kind's credentials, newest first, as ``GET /clients`` or ``/api-keys``."""
    page = page_request(cursor, limit)
    return json_response(
        read(
            request,
            principal,
            lambda s, t: page_of(lifecycle.search(s, t, spec.kind, where, page), spec.out.of),
        )
    )


def created(
    request: Request,
    principal: Principal,
    spec: KindRoutes,
    make: Callable[..., tuple[Any, Any]],
    *,
    payload: BaseModel,
    idempotency_key: str | None,
) -> Response:
    """``make(session, tenant, actor=, hasher=)`` a credential; answer 201 with its secret."""

    def work(session: Session, tenant: Tenant) -> BaseModel:
        row, secret = make(
            session, tenant, actor=principal.actor, hasher=request.app.state.services.hasher
        )
        return spec.issue(request, tenant, row, secret.reveal())

    return write(
        request, principal, work, status=201, payload=payload, idempotency_key=idempotency_key
    )


def add_routes(router: APIRouter, spec: KindRoutes) -> None:
    kind = spec.kind
    Ref = Annotated[str, spec.ref_rule]  # noqa: N806 - a type, named as one
    one = f"{spec.path}/{{{spec.ref}}}"

    def revoke_all(
        request: Request, principal: Manager, idempotency_key: IdempotencyKey = None
    ) -> Response:
        return write(
            request,
            principal,
            lambda s, t: schemas.Count(
                count=lifecycle.revoke_all(s, t, kind, actor=principal.actor)
            ),
            idempotency_key=idempotency_key,
        )

    def get(request: Request, principal: Reader, ref: Ref) -> Response:
        body = read(
            request,
            principal,
            lambda s, t: spec.out.of(lifecycle.get(s, t, kind, ref)).model_dump(mode="json"),
        )
        return json_response(body)

    def rotate(
        request: Request,
        principal: Manager,
        ref: Ref,
        body: schemas.RotateIn | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        seconds = body.grace_seconds if body else 0
        grace = timedelta(seconds=seconds) if seconds else None

        def work(session: Session, tenant: Tenant) -> BaseModel:
            row, secret = lifecycle.rotate(
                session,
                tenant,
                kind,
                ref,
                grace=grace,
                actor=principal.actor,
                hasher=request.app.state.services.hasher,
            )
            return spec.issue(request, tenant, row, secret.reveal())

        return write(request, principal, work, payload=body, idempotency_key=idempotency_key)

    def revoke(
        request: Request, principal: Manager, ref: Ref, idempotency_key: IdempotencyKey = None
    ) -> Response:
        return write(
            request,
            principal,
            lambda s, t: spec.out.of(lifecycle.revoke(s, t, kind, ref, actor=principal.actor)),
            idempotency_key=idempotency_key,
        )

    def delete(request: Request, principal: Manager, ref: Ref) -> Response:
        return write(
            request,
            principal,
            lambda s, t: lifecycle.delete(s, t, kind, ref, actor=principal.actor),
            status=204,
        )

    out = spec.out
    routes: list[tuple[str, str, Callable[..., Response], dict[str, Any]]] = [
        ("revoke_all", f"{spec.path}/revoke-all", revoke_all, {"response_model": schemas.Count}),
        ("get", one, get, {"response_model": out, "method": "GET", "errors": ()}),
        ("rotate", f"{one}/{spec.rotate_path}", rotate, {"response_model": spec.issued}),
        ("revoke", f"{one}/revoke", revoke, {"response_model": out}),
        (
            "delete",
            one,
            delete,
            {"method": "DELETE", "status_code": 204, "response_class": Response, "errors": ()},
        ),
    ]
    for action, path, endpoint, options in routes:
        router.add_api_route(
            path,
            endpoint,
            methods=[options.pop("method", "POST")],
            responses=responses(*options.pop("errors", (409,))),
            tags=[spec.tag],
            name=spec.names[action],
            description=spec.docs[action],
            **options,
        )
