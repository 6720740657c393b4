"""The example's views: Django REST framework views, and one plain Django function view.

- ``GET /me``: any Gatepass caller (``HasGatepassCredential``, the project's default).
- ``GET /nql/queries/<query>/results``: needs ``nql`` (``RequiresPermissions``).
- ``GET /devices``: a plain view guarded by ``@requires("data_management")``.
- ``GET /healthz``: open to anyone.

Answers hold only data of the caller's client groups.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from examples import platform_data as data
from gatepass_sdk.caller import Caller
from gatepass_sdk.django.middleware import request_caller, requires
from gatepass_sdk.django.rest_framework import RequiresPermissions


class Me(APIView):
    def get(self, request: Request) -> Response:
        assert isinstance(request.auth, Caller)  # noqa: S101 (HasGatepassCredential)
        return Response(data.caller_view(request.auth))


class NqlResults(APIView):
    permission_classes = [RequiresPermissions("nql")]  # noqa: RUF012 (DRF's own declaration)

    def get(self, request: Request, query: str) -> Response:
        assert isinstance(request.auth, Caller)  # noqa: S101 (RequiresPermissions)
        rows = data.nql_rows(request.auth, query)
        if rows is None:
            raise Http404
        return Response({"query_id": query, "rows": rows})


class Healthz(APIView):
    permission_classes = [AllowAny]  # noqa: RUF012 (DRF's own declaration)

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


@requires("data_management")
def devices(request: HttpRequest) -> JsonResponse:
    caller = request_caller(request)
    assert caller is not None  # noqa: S101 (requires)
    return JsonResponse({"devices": data.device_rows(caller)})
