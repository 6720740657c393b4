"""Who may use the dormant-credentials page and the credential-policy form, over HTTP against
the real app (sign-in, session cookie, CSRF token): role x page x action, anonymous callers and
another tenant's administrator included. A refused or invalid change stores nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass import provisioning
from gatepass.audit.models import AuditEvent
from gatepass.clients.models import OAuthClient
from gatepass.console import policy as policy_form
from gatepass.credentials.policy import CredentialPolicy
from gatepass.db import utcnow
from gatepass.tenants import service as tenants
from gatepass.tenants.service import TenantSettings
from tests import conftest as suite
from tests.api.support import session_caller
from tests.factories import ACTOR, Factory
from tests.http.support import tenant_session

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLES = ("admin", "credentials_manager", "viewer")
GOOD = {
    "max_lifetime_days": "90",
    "expiry_required": "on",
    "rate_requests": "100",
    "rate_period": "minute",
    "allowed_ips": "10.0.0.0/8\n192.0.2.0/24",
    "dormant_after_days": "30",
    "auto_suspend_dormant": "on",
    "leak_action": "suspend",
}
settings = suite.settings  # a database of each test's own


def signed_in_as(http: TestClient, factory: Factory, role: str, tenant: str = "acme") -> str:
    """Signs ``http`` in as a user of ``tenant`` with ``role``; the console's CSRF token."""
    caller = session_caller(http, factory, tenant, role=role)
    http.cookies.update(caller.cookies)
    page = http.get(f"/console/{tenant}/dormant")
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


def stored_policy(factory: Factory) -> dict[str, object]:
    with factory.db.read() as session:
        return dict(tenants.get_tenant(session, "acme").credential_policy)


def post_policy(http: TestClient, csrf: str, values: dict[str, str]) -> httpx2.Response:
    return http.post(
        "/console/acme/policy", data={**values, "csrf_token": csrf}, follow_redirects=False
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_dormant_report_only_admins_the_policy(
    role: str, acme: Factory, client: TestClient
) -> None:
    acme.client("acme", name="idle one")
    csrf = signed_in_as(client, acme, role)
    report = client.get("/console/acme/dormant?days=1")
    assert report.status_code == 200
    assert "Dormant credentials" in report.text
    form = client.get("/console/acme/policy", follow_redirects=False)
    changed = post_policy(client, csrf, GOOD)
    if role == "admin":
        assert (form.status_code, changed.status_code) == (200, 303)
        assert stored_policy(acme)["dormant_after_days"] == 30
        assert 'href="/console/acme/policy"' in report.text
    else:
        assert (form.status_code, changed.status_code) == (403, 403)
        assert stored_policy(acme) == {}
        assert 'href="/console/acme/policy"' not in report.text


@pytest.mark.parametrize("path", ["/console/acme/dormant", "/console/acme/policy"])
def test_anonymous_callers_and_other_tenants_are_sent_to_sign_in(
    path: str, acme: Factory, client: TestClient
) -> None:
    acme.tenant("beta")
    for who in ("anonymous", "beta admin"):
        if who == "beta admin":
            signed_in_as(client, acme, "admin", tenant="beta")
        shown = client.get(path, follow_redirects=False)
        assert shown.status_code == 303
        assert shown.headers["location"] == "/console/sign-in?tenant=acme"
        posted = client.post(
            "/console/acme/policy", data={**GOOD, "csrf_token": "x"}, follow_redirects=False
        )
        assert posted.status_code == 303
    assert stored_policy(acme) == {}


def test_a_policy_post_without_the_csrf_token_is_refused(acme: Factory, client: TestClient) -> None:
    signed_in_as(client, acme, "admin")
    assert post_policy(client, "forged", GOOD).status_code == 403
    assert stored_policy(acme) == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dormant_after_days", "3", "dormant after must be 7 to 3650 days"),
        ("dormant_after_days", "ninety", "Dormant after must be a whole number of days"),
        ("max_lifetime_days", "0", "maximum lifetime must be 1 to 3650 days"),
        ("rate_requests", "-5", "the rate limit must be a whole number"),
        ("allowed_ips", "10.0.0.0/33", "10.0.0.0/33"),
    ],
)
def test_a_wrong_value_is_shown_in_the_form_and_changes_nothing(
    field: str, value: str, message: str, acme: Factory, client: TestClient
) -> None:
    csrf = signed_in_as(client, acme, "admin")
    refused = post_policy(client, csrf, {**GOOD, field: value})
    assert refused.status_code == 422
    assert message in refused.text
    assert f'value="{value}"' in refused.text or value in refused.text  # kept in the form
    assert stored_policy(acme) == {}


def test_an_action_on_leaks_the_form_does_not_offer_is_refused(
    acme: Factory, client: TestClient
) -> None:
    csrf = signed_in_as(client, acme, "admin")
    refused = post_policy(client, csrf, {**GOOD, "leak_action": "ignore"})
    assert refused.status_code == 422
    assert "must be revoke or suspend" in refused.text
    assert stored_policy(acme) == {}


def test_auto_suspend_without_a_dormancy_period_is_refused(
    acme: Factory, client: TestClient
) -> None:
    csrf = signed_in_as(client, acme, "admin")
    refused = post_policy(client, csrf, {"auto_suspend_dormant": "on"})
    assert refused.status_code == 422
    assert "needs a dormancy period" in refused.text


