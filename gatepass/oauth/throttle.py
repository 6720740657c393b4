"""Throttling wrong client secrets at every endpoint that authenticates a client.

Only failures are counted, and only after the secret has been checked, so a request with the
right secret never waits for Redis and always succeeds: a stolen client ID in an attacker's hands
cannot lock the integration that owns it out. Wrong secrets are counted twice, per client and
source address (``per_source``, low: one misbehaving caller) and per client from anywhere
(``per_client``, higher: a spread-out attack). Once a count is over its limit, further wrong
secrets are answered 429 with ``Retry-After`` until the window ends.

When this process has seen a bucket go over its limit it remembers that locally until the
window ends, so a flood of wrong secrets costs no Redis round trip after the first few.
Client IDs are counted whether or not they exist, so the answer says nothing about that.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from gatepass.ops.ratelimit import Bucket, ExpiringMap, RateLimiter, RateState


@dataclass(frozen=True)
class ThrottlePolicy:
    per_source: int = 10  # wrong secrets per client and source address per window
    per_client: int = 100  # wrong secrets per client from all addresses per window
    window: int = 60  # seconds


@dataclass(frozen=True, slots=True)
class Verdict:
    """``wait``: seconds before trying again (0: not throttled). ``repeated``: this process had
    already throttled the same count, so the attempt need not be logged again."""

    wait: int
    repeated: bool = False


def buckets(
    policy: ThrottlePolicy, tenant_id: int, client_id: str, source: str
) -> tuple[Bucket, Bucket]:
    """The (client, source) and the client bucket for one failed attempt."""
    client = hashlib.sha256(f"{tenant_id}:{client_id}".encode()).hexdigest()[:24]
    return (
        Bucket(f"cs:{client}:{source[:64]}", policy.per_source, policy.window),
        Bucket(f"c:{client}", policy.per_client, policy.window),
    )


def wait_seconds(states: list[RateState], now: float) -> int:
    """Seconds until every exceeded count's window ends (at least 1), or 0 if none is exceeded."""
    exceeded = [state.reset for state in states if not state.allowed]
    if not exceeded:
        return 0
    return max(1, int(max(exceeded) - now + 0.999))


class ClientThrottle:
    def __init__(
        self,
        limiter: RateLimiter,
        registry: CollectorRegistry | None = None,
        policy: ThrottlePolicy | None = None,
    ) -> None:
        self.limiter = limiter
        self.policy = policy or ThrottlePolicy()
        self._blocked: ExpiringMap[str, float] = ExpiringMap()  # bucket name -> when it opens
        self.throttled = Counter(
            "gatepass_client_auth_throttled",
            "Client authentications refused with 429 after too many wrong secrets",
            registry=registry,
        )
        self.failures = Counter(
            "gatepass_client_auth_failures",
            "Failed client authentications (wrong, unknown or malformed credentials)",
            registry=registry,
        )

    async def failed(self, tenant_id: int, client_id: str, source: str) -> Verdict:
        """Count a failed attempt and say whether the caller must now wait (answer 429)."""
        self.failures.inc()
        pair = buckets(self.policy, tenant_id, client_id, source)
        now = time.time()
        known = max(self._blocked.get(b.name, now) or 0.0 for b in pair)
        if known > now:  # already over a limit here: no need to ask Redis again
            self.throttled.inc()
            return Verdict(max(1, int(known - now + 0.999)), repeated=True)
        states = await self.limiter.hit_all(pair)
        wait = wait_seconds(states, now)
        if wait:
            self.throttled.inc()
            for bucket, state in zip(pair, states, strict=True):
                if not state.allowed:
                    reset = float(state.reset)
                    self._blocked.set(bucket.name, reset, expires=reset, now=now)
        return Verdict(wait, repeated=False)
