"""Errors of the management API as RFC 9457 problem details (``application/problem+json``).

Every error has a stable ``type`` URI and ``code``, a human ``title`` and ``detail``; validation
errors list each bad field. Input values are never echoed: they could be secrets.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def install(app: FastAPI) -> None:
    """Answer every error under ``/api/`` with a problem document."""

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
            detail = f"no such resource: {request.url.path[:200]}"
        return problem_response(exc.status_code, code, detail, headers=headers)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _field_problem(error: Any) -> FieldProblem:
    location = "/".join(str(part) for part in error.get("loc", ()))
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
