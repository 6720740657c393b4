"""Throttling sign-in attempts: the guesser is refused, the account's owner is only slowed.

Every attempt is counted before its password is checked, in three fixed windows (in Redis when
configured, so every process shares them):

- per source address (``per_source``, any email): one machine trying many accounts;
- per source address and email (``per_source_account``): one machine guessing one account;
- per email from everywhere (``slow_after``): a guess spread over many addresses.

Over either of the first two, the attempt is refused (429 with ``Retry-After``), which stops the
guesser and nobody else. Over the third, the attempt is not refused but waits a little longer
each time (``step`` more, up to ``max_delay``) before its password is checked: refusing there
would let anyone lock an owner out of their account with ten wrong guesses, again and again.
The wait holds no database connection and no password-check slot.

The email is counted whether or not it has an account, and the same count serves the console
and the management API, so the throttle tells a stranger nothing and one edge cannot be used to
double the other's allowance. An IPv6 source is counted by its /64 network: one host commonly
holds every address of it. Once this process has refused a count it remembers so until the
window ends, so a flood of refused attempts costs no Redis round trip (and is audited once).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from gatepass.addresses import source_key
from gatepass.ops.ratelimit import Bucket, ExpiringMap, RateLimiter, RateState


@dataclass(frozen=True)
class SignInPolicy:
    per_source: int = 50  # attempts per source address per window, any email
    per_source_account: int = 10  # attempts per source address and email per window
    slow_after: int = 10  # attempts per email from everywhere before each one waits
    step: float = 0.25  # seconds more for every attempt past ``slow_after``
    max_delay: float = 3.0  # seconds at most
    window: int = 300  # seconds

    def delay(self, account: RateState) -> float:
        """The wait of one attempt, given the email's count (see ``account_bucket``)."""
        if not account.allowed:
            return self.max_delay
        over = account.limit - account.remaining - self.slow_after
        return min(self.max_delay, self.step * max(0, over))

    @property
    def account_limit(self) -> int:
        """Where the growing wait reaches ``max_delay`` (past it, the count is not needed)."""
        return self.slow_after + math.ceil(self.max_delay / self.step)


@dataclass(frozen=True, slots=True)
class Decision:
    """``refuse``: seconds before this source may try again (answer 429), 0 if it may go on.
    ``delay``: seconds to wait before the password is checked. ``repeated``: this process had
    already refused the same count in this window (the attempt need not be audited again)."""

    refuse: int = 0
    delay: float = 0.0
    repeated: bool = False


def buckets(policy: SignInPolicy, email: str, source: str) -> tuple[Bucket, Bucket, Bucket]:
    """The (source), (source, email) and (email) counts of one attempt."""
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    where = source_key(source)
    return (
        Bucket(f"signin:ip:{where}", policy.per_source, policy.window),
        Bucket(f"signin:ia:{account}:{where}", policy.per_source_account, policy.window),
        Bucket(f"signin:a:{account}", policy.account_limit, policy.window),
    )


class SignInThrottle:
    def __init__(self, limiter: RateLimiter, policy: SignInPolicy | None = None) -> None:
        self.limiter = limiter
        self.policy = policy or SignInPolicy()
        self._refused: ExpiringMap[str, float] = ExpiringMap()  # bucket name -> when it opens

    async def decide(self, email: str, source: str) -> Decision:
        """Count one attempt and say whether it is refused, or how long it must wait."""
        by_source, by_pair, by_account = buckets(self.policy, email, source)
        now = time.time()
        known = max(self._refused.get(b.name, now) or 0.0 for b in (by_source, by_pair))
        if known > now:
            return Decision(refuse=_seconds(known - now), repeated=True)
        states = await self.limiter.hit_all((by_source, by_pair, by_account))
        over = [(b, s) for b, s in zip((by_source, by_pair), states, strict=False) if not s.allowed]
        if not over:
            return Decision(delay=self.policy.delay(states[2]))
        for bucket, state in over:
            reset = float(state.reset)
            self._refused.set(bucket.name, reset, expires=reset, now=now)
        return Decision(refuse=_seconds(max(s.reset for _, s in over) - now))


def _seconds(left: float) -> int:
    return max(1, math.ceil(left))
