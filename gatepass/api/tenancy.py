"""Tenant settings, the permission catalog, client groups, users and the audit log over HTTP."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass import provisioning
from gatepass.api import schemas
from gatepass.api.auth import Admin, Reader
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
from gatepass.audit import service as audit
from gatepass.destinations import Rules
from gatepass.groups import service as groups
from gatepass.groups.models import ClientGroup
from gatepass.pagination import fetch
from gatepass.permissions import service as permissions
from gatepass.permissions.models import Permission
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.users import service as users

router = APIRouter()

PermissionName = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
UserId = Annotated[int, Path(ge=1, le=2_147_483_647)]


# --- settings --------------------------------------------------------------------------------


@router.get("", response_model=schemas.TenantOut, responses=responses(), tags=["Tenant"])
def get_tenant(request: Request, principal: Reader) -> Response:
    """The tenant's token settings."""
    url = services(request).settings.public_url
    body = read(
        request, principal, lambda s, t: schemas.TenantOut.of(t, url).model_dump(mode="json")
    )
    return json_response(body)


@router.patch("", response_model=schemas.TenantOut, responses=responses(), tags=["Tenant"])
def update_tenant(request: Request, principal: Admin, body: schemas.TenantPatch) -> Response:
    """Change token lifetime, audiences, signing algorithm (a new algorithm rotates the key), the
    credential policy or the trusted issuers of workload identity federation."""
    svc = services(request)
    changes = tenants.TenantSettings(
        name=body.name,
        token_lifetime=body.token_lifetime,
        audience=body.audience,
        allowed_audiences=tuple(body.allowed_audiences) if body.allowed_audiences else None,
        signing_alg=body.signing_alg,
        credential_policy=body.credential_policy.stored() if body.credential_policy else None,
        trusted_issuers=schemas.dumped(body.trusted_issuers),
        require_dpop_nonce=body.require_dpop_nonce,
        token_exchange_lifetime=body.token_exchange_lifetime,
    )

    def work(session: Session, tenant: Tenant) -> schemas.TenantOut:
        provisioning.update_settings(
            session,
            tenant,
            changes,
            actor=principal.actor,
            cipher=svc.cipher,
            key_rules=Rules.for_keys(svc.settings),
        )
        return schemas.TenantOut.of(tenant, svc.settings.public_url)

    return write(request, principal, work, payload=body)


# --- permission catalog ----------------------------------------------------------------------


@router.get(
    "/permissions",
    response_model=schemas.Page[schemas.PermissionOut],
    responses=responses(),
    tags=["Permissions"],
)
def list_permissions(
    request: Request, principal: Reader, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    """The permission catalog: what credentials of this tenant can be granted."""
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(
            fetch(s, permissions.catalog_query(t), Permission.id, req), schemas.PermissionOut.of
        ),
    )
    return json_response(body)


@router.post(
    "/permissions",
    status_code=201,
    response_model=schemas.PermissionOut,
    responses=responses(409),
    tags=["Permissions"],
)
def create_permission(
    request: Request,
    principal: Admin,
    body: schemas.PermissionIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a permission (an OAuth scope) to the catalog. Whether a permission is available to
    the tenant (licensed) is the operator's call, made with the CLI."""

    def work(session: Session, tenant: Tenant) -> schemas.PermissionOut:
        permission = permissions.create_permission(
            session,
            tenant,
            name=body.name,
            label=body.label,
            description=body.description,
            available=True,
            actor=principal.actor,
        )
        return schemas.PermissionOut.of(permission)

    return write(
        request, principal, work, status=201, payload=body, idempotency_key=idempotency_key
    )


@router.get(
    "/permissions/{name:path}",
    response_model=schemas.PermissionOut,
    responses=responses(),
    tags=["Permissions"],
)
def get_permission(request: Request, principal: Reader, name: PermissionName) -> Response:
    """One permission of the catalog, with whether it can be granted."""
    body = read(
        request,
        principal,
        lambda s, t: schemas.PermissionOut.of(permissions.get_permission(s, t, name)).model_dump(
            mode="json"
        ),
    )
    return json_response(body)


@router.patch(
    "/permissions/{name:path}",
    response_model=schemas.PermissionOut,
    responses=responses(),
    tags=["Permissions"],
)
def update_permission(
    request: Request, principal: Admin, name: PermissionName, body: schemas.PermissionPatch
) -> Response:
    """Change a permission's label or description; its name (the scope) never changes."""

    def work(session: Session, tenant: Tenant) -> schemas.PermissionOut:
        permission = permissions.update_permission(
            session,
            tenant,
            name,
            label=body.label,
            description=body.description,
            actor=principal.actor,
        )
        return schemas.PermissionOut.of(permission)

    return write(request, principal, work, payload=body)


# --- client groups ---------------------------------------------------------------------------


@router.get(
    "/groups",
    response_model=schemas.Page[schemas.GroupOut],
    responses=responses(),
    tags=["Client groups"],
)
def list_groups(
    request: Request, principal: Reader, cursor: Cursor = None, limit: Limit = 50
) -> Response:
    """The client groups of the tenant."""
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(
            fetch(s, groups.groups_query(t), ClientGroup.id, req), schemas.GroupOut.of
        ),
    )
    return json_response(body)


