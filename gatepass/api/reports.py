"""Reports: the dormant credentials of a tenant, as JSON or as CSV for a spreadsheet."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gatepass.api import schemas
from gatepass.api.auth import Reader
from gatepass.api.common import NO_STORE, json_response, read
from gatepass.api.problems import responses
from gatepass.apikeys.kind import API_KEY
from gatepass.clients.kind import CLIENT
from gatepass.credentials import dormancy

router = APIRouter()


@router.get(
    "/dormant-credentials",
    response_model=schemas.DormantReport,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **responses(),
    },
    tags=["Reports"],
)
def dormant_credentials(
    request: Request,
    principal: Reader,
    days: Annotated[int, Query(ge=1, le=dormancy.MAX_DAYS, description="Unused for.")] = 90,
    format: Annotated[
        Literal["json", "csv"], Query(description="`csv`: one row per credential.")
    ] = "json",
) -> Response:
    """Active OAuth clients and API keys not used for `days` days (never used: counted from their
    creation), least recently used first."""
    found = read(
        request,
        principal,
        lambda s, t: dormancy.report(s, t, [CLIENT, API_KEY], days=days),
    )
    if format == "csv":
        return Response(
            dormancy.as_csv(found), media_type="text/csv; charset=utf-8", headers=NO_STORE
        )
    report = schemas.DormantReport(days=days, items=[schemas.DormantOut.of(d) for d in found])
    return json_response(report.model_dump(mode="json"))
