"""Reports of leaked secrets: GitHub secret scanning's partner endpoint, and a generic one.

Both are open to anyone on the network but for their signature, so each request is held to what
an anonymous caller may cost: the body is at most 64 KiB (``body_limit``), its signature is
checked before anything else is read, a source whose signatures keep failing is answered 429
for a while, and a signed request names at most 100 tokens, each costing a keyed hash and one
indexed lookup, none at all unless it has a Gatepass secret's shape and checksum. A refusal
says no more than that the signature did not verify.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from gatepass.addresses import source_key
from gatepass.api.auth import source, threaded
from gatepass.api.common import NO_STORE, services
from gatepass.api.problems import ProblemError, responses
from gatepass.leaks import github, notify, service, signed
from gatepass.leaks.reports import ReportError, parse

router = APIRouter(tags=["Leaked secrets"])

REFUSALS = 20  # failed signatures a source may send per period, then 429
REFUSAL_PERIOD = 300  # seconds

FEEDBACK = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "token_hash": {"type": "string", "description": "SHA-256 of the token, hex."},
            "token_type": {"type": "string"},
            "label": {"type": "string", "enum": ["true_positive", "false_positive"]},
        },
    },
}
ANSWERS = {200: {"content": {"application/json": {"schema": FEEDBACK}}}, **responses(413, 429)}
ANSWERS[401] = {**ANSWERS[401], "description": "The signature did not verify"}
ANSWERS[404] = {**ANSWERS[404], "description": "Not set up on this server"}


@router.post("/github", responses=ANSWERS)
async def github_report(request: Request) -> JSONResponse:
    """GitHub secret scanning's partner endpoint: a JSON array of `{token, type, url, source}`
    signed with one of GitHub's ECDSA P-256 keys (`Github-Public-Key-Identifier`,
    `Github-Public-Key-Signature`); the answer labels each token by its SHA-256."""
    keys: github.GitHubKeys = request.app.state.github_keys
    if not keys.enabled:
        raise ProblemError(404, "not_found", "GitHub secret scanning reports are not set up")
    body = await request.body()
    key_id = request.headers.get(github.KEY_ID_HEADER, "")
    signature = request.headers.get(github.SIGNATURE_HEADER, "")
    if not await keys.verify(key_id, signature, body):
        await _refuse(request)
    return await _assess(request, body, reporter="github")


@router.post("/report", responses=ANSWERS)
async def signed_report(request: Request) -> JSONResponse:
    """The same report, from any scanner the operator shares `GATEPASS_LEAK_REPORT_SECRET` with:
    `Gatepass-Leak-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`."""
    secret = services(request).settings.leak_report_secret
    if secret is None:
        raise ProblemError(404, "not_found", "leak reports are not set up")
    body = await request.body()
    header = request.headers.get(signed.HEADER, "")
    if not signed.verify(secret.get_secret_value().encode(), header, body, time.time()):
        await _refuse(request)
    return await _assess(request, body, reporter="api")


async def _refuse(request: Request) -> None:
    """401 for a signature that did not verify; 429 once a source has sent too many."""
    limiter = services(request).limiter
    state = await limiter.hit(
        f"leaks:refused:{source_key(source(request)[0])}", REFUSALS, REFUSAL_PERIOD
    )
    if not state.allowed:
        wait = max(1, state.reset - int(time.time()))
        raise ProblemError(
            429, "too_many_requests", "too many bad signatures", headers={"retry-after": str(wait)}
        )
    raise ProblemError(401, "invalid_signature", "the request signature did not verify")


async def _assess(request: Request, body: bytes, *, reporter: str) -> JSONResponse:
    try:
        reports = parse(body)
    except ReportError as exc:
        raise ProblemError(400, "invalid_report", str(exc)) from None
    found = services(request)
    actor = service.system_actor(reporter)
    labels, notices = await threaded(
        lambda: service.assess(found.db, found.hasher, reports, actor=actor)
    )
    mails = BackgroundTask(notify.send_all, found.settings, notices)
    return JSONResponse(labels, headers=NO_STORE, background=mails)
