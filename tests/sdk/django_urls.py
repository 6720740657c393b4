"""The routes of ``test_django``: the same two endpoints as Django REST framework views
(``drf/``) and as plain Django function views (``plain/``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gatepass_sdk.caller import Caller
from gatepass_sdk.django.middleware import request_caller, requires
from gatepass_sdk.django.rest_framework import RequiresPermissions


def seen(caller: Caller | None, query: Any) -> dict[str, Any]:
    return {"query": dict(query.items()), "subject": caller.subject if caller else None}


class Nql(APIView):
    permission_classes = [RequiresPermissions("nql")]  # noqa: RUF012

    def get(self, request: Request) -> Response:
        assert isinstance(request.auth, Caller)
        assert request.user.is_authenticated
        assert str(request.user) == request.auth.subject
        return Response({"subject": request.auth.subject})


class Open(APIView):
    permission_classes = [AllowAny]  # noqa: RUF012

    def get(self, request: Request) -> Response:
        caller = request.auth if isinstance(request.auth, Caller) else None
        return Response(seen(caller, request.query_params))


class AnyCaller(APIView):  # the project's default permission: HasGatepassCredential
    def get(self, request: Request) -> Response:
        assert isinstance(request.auth, Caller)
        return Response({"subject": request.auth.subject})


@requires("nql")
def nql(request: HttpRequest) -> JsonResponse:
    caller = request.gatepass_caller  # type: ignore[attr-defined]
    return JsonResponse({"subject": caller.subject})


def open_(request: HttpRequest) -> JsonResponse:
    return JsonResponse(seen(request_caller(request), request.GET))


urlpatterns = [
    path("drf/nql", Nql.as_view()),
    path("drf/open", Open.as_view()),
    path("drf/any", AnyCaller.as_view()),
    path("plain/nql", nql),
    path("plain/open", open_),
]
