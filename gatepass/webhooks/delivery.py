"""Sending the outbox: claim due messages, POST them signed, log each attempt, retry with backoff.

Any number of processes may run ``deliver_due`` at once: a message is claimed by one atomic
``UPDATE`` (its due rows picked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), which moves its
next attempt a lease ahead, so a process that dies mid-delivery leaves it to be sent again.
A 2xx answer delivers it; anything else is retried after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h,
2 h, 4 h, 8 h and 8 h (each give or take 10%), and the message is given up (``failed``) when the
eleventh attempt, about 24 hours after the first, fails too.

An attempt has ``DEADLINE`` seconds in all (a receiver that trickles its answer byte by byte is
cut off there), connects to the address the destination check resolved, and any failure of one
message (its URL, its receiver, its sealed secret) is that message's failed attempt: it never
stops the batch, nor holds the messages behind it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gatepass import destinations
from gatepass.credential_secrets import Plaintext
from gatepass.db import Database, utcnow
from gatepass.settings import Settings
from gatepass.webhooks import signing
from gatepass.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from gatepass.webhooks.outbox import payload

log = logging.getLogger(__name__)

RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)  # seconds
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
TIMEOUT = httpx.Timeout(5.0)  # each connect, write or read
DEADLINE = 10.0  # seconds one attempt may take in all
MAX_RESPONSE_BYTES = 4096  # of a receiver's answer, read and dropped


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def deliver_due(
    db: Database, settings: Settings, *, now: datetime | None = None, limit: int = 50
) -> int:
    """Send up to ``limit`` messages due at ``now``; returns how many attempts were made."""
    now = now or utcnow()
    token, claimed = claim(db, now, limit)
    if claimed:
        asyncio.run(_send(db, settings, token, claimed, now))
    return len(claimed)


async def _send(
    db: Database,
    settings: Settings,
    token: str,
    claimed: list[tuple[WebhookMessage, WebhookEndpoint]],
    now: datetime,
) -> None:
    box = signing.SecretBox.from_master_key(settings.master_key())
    rules = destinations.Rules.of(settings)
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
        for message, endpoint in claimed:
            try:
                secret = box.open(endpoint.sealed_secret, endpoint.endpoint_id)
                outcome = await attempt(client, rules, endpoint.url, message, secret)
            except Exception as exc:  # one message's fault is its own failed attempt
                log.warning("webhook %s not sent: %s", message.message_id, type(exc).__name__)
                outcome = Outcome(None, type(exc).__name__, 0)
            record(db, message.id, outcome, now=now, claim=token)


def claim(
    db: Database, now: datetime, limit: int
) -> tuple[str, list[tuple[WebhookMessage, WebhookEndpoint]]]:
    """Take the due messages of enabled endpoints for this process, oldest due first, under a
    claim token; they stay this process's for as long as sending them all may take.

    A read comes first: with nothing due (nearly always) no process takes a write lock."""
    token = secrets.token_hex(16)
    with db.read() as session:
        if session.scalar(select(WebhookMessage.id).where(*_due(now)).limit(1)) is None:
            return token, []
    lease = timedelta(seconds=limit * DEADLINE + 60)
    with db.transaction() as session:
        session.execute(
            update(WebhookMessage)
            .where(WebhookMessage.id.in_(_next_due(session, now, limit)), *_due(now))
            .values(claim=token, next_attempt_at=now + lease)
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(WebhookMessage, WebhookEndpoint)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_pk)
            .where(WebhookMessage.claim == token)
            .order_by(WebhookMessage.id)
        )
        return token, [(message, endpoint) for message, endpoint in rows]


def _next_due(session: Session, now: datetime, limit: int) -> Any:
    """SQL: the ids of the ``limit`` messages due first; on PostgreSQL, locked, skipping those
    another process is claiming."""
    due = (
        select(WebhookMessage.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookMessage.endpoint_pk)
        .where(*_due(now), WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(of=WebhookMessage, skip_locked=True)
    return due.scalar_subquery()


def _due(now: datetime) -> tuple[Any, ...]:
    return (WebhookMessage.status == "pending", WebhookMessage.next_attempt_at <= now)


async def attempt(
    client: httpx.AsyncClient,
    rules: destinations.Rules,
    url: str,
    message: WebhookMessage,
    secret: Plaintext,
) -> Outcome:
    """POST ``message`` to ``url`` once, within ``DEADLINE``; never raises for the receiver's
    faults."""
    body = json.dumps(payload(message), separators=(",", ":")).encode()
    started = time.monotonic()
    try:
        async with asyncio.timeout(DEADLINE):
            code = await _post(
                client, rules, httpx.URL(url), body, message_id=message.message_id, secret=secret
            )
        error = "" if 200 <= code < 300 else f"HTTP {code}"
        answered: int | None = code
    except destinations.RefusedDestination as exc:
        answered, error = None, str(exc)
    except (httpx.HTTPError, TimeoutError) as exc:
        answered, error = None, type(exc).__name__
    return Outcome(answered, error[:200], int((time.monotonic() - started) * 1000))


async def _post(
    client: httpx.AsyncClient, rules: destinations.Rules, url: httpx.URL, body: bytes, **signed: Any
) -> int:
    """The receiver's status: connected to the address checked, named by its host name.
    ``signed``: the message's ``message_id`` and ``secret``."""
    pinned, headers, sni = await asyncio.to_thread(rules.pinned, url)
    headers.update(signing.headers(signed["secret"], signed["message_id"], int(time.time()), body))
    async with client.stream(
        "POST", pinned, content=body, headers=headers, extensions=sni
    ) as response:
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= MAX_RESPONSE_BYTES:
                break
        return response.status_code


def record(db: Database, message_pk: int, outcome: Outcome, *, now: datetime, claim: str) -> None:
    """Log the attempt and decide what comes next: delivered, retried later, or given up.
    Only while the message is still this sender's ``claim`` (not redelivered, nor deleted)."""
    with db.transaction() as session:
        message = session.get(WebhookMessage, message_pk)
        if message is None or message.claim != claim:
            return
        message.attempts += 1
        session.add(
            WebhookAttempt(
                tenant_id=message.tenant_id,
                message_pk=message.id,
                attempt=message.attempts,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                succeeded=outcome.succeeded,
            )
        )
        message.claim = None
        next_step(message, outcome.succeeded, now)


def next_step(message: WebhookMessage, succeeded: bool, now: datetime) -> None:
    if succeeded:
        message.status = "delivered"
    elif message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
    else:
        message.next_attempt_at = now + backoff(message.attempts)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt, with 10% jitter either way so that
    the retries of one outage do not all arrive together."""
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))  # noqa: S311 - not a secret


def redeliver(session: Session, message: WebhookMessage) -> None:
    """Send ``message`` again at once (same ``webhook-id``), however it ended."""
    message.status = "pending"
    message.next_attempt_at = utcnow()
    message.claim = None
