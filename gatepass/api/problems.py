"""Errors of the management API as RFC 9457 problem details (``application/problem+json``).

Every error has a stable ``type`` URI and ``code``, a human ``title`` and ``detail``; validation
errors list each bad field. Input values are never echoed: they could be secrets.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gatepass.credential_secrets import mask
from gatepass.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)

log = structlog.get_logger("gatepass.api")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:gatepass:problem:"

DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    InvalidInputError: 422,
    ForbiddenError: 403,
}


class FieldProblem(BaseModel):
    pointer: str = Field(description="Where the problem is: body/name, query/limit, ...")
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Machine-readable kind of problem, the end of `type`.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="Each invalid field of a request that failed validation."
    )


class ProblemError(Exception):
    """Raised anywhere in the management API to answer with a problem."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[FieldProblem] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    errors: list[FieldProblem] | None = None,
) -> JSONResponse:
    body = Problem(
        type=TYPE_PREFIX + code,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers={"cache-control": "no-store", **(headers or {})},
        media_type=PROBLEM_JSON,
    )


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


PageMaker = Callable[[Request, int, str], Response]


def install(app: FastAPI, *, pages: PageMaker | None = None) -> None:
    """Answer every error with a problem document; under ``/console`` with ``pages`` instead,
    an HTML page for people (same status, and the same Retry-After or Allow header)."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(ProblemError, exc)
        return problem_response(
            exc.status, exc.code, exc.detail, headers=exc.headers, errors=exc.errors
        )

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(DomainError, exc)
        status = next((s for t, s in DOMAIN_STATUS.items() if isinstance(exc, t)), 400)
        return problem_response(status, exc.code, str(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(RequestValidationError, exc)
        errors = [_field_problem(e) for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(400, "malformed_json", "the request body is not valid JSON")
        return problem_response(
            422, "invalid_input", "the request has invalid fields", errors=errors
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(StarletteHTTPException, exc)
        headers = dict(exc.headers or {})
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {mask(request.url.path[:200])}"
        if exc.status_code == 405:
            headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
            headers["allow"] = ", ".join(_allowed_methods(request))
        return problem_response(exc.status_code, code, detail, headers=headers)

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", path=request.url.path[:200])
        return problem_response(
            503,
            "unavailable",
            "the database is unavailable; retry shortly",
            headers={"retry-after": "2"},
        )

    async def on_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
        # Every pooled connection stayed busy past the pool timeout: overload, not an outage.
        log.warning("no database connection free in time", path=request.url.path[:200])
        return problem_response(
            503,
            "unavailable",
            "the server is overloaded; retry shortly",
            headers={"retry-after": "2"},
        )

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("management request failed", path=request.url.path[:200], exc_info=exc)
        return problem_response(500, "server_error", "the server failed; it has been logged")

    def html(
        handler: Callable[[Request, Exception], Awaitable[JSONResponse]],
    ) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def answer(request: Request, exc: Exception) -> Response:
            problem = await handler(request, exc)
            if pages is None or not request.url.path.startswith("/console"):
                return problem
            detail = str(json.loads(bytes(problem.body)).get("detail", ""))
            page = pages(request, problem.status_code, detail)
            for name in ("retry-after", "allow"):
                if name in problem.headers:
                    page.headers[name] = problem.headers[name]
            return page

        return answer

    app.add_exception_handler(ProblemError, html(on_problem))
    app.add_exception_handler(DomainError, html(on_domain))
    app.add_exception_handler(RequestValidationError, html(on_validation))
    app.add_exception_handler(StarletteHTTPException, html(on_http))
    app.add_exception_handler(OperationalError, html(on_database_down))
    app.add_exception_handler(PoolTimeoutError, html(on_pool_timeout))
    app.add_exception_handler(Exception, html(on_crash))
    _document_problems_only(app)


def _document_problems_only(app: FastAPI) -> None:
    """Errors are answered as ``application/problem+json`` only.

    FastAPI also lists the route's own media type (``application/json``) for every response
    with a ``model``; the document is cleaned of it, so that it says what is sent.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for path, methods in document.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in methods.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if PROBLEM_JSON in content:
                        content.pop("application/json", None)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first)."""
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def _field_problem(error: Any) -> FieldProblem:
    location = "/".join(mask(str(part)) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    return FieldProblem(pointer=location, detail=message)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "description": description,
    }
    for status, description in (
        (400, "Malformed request"),
        (401, "Not authenticated: send a Bearer access token or a console session cookie"),
        (403, "Authenticated, but the role or the CSRF token does not allow this"),
        (404, "No such tenant or resource"),
        (422, "Invalid input, or an Idempotency-Key reused with a different request"),
        (503, "The database is unavailable; retry after the Retry-After seconds"),
    )
}


def responses(*extra: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route: the common ones and ``extra`` statuses."""
    more = {
        409: "Conflict with the current state",
    }
    out = dict(ERROR_RESPONSES)
    for status in extra:
        out[status] = {
            "model": Problem,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            "description": more.get(status, HTTPStatus(status).phrase),
        }
    return out