def test_a_saved_policy_is_audited_and_shown_again(acme: Factory, client: TestClient) -> None:
    csrf = signed_in_as(client, acme, "admin")
    saved = post_policy(client, csrf, GOOD)
    assert saved.headers["location"] == "/console/acme/policy?saved=1"
    assert stored_policy(acme) == {
        "max_lifetime_days": 90,
        "expiry_required": True,
        "default_rate_limit": 100,
        "default_rate_period": 60,
        "allowed_ips": ["10.0.0.0/8", "192.0.2.0/24"],
        "dormant_after_days": 30,
        "auto_suspend_dormant": True,
        "leak_action": "suspend",
    }
    shown = client.get(saved.headers["location"]).text
    assert "The credential policy is saved." in shown
    assert 'value="30"' in shown
    with acme.db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "tenant.update")
        ).all()[-1]
    assert (event.actor_type, event.actor) == ("user", "admin@acme.example.com")
    assert event.details["credential_policy"]["dormant_after_days"] == 30


def test_the_dormant_report_and_its_csv_follow_the_days_asked(
    acme: Factory, client: TestClient
) -> None:
    idle = acme.client("acme", name="=idle", expires_at=utcnow() + timedelta(days=400))
    signed_in_as(client, acme, "viewer")
    page = client.get("/console/acme/dormant?days=1").text
    assert "No active credential has gone unused for that long." in page  # made just now
    with acme.db.transaction() as session:
        row = session.scalars(
            select(OAuthClient).where(OAuthClient.client_id == idle.client_id)
        ).one()
        row.created_at = utcnow() - timedelta(days=3)
    page = client.get("/console/acme/dormant?days=2").text
    assert idle.client_id in page
    assert "/console/acme/dormant?days=2&amp;format=csv" in page
    csv = client.get("/console/acme/dormant?days=2&format=csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0].startswith("kind,id,name")
    assert lines[1].startswith(f"oauth_client,{idle.client_id},'=idle")
    for wrong in ("0", "abc", "3651"):
        refused = client.get(f"/console/acme/dormant?days={wrong}")
        assert refused.status_code == 422
        assert "days must be" in refused.text


def test_the_form_reads_every_field_it_shows() -> None:
    assert tuple(policy_form.form_values(CredentialPolicy())) == policy_form.FIELDS


def test_a_rate_period_the_form_cannot_name_is_kept_when_the_form_is_saved(
    acme: Factory, client: TestClient
) -> None:
    with tenant_session(acme, "acme") as (session, t):
        policy = CredentialPolicy(default_rate_limit=100, default_rate_period=30)
        changes = TenantSettings(credential_policy=policy.stored())
        provisioning.update_settings(session, t, changes, actor=ACTOR, cipher=acme.cipher)
    csrf = signed_in_as(client, acme, "admin")
    shown = client.get("/console/acme/policy").text
    assert '<option value="30" selected>30 seconds</option>' in shown
    saved = post_policy(client, csrf, {"rate_requests": "100", "rate_period": "30"})
    assert saved.status_code == 303
    assert stored_policy(acme)["default_rate_period"] == 30
    refused = post_policy(client, csrf, {"rate_requests": "100", "rate_period": "fortnight"})
    assert refused.status_code == 422
    assert "second, minute, hour or day" in refused.text


# --- trusted issuers (workload identity federation) ------------------------------------------

ISSUERS = [{"issuer": "https://token.actions.githubusercontent.com", "name": "GitHub Actions"}]


def stored_issuers(factory: Factory) -> list[dict[str, object]]:
    with factory.db.read() as session:
        return list(tenants.get_tenant(session, "acme").trusted_issuers)


def post_issuers(http: TestClient, csrf: str, text: str) -> httpx2.Response:
    return http.post(
        "/console/acme/policy/trusted-issuers",
        data={"trusted_issuers": text, "csrf_token": csrf},
        follow_redirects=False,
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_save_trusted_issuers(role: str, acme: Factory, client: TestClient) -> None:
    csrf = signed_in_as(client, acme, role)

    saved = post_issuers(client, csrf, json.dumps(ISSUERS))

    if role == "admin":
        assert saved.status_code == 303
        assert saved.headers["location"] == "/console/acme/policy?saved=issuers"
        assert [i["issuer"] for i in stored_issuers(acme)] == [ISSUERS[0]["issuer"]]
        shown = client.get("/console/acme/policy?saved=issuers")
        assert "The trusted issuers are saved." in shown.text
        assert ISSUERS[0]["issuer"] in shown.text
    else:
        assert saved.status_code == 403
        assert stored_issuers(acme) == []


def test_trusted_issuers_need_the_csrf_token_and_a_sign_in(
    acme: Factory, client: TestClient
) -> None:
    anonymous = post_issuers(client, "x", json.dumps(ISSUERS))
    assert anonymous.status_code == 303
    signed_in_as(client, acme, "admin")
    assert post_issuers(client, "forged", json.dumps(ISSUERS)).status_code == 403
    assert stored_issuers(acme) == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("[not json", "must be a JSON list"),
        (json.dumps([{"issuer": "http://token.example.com"}]), "must use https"),
        (json.dumps([{"issuer": "https://10.1.2.3"}]), "private or reserved"),
    ],
)
def test_wrong_trusted_issuers_come_back_in_the_form_and_change_nothing(
    typed: str, message: str, acme: Factory, client: TestClient
) -> None:
    csrf = signed_in_as(client, acme, "admin")

    refused = post_issuers(client, csrf, typed)

    assert refused.status_code == 422
    assert message in refused.text
    assert (
        "not json" in refused.text
        or "token.example.com" in refused.text
        or "10.1.2.3" in (refused.text)
    )  # what was typed is kept
    assert stored_issuers(acme) == []
