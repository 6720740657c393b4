"""The routes of every credential kind: list, create, revoke all, get one, edit, a new secret,
retire unused older secrets, suspend, resume, revoke, delete.

One definition serves ``/clients`` and ``/api-keys`` (see ``api.credentials``): what differs is
said by a ``KindRoutes``, so the two kinds cannot drift apart. There is deliberately no
``from __future__ import annotations`` here: FastAPI reads these closures' parameter
annotations, which must be objects rather than names of this module.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gatepass.api import schemas
from gatepass.api.auth import Manager, Reader
from gatepass.api.common import (
    Cursor,
    Filter,
    IdempotencyKey,
    Limit,
    json_response,
    page_of,
    page_request,
    read,
    services,
    write,
)
from gatepass.api.problems import responses
from gatepass.credentials import grace, lifecycle, revoking
from gatepass.pagination import PageRequest
from gatepass.tenants.models import Tenant


@dataclass(frozen=True)
class KindRoutes:
    """What the shared routes of one credential kind say and answer."""

    kind: lifecycle.Kind[Any]
    path: str  # "/clients"
    body: type[BaseModel]  # what ``POST /clients`` reads
    create: Callable[..., tuple[Any, Any]]  # (session, tenant, spec, actor=, hasher=)
    spec_of: Callable[[Any], lifecycle.NewCredential]  # ``body`` as the service's spec
    patch: type[BaseModel]  # what ``PATCH /clients/{id}`` reads
    edit: Callable[..., Any]  # (session, tenant, ref, changes, actor=)
    changes_of: Callable[[Any], Any]  # ``patch`` as the service's changes
    status: Callable[..., str | None]  # a dependency reading the ``status`` query parameter
    own_filters: Callable[..., tuple[Any, ...]]  # a dependency: the kind's own list filters
    ref: str  # the path parameter: "client_id"
    ref_rule: Any  # its ``Path(alias=ref, ...)``: length and pattern
    tag: str
    out: Any  # the credential as the API shows it: a model with ``of(row)``
    issued: type[BaseModel]  # ... with its new secret
    # the answer with its new secret (None: a client with public keys has none)
    issue: Callable[[Request, Tenant, Any, Any], BaseModel]
    rotate_path: str  # "rotate-secret", "regenerate"
    # operation names: ("client", "clients", "rotate_client_secret") names list_clients,
    # create_client, revoke_all_clients, get_client, rotate_client_secret, revoke_client...
    names: tuple[str, str, str]
    docs: dict[str, str]  # their descriptions
    # more keyword arguments of ``create`` and ``edit``, from the server's settings
    settings_of: Callable[[Request], dict[str, Any]] = lambda request: {}

    def operation(self, action: str) -> str:
        one, many, rotate = self.names
        if action == "rotate":
            return rotate
        return f"{action}_{many if action in ('list', 'revoke_all') else one}"


def paging(cursor: Cursor = None, limit: Limit = 50) -> PageRequest:
    return page_request(cursor, limit)


def shared_filters(
    name: Filter = None,
    created_by: Filter = None,
    permission: Filter = None,
    group: Filter = None,
    last_used_before: Annotated[
        datetime | None,
        Query(description="Unused since then: last used before it, or never and created before."),
    ] = None,
) -> lifecycle.CredentialFilter:
    return lifecycle.CredentialFilter(
        name=name,
        created_by=created_by,
        permission=permission,
        group=group,
        last_used_before=as_utc(last_used_before),
    )


def as_utc(when: datetime | None) -> datetime | None:
    """A time given without an offset is read as UTC."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def add_routes(router: APIRouter, spec: KindRoutes) -> None:
    kind = spec.kind
    Ref = Annotated[str, spec.ref_rule]  # noqa: N806 - a type, named as one
    Body = spec.body  # noqa: N806
    Patch = spec.patch  # noqa: N806
    one = f"{spec.path}/{{{spec.ref}}}"

    def list_(
        request: Request,
        principal: Reader,
        status: Annotated[str | None, Depends(spec.status)],
        shared: Annotated[lifecycle.CredentialFilter, Depends(shared_filters)],
        own: Annotated[tuple[Any, ...], Depends(spec.own_filters)],
        page: Annotated[PageRequest, Depends(paging)],
    ) -> Response:
        where = replace(shared, status=status, extra=own)
        return json_response(
            read(
                request,
                principal,
                lambda s, t: page_of(lifecycle.search(s, t, kind, where, page), spec.out.of),
            )
        )

    def create(
        request: Request,
        principal: Manager,
        body: Body,  # type: ignore[valid-type] # a model class, read by FastAPI at run time
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        new = spec.spec_of(body)

        def work(session: Session, tenant: Tenant) -> BaseModel:
            row, secret = spec.create(
                session,
                tenant,
                new,
                actor=principal.actor,
                hasher=services(request).hasher,
                **spec.settings_of(request),
            )
            return spec.issue(request, tenant, row, secret and secret.reveal())

        return write(
            request, principal, work, status=201, payload=body, idempotency_key=idempotency_key
        )

    def revoke_all(
        request: Request,
        principal: Manager,
        body: schemas.RevokeAllIn | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        keep = body.keep_management if body else False
        return write(
            request,
            principal,
            lambda s, t: schemas.Count(
                count=revoking.revoke_all(s, t, kind, actor=principal.actor, keep_management=keep)
            ),
            payload=body,
            idempotency_key=idempotency_key,
        )

    def get(request: Request, principal: Reader, ref: Ref) -> Response:
        body = read(
            request,
            principal,
            lambda s, t: spec.out.of(lifecycle.get(s, t, kind, ref)).model_dump(mode="json"),
        )
        return json_response(body)

    def edit(
        request: Request,
        principal: Manager,
        ref: Ref,
        body: Patch,  # type: ignore[valid-type] # a model class, read by FastAPI at run time
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        changes = spec.changes_of(body)
        more = spec.settings_of(request)
        return write(
            request,
            principal,
            lambda s, t: spec.out.of(spec.edit(s, t, ref, changes, actor=principal.actor, **more)),
            payload=body,
            idempotency_key=idempotency_key,
        )

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
                hasher=services(request).hasher,
            )
            return spec.issue(request, tenant, row, secret.reveal())

        return write(request, principal, work, payload=body, idempotency_key=idempotency_key)

    def retire(
        request: Request,
        principal: Manager,
        ref: Ref,
        body: schemas.RetireIn | None = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        idle = timedelta(minutes=(body or schemas.RetireIn()).idle_minutes)
        # This process's uses not yet written count too; other processes write theirs within
        # 15 s (``grace.LAST_USE_LAG``).
        services(request).cache.flush_uses()

        def work(session: Session, tenant: Tenant) -> BaseModel:
            row, _ = grace.retire_unused(
                session, tenant, kind, ref, idle=idle, actor=principal.actor
            )
            return spec.out.of(row)  # type: ignore[no-any-return]

        return write(request, principal, work, payload=body, idempotency_key=idempotency_key)

    def status_change(change: Callable[..., Any]) -> Callable[..., Response]:
        def endpoint(
            request: Request, principal: Manager, ref: Ref, idempotency_key: IdempotencyKey = None
        ) -> Response:
            return write(
                request,
                principal,
                lambda s, t: spec.out.of(change(s, t, kind, ref, actor=principal.actor)),
                idempotency_key=idempotency_key,
            )

        return endpoint

    def delete(request: Request, principal: Manager, ref: Ref) -> Response:
        return write(
            request,
            principal,
            lambda s, t: lifecycle.delete(s, t, kind, ref, actor=principal.actor),
            status=204,
        )

    out = spec.out
    page = schemas.Page.__class_getitem__(out)  # Page[out], out being a variable
    errors = {"list": (), "get": (), "delete": ()}
    routes: list[tuple[str, str, Callable[..., Response], dict[str, Any]]] = [
        ("list", spec.path, list_, {"response_model": page, "method": "GET"}),
        ("create", spec.path, create, {"response_model": spec.issued, "status_code": 201}),
        ("revoke_all", f"{spec.path}/revoke-all", revoke_all, {"response_model": schemas.Count}),
        ("get", one, get, {"response_model": out, "method": "GET"}),
        ("edit", one, edit, {"response_model": out, "method": "PATCH"}),
        ("rotate", f"{one}/{spec.rotate_path}", rotate, {"response_model": spec.issued}),
        ("retire", f"{one}/retire-unused", retire, {"response_model": out}),
        ("suspend", f"{one}/suspend", status_change(lifecycle.suspend), {"response_model": out}),
        ("resume", f"{one}/resume", status_change(lifecycle.resume), {"response_model": out}),
        ("revoke", f"{one}/revoke", status_change(lifecycle.revoke), {"response_model": out}),
        (
            "delete",
            one,
            delete,
            {"method": "DELETE", "status_code": 204, "response_class": Response},
        ),
    ]
    for action, path, endpoint, options in routes:
        router.add_api_route(
            path,
            endpoint,
            methods=[options.pop("method", "POST")],
            responses=responses(*errors.get(action, (409,))),
            tags=[spec.tag],
            name=spec.operation(action),
            description=spec.docs[action],
            **options,
        )
