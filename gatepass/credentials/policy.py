"""A tenant's credential policy: what every OAuth client and API key of the tenant must be.

An administrator sets it; the lifecycle enforces it when a credential is created, edited or
given a new secret, with an error that says what to change:

- ``max_lifetime_days``: a credential must expire, at most that many days from now;
- ``expiry_required``: a credential must expire (at any date);
- ``default_rate_limit`` / ``default_rate_period``: a new API key given no rate limit gets it;
- ``allowed_ips``: a credential may be used from inside these ranges only. One created without
  an allowlist gets them; one with an allowlist must keep inside them;
- ``leak_action``: what a report of a leaked secret does to a credential whose current secret
  it is (``gatepass.leaks``): ``revoke`` (the default) or ``suspend``. A leaked secret is public
  for good, and revoking is final, so nothing can bring the leaked secret back to life; a tenant
  whose integrations must not stop for good may choose ``suspend``, then rotate and resume;
- ``dormant_after_days``: a credential unused for that long is dormant: the reminder job mails
  about it, and with ``auto_suspend_dormant`` suspends it (``jobs`` and ``reminders``).

Pure functions over a frozen value: the tenant row stores ``stored()`` as JSON.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gatepass.credentials import rules
from gatepass.errors import InvalidInputError

MAX_LIFETIME_DAYS = 3650
LEAK_ACTIONS = ("revoke", "suspend")
DORMANT_DAYS = (7, 3650)  # the shortest and longest dormancy period a policy may set


@dataclass(frozen=True)
class CredentialPolicy:
    max_lifetime_days: int | None = None
    expiry_required: bool = False
    default_rate_limit: int | None = None
    default_rate_period: int | None = None  # seconds
    allowed_ips: tuple[str, ...] = ()
    leak_action: str = "revoke"
    dormant_after_days: int | None = None
    auto_suspend_dormant: bool = False

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> CredentialPolicy:
        """The policy a tenant row holds (``{}``: none)."""
        values = dict(stored or {})
        values["allowed_ips"] = tuple(values.get("allowed_ips") or ())
        return cls(**values)

    def checked(self) -> CredentialPolicy:
        """This policy with its ranges normalised; ``InvalidInputError`` if a value is wrong."""
        days = self.max_lifetime_days
        if days is not None and not 1 <= days <= MAX_LIFETIME_DAYS:
            raise InvalidInputError(f"maximum lifetime must be 1 to {MAX_LIFETIME_DAYS} days")
        limit, period = self.default_rate_limit, self.default_rate_period
        if (limit is None) != (period is None):
            raise InvalidInputError("a default rate limit needs both requests and a period")
        if limit is not None and period is not None:
            rules.check_rate_limit(limit, period)
        ranges = tuple(rules.allowlist(list(self.allowed_ips)).split())
        if self.leak_action not in LEAK_ACTIONS:
            raise InvalidInputError("the action on a leaked secret must be revoke or suspend")
        self._check_dormancy()
        return replace(self, allowed_ips=ranges)

    def _check_dormancy(self) -> None:
        shortest, longest = DORMANT_DAYS
        dormant = self.dormant_after_days
        if dormant is not None and not shortest <= dormant <= longest:
            raise InvalidInputError(f"dormant after must be {shortest} to {longest} days")
        if self.auto_suspend_dormant and dormant is None:
            raise InvalidInputError("suspending dormant credentials needs a dormancy period")

    def stored(self) -> dict[str, Any]:
        return {**asdict(self), "allowed_ips": list(self.allowed_ips)}

    @property
    def empty(self) -> bool:
        return self == CredentialPolicy()


def default_allowlist(policy: CredentialPolicy, given: list[str]) -> list[str]:
    """A new credential's allowlist: the one given, or else the tenant's ranges."""
    return given or list(policy.allowed_ips)


def check_expiry(policy: CredentialPolicy, expires_at: datetime | None, now: datetime) -> None:
    if expires_at is None and (policy.expiry_required or policy.max_lifetime_days):
        raise InvalidInputError(_must_expire(policy))
    days = policy.max_lifetime_days
    if days is not None and expires_at is not None and expires_at > now + timedelta(days=days):
        raise InvalidInputError(_must_expire(policy))


def check_allowlist(policy: CredentialPolicy, stored: str) -> None:
    """``stored`` (a credential's allowlist) must lie inside the tenant's ranges, if any."""
    if not policy.allowed_ips:
        return
    tenant = rules.networks(" ".join(policy.allowed_ips))
    own = rules.networks(stored)
    if not own:
        raise InvalidInputError(_inside(policy, "an IP allowlist is required"))
    outside = [n for n in own if not any(_within(n, t) for t in tenant)]
    if outside:
        raise InvalidInputError(_inside(policy, f"{outside[0]} is outside the allowed ranges"))


def check(
    policy: CredentialPolicy, *, expires_at: datetime | None, allowed_ips: str, now: datetime
) -> None:
    """The whole policy, as a new secret requires it of the credential it is made for."""
    check_expiry(policy, expires_at, now)
    check_allowlist(policy, allowed_ips)


def _within(network: rules.Network, outer: rules.Network) -> bool:
    if isinstance(network, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return network.subnet_of(outer)
    if isinstance(network, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return network.subnet_of(outer)
    return False


def _must_expire(policy: CredentialPolicy) -> str:
    if policy.max_lifetime_days is not None:
        return (
            "the tenant's credential policy requires an expiry at most"
            f" {policy.max_lifetime_days} days from now"
        )
    return "the tenant's credential policy requires an expiry date"


def _inside(policy: CredentialPolicy, problem: str) -> str:
    ranges = ", ".join(policy.allowed_ips)
    return f"the tenant's credential policy allows use from {ranges} only: {problem}"
