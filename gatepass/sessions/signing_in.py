"""One sign-in attempt from start to end, the same for the console and the management API.

The order is what keeps a flood of sign-ins from hurting anyone but the flooder:

1. the throttle counts the attempt (no database): a guessing source is refused at once;
2. an email under attack from many sources waits a little (holding nothing), unless every
   password-check slot is taken, when it is refused as busy at once rather than after the wait;
3. a password-check slot is taken, or the attempt is refused at once as busy;
4. the account's hash is read in a short transaction, which is closed;
5. the password is checked (argon2, in a thread) with no connection held, and the slot freed;
6. a second short transaction opens the session, or audits the failure.

Database errors (outage, or no pooled connection free in time) are raised to the edge, which
answers 503 with ``Retry-After``. The edge maps each ``Outcome`` to its own format.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread

from gatepass.audit.failures import FailureLog
from gatepass.db import Database
from gatepass.ops.ratelimit import RateLimiter
from gatepass.sessions import service as sessions
from gatepass.sessions.passwords import HashSlots
from gatepass.sessions.service import Account, Attempt, Lookup, SessionKeys, SignedIn
from gatepass.sessions.throttle import SignInPolicy, SignInThrottle
from gatepass.users import passwords

T = TypeVar("T")
BUSY_RETRY_AFTER = 1  # seconds: a slot frees within one password check


class Outcome(enum.Enum):
    SIGNED_IN = "signed_in"
    FAILED = "failed"  # wrong email or password, or the account is disabled
    CHOOSE = "choose"  # the password opens accounts in several tenants: the user picks one
    THROTTLED = "throttled"  # too many attempts from this source (429)
    BUSY = "busy"  # every password-check slot is taken (503)


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    signed_in: SignedIn | None = None
    slug: str | None = None  # the tenant signed in to
    choices: tuple[tuple[str, str], ...] = ()  # (slug, name) of each tenant to choose from
    retry_after: int = 0  # seconds, for THROTTLED and BUSY


class SignIns:
    """What sign-ins share in one process: the throttle and the password-check slots."""

    def __init__(
        self,
        limiter: RateLimiter,
        failures: FailureLog,
        *,
        max_hashes: int,
        policy: SignInPolicy | None = None,
    ) -> None:
        self.throttle = SignInThrottle(limiter, policy)
        self.slots = HashSlots(max_hashes)
        self.failures = failures

    async def wait(self, seconds: float) -> None:
        """Slow an attempt down (the email is under attack from many sources)."""
        await anyio.sleep(seconds)

    async def attempt(self, db: Database, keys: SessionKeys, attempt: Attempt) -> Result:
        decision = await self.throttle.decide(attempt.email, attempt.source_ip)
        if decision.refuse:
            if not decision.repeated:
                await _threaded(lambda: self._audit_throttled(db, attempt))
            return Result(Outcome.THROTTLED, retry_after=decision.refuse)
        if decision.delay:
            if self.slots.all_taken():  # refused as busy anyway: hold no connection meanwhile
                return Result(Outcome.BUSY, retry_after=BUSY_RETRY_AFTER)
            await self.wait(decision.delay)
        with self.slots.slot() as free:
            if not free:
                return Result(Outcome.BUSY, retry_after=BUSY_RETRY_AFTER)
            found = await _threaded(lambda: _read(db, attempt))
            checked = await _threaded(lambda: _check(found, attempt.password))
        if not checked.accepted:
            await _threaded(lambda: self._record(checked.failures, attempt))
            return Result(Outcome.FAILED)
        return await _threaded(lambda: _conclude(db, keys, attempt, checked))

    def _record(self, reasons: dict[int, str], attempt: Attempt) -> None:
        """Count a failed attempt in each tenant of ``reasons`` (tenant id -> why it failed):
        counted in memory past the first of its kind this minute, so a flood writes little."""
        for tenant_id, reason in reasons.items():
            self.failures.record(**sessions.failure_record(tenant_id, reason, attempt))

    def _audit_throttled(self, db: Database, attempt: Attempt) -> None:
        """Audit a refused attempt where a failed one would be (its first refusal per window)."""
        with db.read() as session:
            found = sessions.lookup(session, attempt.email, attempt.slug)
        self._record(dict.fromkeys(found.audit_in, "throttled"), attempt)


@dataclass(frozen=True)
class _Checked:
    accepted: tuple[Account, ...]  # active accounts the password opens
    failures: dict[int, str]  # tenant id -> why the attempt failed there
    new_hash: str | None = None  # for a lone accepted account hashed with old parameters


def _read(db: Database, attempt: Attempt) -> Lookup:
    with db.read() as session:
        return sessions.lookup(session, attempt.email, attempt.slug)


def _check(found: Lookup, password: str) -> _Checked:
    """The password against every account (or a dummy hash, for none): no database here."""
    if not found.accounts:
        passwords.verify(None, password)
        return _Checked((), dict.fromkeys(found.audit_in, "unknown_user"))
    accepted, failures = [], {}
    for account in found.accounts:
        if not passwords.verify(account.password_hash, password):
            failures[account.tenant_id] = "bad_password"
        elif account.status != "active":
            failures[account.tenant_id] = account.status
        else:
            accepted.append(account)
    new_hash = passwords.rehashed(accepted[0].password_hash, password) if accepted else None
    return _Checked(tuple(accepted), failures, new_hash if len(accepted) == 1 else None)


def _conclude(db: Database, keys: SessionKeys, attempt: Attempt, checked: _Checked) -> Result:
    if len(checked.accepted) > 1:
        choices = tuple((a.tenant_slug, a.tenant_name) for a in checked.accepted)
        return Result(Outcome.CHOOSE, choices=choices)
    with db.transaction() as session:
        account = checked.accepted[0]
        made = sessions.open_session(
            session, account, new_hash=checked.new_hash, attempt=attempt, keys=keys
        )
    if made is None:
        return Result(Outcome.FAILED)
    return Result(Outcome.SIGNED_IN, signed_in=made, slug=account.tenant_slug)


async def _threaded(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)
