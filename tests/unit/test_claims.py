"""Scope and audience rules and the claims of an access token (gatepass.oauth.claims)."""

from __future__ import annotations

import pytest

from gatepass.oauth.claims import (
    TokenGrant,
    access_token_claims,
    choose_audience,
    for_gatepass,
    grant_scopes,
)
from gatepass.oauth.errors import InvalidScopeError, InvalidTargetError

AVAILABLE = frozenset({"nql", "workflows", "campaigns"})
GRANTED = ("nql", "workflows")


# -- grant_scopes ---------------------------------------------------------------------------


def test_no_scope_requested_grants_everything_the_client_holds() -> None:
    assert grant_scopes([], GRANTED, AVAILABLE) == ("nql", "workflows")


def test_a_subset_requested_grants_that_subset() -> None:
    assert grant_scopes(["workflows"], GRANTED, AVAILABLE) == ("workflows",)


def test_the_full_set_requested_in_another_order_keeps_the_request_order() -> None:
    assert grant_scopes(["workflows", "nql"], GRANTED, AVAILABLE) == ("workflows", "nql")


@pytest.mark.parametrize("ignored", ["openid", "profile", "email"])
def test_openid_scope_alone_counts_as_no_scope(ignored: str) -> None:
    assert grant_scopes([ignored], GRANTED, AVAILABLE) == ("nql", "workflows")


def test_openid_scopes_are_dropped_next_to_real_ones() -> None:
    assert grant_scopes(["openid", "nql", "email"], GRANTED, AVAILABLE) == ("nql",)


def test_a_catalog_scope_not_granted_to_the_client_is_invalid_scope() -> None:
    with pytest.raises(InvalidScopeError):
        grant_scopes(["campaigns"], GRANTED, AVAILABLE)


def test_an_unknown_scope_is_invalid_scope() -> None:
    with pytest.raises(InvalidScopeError):
        grant_scopes(["nql", "billing"], GRANTED, AVAILABLE)


def test_a_granted_scope_that_became_unavailable_is_invalid_scope() -> None:
    with pytest.raises(InvalidScopeError):
        grant_scopes(["workflows"], GRANTED, frozenset({"nql"}))


def test_a_granted_scope_that_became_unavailable_is_left_out_by_default() -> None:
    assert grant_scopes([], GRANTED, frozenset({"nql"})) == ("nql",)


def test_a_client_without_available_permissions_gets_an_empty_scope() -> None:
    assert grant_scopes([], (), AVAILABLE) == ()


# -- choose_audience ------------------------------------------------------------------------

DEFAULT = "api://acme"
ALLOWED = frozenset({DEFAULT, "https://api.example.com", "https://reports.example.com"})


def test_no_resource_gives_the_default_audience() -> None:
    assert choose_audience([], DEFAULT, ALLOWED) == DEFAULT


def test_an_allowed_resource_becomes_the_audience() -> None:
    assert choose_audience(["https://reports.example.com"], DEFAULT, ALLOWED) == (
        "https://reports.example.com"
    )


def test_several_allowed_resources_become_a_list_audience() -> None:
    resources = ["https://reports.example.com", "https://api.example.com"]
    assert choose_audience(resources, DEFAULT, ALLOWED) == resources


def test_a_repeated_resource_counts_once() -> None:
    resources = ["https://api.example.com", "https://api.example.com"]
    assert choose_audience(resources, DEFAULT, ALLOWED) == "https://api.example.com"


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param("https://evil.example.com", id="unknown"),
        pytest.param("https://api.example.com/", id="trailing-slash"),
        pytest.param("reports", id="relative"),
        pytest.param("https://api.example.com#frag", id="fragment"),
    ],
)
def test_a_resource_outside_the_allowed_audiences_is_invalid_target(resource: str) -> None:
    with pytest.raises(InvalidTargetError):
        choose_audience([resource], DEFAULT, ALLOWED)


def test_one_bad_resource_among_good_ones_is_invalid_target() -> None:
    with pytest.raises(InvalidTargetError):
        choose_audience(["https://api.example.com", "https://x.example"], DEFAULT, ALLOWED)


ISSUER = "https://gp.example/realms/acme"


def test_the_issuer_can_be_asked_for_as_gatepass_s_own_audience() -> None:
    assert choose_audience([ISSUER], DEFAULT, ALLOWED, own=ISSUER) == ISSUER


def test_the_issuer_is_not_an_audience_unless_named_as_gatepass_s_own() -> None:
    with pytest.raises(InvalidTargetError):
        choose_audience([ISSUER], DEFAULT, ALLOWED)


def test_gatepass_s_own_audience_cannot_be_combined_with_another_resource() -> None:
    with pytest.raises(InvalidTargetError):
        choose_audience([ISSUER, "https://api.example.com"], DEFAULT, ALLOWED, own=ISSUER)


@pytest.mark.parametrize(
    ("audience", "accepted"),
    [
        pytest.param(ISSUER, True, id="issuer"),
        pytest.param([ISSUER], True, id="issuer-in-a-list"),
        pytest.param(DEFAULT, False, id="default"),
        pytest.param("https://api.example.com", False, id="third-party"),
        pytest.param([ISSUER, "https://api.example.com"], False, id="issuer-and-third-party"),
        pytest.param(ISSUER + "/", False, id="trailing-slash"),
        pytest.param(None, False, id="none"),
    ],
)
def test_only_a_token_for_the_issuer_alone_is_for_gatepass(
    audience: object, accepted: bool
) -> None:
    assert for_gatepass({"aud": audience}, ISSUER) is accepted


# -- access_token_claims --------------------------------------------------------------------


def test_access_token_claims_follow_rfc_9068() -> None:
    grant = TokenGrant(scopes=("nql", "workflows"), audience=DEFAULT, lifetime=600)
    claims = access_token_claims(
        issuer="https://gp.example/realms/acme",
        client_id="my-client",
        client_uid="5f0c6b1e9d2a4c7b8e3f1a2b3c4d5e6f",
        grant=grant,
        groups=("emea",),
        now=1_000_000,
    )
    jti = claims.pop("jti")
    assert isinstance(jti, str)
    assert len(jti) >= 16
    assert claims == {
        "iss": "https://gp.example/realms/acme",
        "sub": "my-client",
        "aud": DEFAULT,
        "exp": 1_000_600,
        "iat": 1_000_000,
        "nbf": 1_000_000,
        "client_id": "my-client",
        "scope": "nql workflows",
        "groups": ["emea"],
        "client_uid": "5f0c6b1e9d2a4c7b8e3f1a2b3c4d5e6f",
    }


def test_every_token_gets_its_own_jti() -> None:
    grant = TokenGrant(scopes=(), audience=DEFAULT, lifetime=600)
    jtis = {
        access_token_claims(
            issuer="i", client_id="c", client_uid="u", grant=grant, groups=(), now=0
        )["jti"]
        for _ in range(100)
    }
    assert len(jtis) == 100
