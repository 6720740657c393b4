"""A client with public keys instead of a secret, made in a real browser: nothing secret is
shown or emailed, and the client gets tokens with a signed assertion (private_key_jwt)."""

from __future__ import annotations

import json
import time

import jwt
import pytest
import requests
from playwright.sync_api import expect

from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.tenants import service as tenants
from tests.console.conftest import Console
from tests.console.pages import row
from tests.factories import Factory
from tests.http.support import tenant_session
from tests.key_server import key_server
from tests.keypairs import assertion_form, key_pair

pytestmark = pytest.mark.e2e


def clients_named(factory: Factory, tenant: str, name: str) -> list[str]:
    with factory.db.read() as session:
        found = lifecycle.list_all(session, tenants.get_tenant(session, tenant), CLIENT)
        return [c.client_id for c in found if c.name == name]


def test_a_client_made_with_public_keys_gets_tokens_with_an_assertion(
    console: Console, factory: Factory
) -> None:
    page = console.page
    pair = key_pair("ES256")
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="New OAuth client credentials").click()
    page.get_by_label("Name").fill("Deploy bot")
    page.get_by_text("Authenticate with public keys instead of a secret").click()
    page.get_by_label("Public keys (JWKS, optional)").fill(json.dumps(pair.jwks()))
    page.get_by_role("button", name="Save and generate credentials").click()

    expect(row(page, "Deploy bot")).to_have_count(1)
    expect(page.get_by_role("dialog")).to_have_count(0)  # no secret to show
    [client_id] = clients_named(factory, console.tenant, "Deploy bot")
    token_url = console.server.token_url(console.tenant)
    answer = requests.post(
        token_url, data=assertion_form(pair.sign(client_id, token_url)), timeout=5
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"


def test_keys_that_are_not_a_public_jwks_come_back_with_the_form(
    console: Console, factory: Factory
) -> None:
    page = console.page
    pair = key_pair("ES256")
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("credentials/new"))
    console.expect_error("status of 422")
    page.get_by_label("Name").fill("Leaky bot")
    page.get_by_text("Authenticate with public keys instead of a secret").click()

    for pasted, says in (
        ("not json", "public keys must be a JWKS"),
        (json.dumps({"keys": [pair.private_jwk()]}), "private"),
    ):
        page.get_by_label("Public keys (JWKS, optional)").fill(pasted)
        page.get_by_role("button", name="Save and generate credentials").click()
        expect(page.get_by_role("alert")).to_contain_text(says)
        # Never shown again: what was pasted may hold a private key.
        expect(page.get_by_label("Public keys (JWKS, optional)")).to_have_value("")
        expect(page.get_by_label("Name")).to_have_value("Leaky bot")

    assert clients_named(factory, console.tenant, "Leaky bot") == []
    assert pair.private_jwk()["d"] not in page.content()


def test_a_client_made_with_a_jwks_url_gets_tokens_with_keys_fetched_from_it(
    console: Console, factory: Factory
) -> None:
    page = console.page
    pair = key_pair("RS256")
    console.sign_in_as_admin(factory)
    with key_server() as keys_at:
        keys_at.serve("/jwks.json", pair.jwks())
        page.get_by_role("link", name="New OAuth client credentials").click()
        page.get_by_label("Name").fill("Published bot")
        page.get_by_text("Authenticate with public keys instead of a secret").click()
        page.get_by_label("Or the URL of its public keys (optional)").fill(
            keys_at.url("/jwks.json")
        )
        page.get_by_role("button", name="Save and generate credentials").click()

        expect(row(page, "Published bot")).to_have_count(1)
        expect(page.get_by_role("dialog")).to_have_count(0)  # no secret to show
        [client_id] = clients_named(factory, console.tenant, "Published bot")
        token_url = console.server.token_url(console.tenant)
        answer = requests.post(
            token_url, data=assertion_form(pair.sign(client_id, token_url)), timeout=5
        )
        assert answer.status_code == 200, answer.text
        assert keys_at.hits["/jwks.json"] == 1


def test_a_client_made_with_federation_rules_takes_a_cluster_workload_s_token(
    console: Console, factory: Factory
) -> None:
    """The administrator trusts a cluster (its keys given); a client made in the console with
    a rule for one service account gets tokens for that account's own token, has no secret to
    rotate, and the list says what authenticates it."""
    page = console.page
    cluster, account = (
        "https://kubernetes.default.svc.cluster.local",
        "system:serviceaccount:ops:sync",
    )
    cluster_key = key_pair("ES256")
    with tenant_session(factory, console.tenant) as (_, tenant):
        tenant.trusted_issuers = [{"issuer": cluster, "jwks": cluster_key.jwks()}]
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="New OAuth client credentials").click()
    page.get_by_label("Name").fill("Cluster sync")
    page.get_by_text("Authenticate with public keys instead of a secret").click()
    page.get_by_label("Or tokens of a trusted issuer (federation rules, optional)").fill(
        json.dumps([{"issuer": cluster, "subject": account}])
    )
    page.get_by_role("button", name="Save and generate credentials").click()

    listed = row(page, "Cluster sync")
    expect(listed).to_contain_text(account)
    expect(page.get_by_role("dialog")).to_have_count(0)  # no secret to show
    expect(listed.locator('[data-open^="rotate-"]')).to_have_count(0)  # no secret to rotate
    [client_id] = clients_named(factory, console.tenant, "Cluster sync")
    token_url = console.server.token_url(console.tenant)
    issuer_url = token_url.removesuffix("/protocol/openid-connect/token")
    now = int(time.time())
    workload_token = jwt.encode(
        {"iss": cluster, "sub": account, "aud": [issuer_url], "iat": now, "exp": now + 600},
        cluster_key.private,
        algorithm="ES256",
        headers={"kid": cluster_key.kid},
    )
    form = {**assertion_form(workload_token), "client_id": client_id}
    answer = requests.post(token_url, data=form, timeout=5)
    assert answer.status_code == 200, answer.text


def test_federation_rules_naming_an_untrusted_issuer_come_back_with_the_form(
    console: Console, factory: Factory
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("credentials/new"))
    console.expect_error("status of 422")
    page.get_by_label("Name").fill("Untrusted")
    page.get_by_text("Authenticate with public keys instead of a secret").click()
    field = page.get_by_label("Or tokens of a trusted issuer (federation rules, optional)")
    for typed, says in (
        ("{not a list", "must be a JSON list"),
        (json.dumps([{"issuer": "https://gitlab.example.com", "subject": "x"}]), "trusts"),
    ):
        field.fill(typed)
        page.get_by_role("button", name="Save and generate credentials").click()
        expect(page.get_by_role("alert")).to_contain_text(says)
        expect(page.get_by_label("Name")).to_have_value("Untrusted")
    assert clients_named(factory, console.tenant, "Untrusted") == []
