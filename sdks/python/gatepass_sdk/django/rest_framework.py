"""Gatepass for Django REST framework: an authentication class and permission classes.

In ``settings.REST_FRAMEWORK`` or on a view::

    authentication_classes = [GatepassAuthentication]
    permission_classes = [HasGatepassCredential]          # any Gatepass caller
    permission_classes = [RequiresPermissions("nql")]     # a caller holding ``nql``

``GatepassAuthentication`` makes ``request.user`` a ``GatepassUser`` and ``request.auth`` the
``Caller``; a request without a credential stays anonymous (other authentication classes may
still accept it). The permission classes answer as RFC 6750 §3 says, with the same JSON bodies
as the other integrations: 401 with a bare ``Bearer`` challenge without a Gatepass caller, 403
``insufficient_scope`` naming the scope without the permissions. A credential that is not valid
is 401 ``invalid_token`` (400 ``invalid_request`` for two), whatever the view's permissions.
``RequiresPermissions("nql")`` returns a permission class, so it composes with DRF's
operators: ``[IsAdminUser | RequiresPermissions("nql")]``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from gatepass_sdk.caller import Caller, permitted
from gatepass_sdk.django.conf import gatepass
from gatepass_sdk.django.middleware import request_caller
from gatepass_sdk.errors import AuthError, CredentialsRequiredError

if TYPE_CHECKING:  # importing DRF's views needs the Django settings
    from rest_framework.views import APIView

__all__ = [
    "GatepassAuthentication",
    "GatepassRefusal",
    "GatepassUser",
    "HasGatepassCredential",
    "RequiresPermissions",
]


class GatepassUser:
    """``request.user`` for a Gatepass caller: authenticated, no Django user behind it."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.username = caller.subject

    def __str__(self) -> str:
        return self.caller.subject


class GatepassRefusal(APIException):
    """An ``AuthError`` as DRF renders it: its status, body, challenge and ``Retry-After``."""

    def __init__(self, error: AuthError) -> None:
        super().__init__(detail=error.document())
        self.status_code = error.status
        self.auth_header = error.www_authenticate(gatepass().realm)
        self.wait = error.retry_after


class GatepassAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[GatepassUser, Caller] | None:
        try:
            caller = request_caller(request._request)
        except AuthError as error:
            raise GatepassRefusal(error) from None
        return None if caller is None else (GatepassUser(caller), caller)

    def authenticate_header(self, request: Request) -> str:
        """The bare challenge that makes DRF answer 401 (not 403) to anonymous callers."""
        return str(CredentialsRequiredError().www_authenticate(gatepass().realm))


class HasGatepassCredential(BasePermission):
    """The request's caller is a Gatepass caller (``request.auth`` is a ``Caller``)."""

    required: tuple[str, ...] = ()

    def has_permission(self, request: Request, view: APIView) -> bool:
        caller = request.auth if isinstance(request.auth, Caller) else None
        try:
            permitted(caller, self.required)
        except AuthError as error:
            raise GatepassRefusal(error) from None
        return True


@functools.cache
def RequiresPermissions(*permissions: str) -> type[HasGatepassCredential]:  # noqa: N802
    """The permission class of a Gatepass caller holding every one of ``permissions``.

    Named like the class it returns, as it stands in ``permission_classes``; one class per set
    of permissions, so that DRF's operators and type checkers see an ordinary class.
    """
    needed = tuple(permissions)
    name = "RequiresPermissions(" + ", ".join(map(repr, needed)) + ")"
    return type(name, (HasGatepassCredential,), {"required": needed, "__module__": __name__})