@router.post(
    "/groups",
    status_code=201,
    response_model=schemas.GroupOut,
    responses=responses(409),
    tags=["Client groups"],
)
def create_group(
    request: Request,
    principal: Admin,
    body: schemas.GroupIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a client group: a named set of the tenant's data that credentials can be limited to."""

    def work(session: Session, tenant: Tenant) -> schemas.GroupOut:
        group = groups.create_group(session, tenant, name=body.name, actor=principal.actor)
        return schemas.GroupOut.of(group)

    return write(
        request, principal, work, status=201, payload=body, idempotency_key=idempotency_key
    )


# --- users -----------------------------------------------------------------------------------


@router.get(
    "/users", response_model=schemas.Page[schemas.UserOut], responses=responses(), tags=["Users"]
)
def list_users(
    request: Request,
    principal: Admin,
    status: Annotated[Literal["active", "disabled"] | None, Query()] = None,
    role: Annotated[schemas.Role | None, Query()] = None,
    email: Filter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Console users of the tenant, newest first."""
    where = users.UserFilter(status=status, role=role, email=email)
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(users.search_users(s, t, where, req), schemas.UserOut.of),
    )
    return json_response(body)


@router.post(
    "/users",
    status_code=201,
    response_model=schemas.UserOut,
    responses=responses(409),
    tags=["Users"],
)
def create_user(
    request: Request,
    principal: Admin,
    body: schemas.UserIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a console user with a role. The password is stored only as an argon2id hash."""

    def work(session: Session, tenant: Tenant) -> schemas.UserOut:
        user = users.create_user(
            session,
            tenant,
            email=body.email,
            role=body.role,
            password=body.password,
            display_name=body.display_name,
            actor=principal.actor,
        )
        return schemas.UserOut.of(user)

    # The password is part of what a retry must repeat, but only as a digest.
    fingerprinted = body.model_copy(
        update={"password": services(request).hasher.digest(body.password).hex()}
    )
    return write(
        request,
        principal,
        work,
        status=201,
        payload=fingerprinted,
        idempotency_key=idempotency_key,
    )


@router.get(
    "/users/{user_id}", response_model=schemas.UserOut, responses=responses(), tags=["Users"]
)
def get_user(request: Request, principal: Admin, user_id: UserId) -> Response:
    """One console user."""
    body = read(
        request,
        principal,
        lambda s, t: schemas.UserOut.of(users.get_user_by_id(s, t, user_id)).model_dump(
            mode="json"
        ),
    )
    return json_response(body)


@router.patch(
    "/users/{user_id}",
    response_model=schemas.UserOut,
    responses=responses(409),
    tags=["Users"],
)
def update_user(
    request: Request, principal: Admin, user_id: UserId, body: schemas.UserPatch
) -> Response:
    """Change a user's display name, role or status. Disabling signs them out and disables
    their personal API keys at once; the last active admin cannot be disabled or demoted."""

    def work(session: Session, tenant: Tenant) -> schemas.UserOut:
        user = users.get_user_by_id(session, tenant, user_id)
        actor = principal.actor
        if body.display_name is not None:
            users.set_display_name(session, tenant, user, body.display_name, actor=actor)
        if body.role is not None and body.role != user.role:
            provisioning.set_role(session, tenant, user.email, role=body.role, actor=actor)
        if body.status is not None and body.status != user.status:
            provisioning.set_status(
                session, tenant, user.email, active=body.status == "active", actor=actor
            )
        return schemas.UserOut.of(user)

    return write(request, principal, work, payload=body)


# --- audit log -------------------------------------------------------------------------------


@router.get(
    "/audit-events",
    response_model=schemas.Page[schemas.AuditEventOut],
    responses=responses(),
    tags=["Audit log"],
)
def list_audit_events(
    request: Request,
    principal: Reader,
    actor: Filter = None,
    actor_type: Annotated[
        Literal["user", "client", "operator", "recipient", "system"] | None, Query()
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=r"^[a-z_.]+$",
            description="An action such as `client.revoke`, or a family such as `client.`.",
        ),
    ] = None,
    target: Filter = None,
    target_type: Filter = None,
    since: Annotated[schemas.When | None, Query(description="Inclusive.")] = None,
    until: Annotated[schemas.When | None, Query(description="Exclusive.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Who did what, to which credential, when and from where; newest first."""
    where = audit.AuditFilter(
        actor=actor,
        actor_type=actor_type,
        action=action,
        target=target,
        target_type=target_type,
        since=since,
        until=until,
    )
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(audit.search_events(s, t.id, where, req), schemas.AuditEventOut.of),
    )
    return json_response(body)
