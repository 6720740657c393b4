"""The request check of the management API and the console: no control character in the
path or the query string (``gatepass.text``), refused before any route reads them.

A path with one names nothing: 404. A query parameter with one is invalid input: 422, with the
parameter named as in every other validation error. The console answers both as pages.
"""

from __future__ import annotations

from fastapi import Request

from gatepass.api.problems import FieldProblem, ProblemError
from gatepass.credential_secrets import mask
from gatepass.text import is_plain

NOT_PLAIN = "must not contain control characters or line separators"


async def plain_request(request: Request) -> None:
    """A dependency of every management and console route."""
    if not is_plain(request.scope["path"]):  # request.url would drop a tab or a line feed
        raise ProblemError(404, "not_found", "no such resource")
    for name, value in request.query_params.multi_items():
        if not (is_plain(name) and is_plain(value)):
            where = f"query/{mask(name)}" if is_plain(name) else "query"
            raise ProblemError(
                422,
                "invalid_input",
                "the request has invalid fields",
                errors=[FieldProblem(pointer=where, detail=NOT_PLAIN)],
            )
