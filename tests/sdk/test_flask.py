"""``gatepass_sdk.flask`` through Flask's own test client, against a live Gatepass: every case
of ``wsgi_cases``, the caller's address sent with API keys, ``?apikey=`` kept from the view
and from werkzeug's log, and the Flask example API."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g, request
from flask.testing import FlaskClient

from examples.flask_api import create_app
from gatepass_sdk import ApiKeyLogFilter
from gatepass_sdk.flask import Gatepass, current_caller, requires
from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from tests.sdk.realm import Realm
from tests.sdk.wsgi_cases import CASES, IDS, REALM, Case

pytestmark = pytest.mark.e2e


def protected_app(realm: Realm, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        GATEPASS_ISSUER=realm.issuer,
        GATEPASS_AUDIENCE=realm.audience,
        GATEPASS_VERIFY_CLIENT=(realm.verify_client.client_id, realm.verify_client.secret),
        GATEPASS_REALM=REALM,
        **config,
    )
    gatepass = Gatepass(app)

    @app.get("/open")
    def open_() -> dict[str, Any]:
        caller = current_caller()
        return {"args": dict(request.args), "subject": caller.subject if caller else None}

    @app.get("/nql")
    @gatepass.requires("nql")
    def nql() -> dict[str, Any]:
        return {"subject": g.gatepass_caller.subject}

    @app.get("/me")
    @requires()
    def me() -> dict[str, Any]:
        return {"subject": g.gatepass_caller.subject, "kind": g.gatepass_caller.kind}

    return app


@pytest.fixture
def flask_app(realm: Realm) -> Iterator[Flask]:
    app = protected_app(realm)
    yield app
    close(app)


def close(app: Flask) -> None:
    verifier = app.extensions["gatepass"]
    assert isinstance(verifier, SyncGatepassVerifier)
    verifier.close()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_credential_case(flask_app: Flask, realm: Realm, other_realm: Realm, case: Case):
    sent = case.sent(realm, other_realm)
    response = flask_app.test_client().get("/nql", headers=sent.headers, query_string=sent.query)
    assert response.status_code == case.status, response.text
    assert response.headers.get("WWW-Authenticate") == case.challenge
    if case.status == 200:
        assert response.json == {"subject": sent.subject}
    else:
        assert response.json is not None
        assert response.json["error"] == case.error
        assert response.headers["Cache-Control"] == "no-store"


def test_an_open_view_serves_anonymous_callers_and_never_sees_the_query_key(
    flask_app: Flask, realm: Realm
) -> None:
    client = flask_app.test_client()
    assert client.get("/open?page=2").json == {"args": {"page": "2"}, "subject": None}
    key = realm.api_key()
    answer = client.get(f"/open?page=2&apikey={key.key}").json
    assert answer == {"args": {"page": "2"}, "subject": key.key_id}


def test_a_bad_credential_is_refused_even_on_an_open_view(flask_app: Flask) -> None:
    response = flask_app.test_client().get("/open", headers={"X-API-Key": "gpk_nope"})
    assert response.status_code == 401
    assert response.json == {
        "error": "invalid_token",
        "error_description": "the access token or API key is not valid",
    }


def test_requires_without_permissions_takes_any_caller(flask_app: Flask, realm: Realm) -> None:
    client: FlaskClient = flask_app.test_client()
    key = realm.api_key(scopes=("workflows",))
    assert client.get("/me", headers={"X-API-Key": key.key}).json == {
        "subject": key.key_id,
        "kind": "api_key",
    }
    assert client.get("/me").status_code == 401


def test_the_callers_address_goes_with_its_api_key(flask_app: Flask, realm: Realm) -> None:
    key = realm.api_key(allowed_ips=("10.0.0.0/8",))
    client = flask_app.test_client()
    headers = {"X-API-Key": key.key}
    inside = client.get("/nql", headers=headers, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert inside.status_code == 200
    outside = client.get("/nql", headers=headers, environ_overrides={"REMOTE_ADDR": "192.0.2.1"})
    assert outside.status_code == 401
    again = client.get("/nql", headers=headers, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert again.status_code == 200  # the refusal from the other address was not reused


def test_werkzeugs_request_log_masks_query_keys(flask_app: Flask) -> None:
    logger = logging.getLogger("werkzeug")
    assert sum(isinstance(f, ApiKeyLogFilter) for f in logger.filters) == 1
    record = logger.makeRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /x?apikey=gpk_secret HTTP/1.1", 200),
        None,
    )
    assert logger.filter(record)
    assert record.getMessage() == '"GET /x?apikey=*** HTTP/1.1" 200'


def test_a_config_without_an_issuer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"app.config: ISSUER is required"):
        Gatepass(Flask(__name__))


def test_an_unknown_gatepass_option_is_a_clear_error(realm: Realm) -> None:
    with pytest.raises(ValueError, match=r"unknown Gatepass option\(s\) KEY_TIL"):
        protected_app(realm, GATEPASS_KEY_TIL=5)


def test_the_example_api_lists_the_devices_of_the_callers_groups(realm: Realm) -> None:
    app = create_app(
        {
            "GATEPASS_ISSUER": realm.issuer,
            "GATEPASS_AUDIENCE": realm.audience,
            "GATEPASS_VERIFY_CLIENT": (realm.verify_client.client_id, realm.verify_client.secret),
        }
    )
    try:
        client = app.test_client()
        key = realm.api_key(groups=("emea",))
        path = "/nql/queries/device_inventory/results"
        response = client.get(path, headers={"X-API-Key": key.key})
        assert response.status_code == 200
        assert {row["device"] for row in response.json["rows"]} == {
            "lon-ws-001",
            "par-lt-014",
            "ber-ws-102",
        }
        assert (
            client.get("/nql/queries/nope/results", headers={"X-API-Key": key.key}).status_code
            == 404
        )
        assert client.get(path).headers["WWW-Authenticate"] == 'Bearer realm="platform-api"'
    finally:
        close(app)
