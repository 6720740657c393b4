"""A tenant's credential policy (``credentials.policy``), enforced by the one lifecycle for each
kind alike: on create, on edit (of what the edit changes) and before a new secret."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from gatepass import provisioning
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.clients import service as clients
from gatepass.credentials import editing, lifecycle
from gatepass.credentials.policy import CredentialPolicy
from gatepass.db import utcnow
from gatepass.errors import InvalidInputError
from gatepass.tenants.service import TenantSettings
from tests.credentials.support import in_acme
from tests.credentials.test_lifecycle import KINDS
from tests.factories import ACTOR, Factory

DAY = timedelta(days=1)


def set_policy(factory: Factory, policy: CredentialPolicy) -> None:
    with in_acme(factory) as (session, tenant):
        changes = TenantSettings(credential_policy=policy.stored())
        provisioning.update_settings(session, tenant, changes, actor=ACTOR, cipher=factory.cipher)


def make(factory: Factory, kind: lifecycle.Kind[Any], **fields: Any) -> Any:
    with in_acme(factory) as (session, tenant):
        if kind is API_KEY:
            spec: Any = apikeys.NewApiKey(name="job", **fields)
            row, _ = apikeys.create_key(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        else:
            spec = clients.NewClient(name="job", **fields)
            row, _ = clients.create_client(
                session, tenant, spec, actor=ACTOR, hasher=factory.hasher
            )
        return kind.ref_of(row), row.allowed_ips, getattr(row, "rate_limit", None)


def edit(factory: Factory, kind: lifecycle.Kind[Any], ref: str, **fields: Any) -> None:
    with in_acme(factory) as (session, tenant):
        editing.edit(session, tenant, kind, ref, editing.CredentialChanges(**fields), actor=ACTOR)


def rotate(factory: Factory, kind: lifecycle.Kind[Any], ref: str) -> None:
    with in_acme(factory) as (session, tenant):
        lifecycle.rotate(session, tenant, kind, ref, grace=None, actor=ACTOR, hasher=factory.hasher)


KIND = [pytest.param(param.values[0], id=param.id) for param in KINDS]


@pytest.mark.parametrize("kind", KIND)
def test_a_maximum_lifetime_needs_an_expiry_within_it(
    acme: Factory, kind: lifecycle.Kind[Any]
) -> None:
    set_policy(acme, CredentialPolicy(max_lifetime_days=30))
    for expires_at in (None, utcnow() + 31 * DAY):
        with pytest.raises(InvalidInputError, match="expiry at most 30 days from now"):
            make(acme, kind, expires_at=expires_at)
    ref, _, _ = make(acme, kind, expires_at=utcnow() + 29 * DAY)
    with pytest.raises(InvalidInputError, match="at most 30 days"):
        edit(acme, kind, ref, clear_expiry=True)
    edit(acme, kind, ref, name="renamed")  # what the edit does not change is not checked


@pytest.mark.parametrize("kind", KIND)
def test_a_credential_made_before_the_policy_gets_no_new_secret_until_it_complies(
    acme: Factory, kind: lifecycle.Kind[Any]
) -> None:
    ref, _, _ = make(acme, kind)
    set_policy(acme, CredentialPolicy(expiry_required=True))
    with pytest.raises(InvalidInputError, match="requires an expiry date"):
        rotate(acme, kind, ref)
    edit(acme, kind, ref, expires_at=utcnow() + 400 * DAY)
    rotate(acme, kind, ref)


@pytest.mark.parametrize("kind", KIND)
def test_allowed_ranges_are_given_by_default_and_kept_to(
    acme: Factory, kind: lifecycle.Kind[Any]
) -> None:
    set_policy(acme, CredentialPolicy(allowed_ips=("10.0.0.0/8", "2001:db8::/32")))
    assert make(acme, kind)[1] == "10.0.0.0/8 2001:db8::/32"
    ref, stored, _ = make(acme, kind, allowed_ips=["10.1.0.0/16"])
    assert stored == "10.1.0.0/16"
    with pytest.raises(
        InvalidInputError, match=re.escape("192.168.0.0/24 is outside the allowed ranges")
    ):
        make(acme, kind, allowed_ips=["10.2.0.0/16", "192.168.0.0/24"])
    with pytest.raises(InvalidInputError, match="an IP allowlist is required"):
        edit(acme, kind, ref, allowed_ips=[])
    edit(acme, kind, ref, allowed_ips=["2001:db8:1::/48"])


def test_a_new_key_without_a_rate_limit_gets_the_default(acme: Factory) -> None:
    set_policy(acme, CredentialPolicy(default_rate_limit=100, default_rate_period=60))
    assert make(acme, API_KEY)[2] == 100
    assert make(acme, API_KEY, rate_limit=apikeys.RateLimit(5, 1))[2] == 5


@pytest.mark.parametrize(
    ("policy", "says"),
    [
        (CredentialPolicy(max_lifetime_days=0), "maximum lifetime must be 1 to 3650 days"),
        (CredentialPolicy(default_rate_limit=10), "needs both requests and a period"),
        (CredentialPolicy(default_rate_limit=0, default_rate_period=60), "rate limit must be"),
        (CredentialPolicy(allowed_ips=("intranet",)), "is not an IP address or CIDR range"),
    ],
)
def test_a_wrong_policy_is_refused(acme: Factory, policy: CredentialPolicy, says: str) -> None:
    with pytest.raises(InvalidInputError, match=says):
        set_policy(acme, policy)
    with in_acme(acme) as (_, tenant):
        assert tenant.credential_policy == {}
