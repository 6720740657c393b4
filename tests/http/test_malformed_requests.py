"""Malformed requests to the token endpoint: each a clear 4xx in OAuth's error format.

Parsing happens before any storage is touched, so these run on SQLite only; the storage-backed
error paths are covered on every backend by test_token_errors and test_client_authentication.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from gatepass.settings import Settings
from tests.factories import Credential, Factory
from tests.http.support import (
    FORM,
    assert_oauth_error,
    b64,
    certs_path,
    post,
    raw_asgi_post,
    request_token,
    token_path,
)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def cred(factory: Factory) -> Credential:
    factory.tenant()
    return factory.client(scopes=("nql",))


# -- scope syntax ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("nql  nql", id="double-space"),
        pytest.param('n"ql', id="double-quote"),
        pytest.param("nqlé", id="non-ascii"),
    ],
)
def test_malformed_scope_is_invalid_scope(cred: Credential, client: TestClient, scope: str) -> None:
    """RFC 6749 §5.2: invalid_scope is for a scope that is 'invalid, unknown, malformed'."""
    response = request_token(client, cred, scope=scope)
    assert_oauth_error(response, 400, "invalid_scope")


# -- client authentication input ------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic !!!", id="bad-base64"),
        pytest.param("Basic " + b64(b"no-colon"), id="no-colon"),
        pytest.param("Basic " + b64(b"\xff\xfe:\xff"), id="non-utf8"),
        pytest.param(b"Basic \xe9\xe9\xe9\xe9", id="non-ascii-header"),
        pytest.param("Bearer eyJhbGciOiJub25lIn0.e30.", id="bearer-scheme"),
        pytest.param("Basic " + b64(b"x" * 3000 + b":y"), id="huge-client-id"),
    ],
)
def test_malformed_basic_header_is_invalid_client(
    cred: Credential, client: TestClient, authorization: str | bytes
) -> None:
    response = post(client, b"grant_type=client_credentials", authorization=authorization)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith('Basic realm="acme"')


def test_no_client_authentication_is_invalid_client(cred: Credential, client: TestClient) -> None:
    response = post(client, b"grant_type=client_credentials")
    assert_oauth_error(response, 401, "invalid_client")


def test_post_without_secret_is_invalid_client(cred: Credential, client: TestClient) -> None:
    body = f"grant_type=client_credentials&client_id={cred.client_id}"
    assert_oauth_error(post(client, body.encode()), 401, "invalid_client")


def test_both_authentication_methods_at_once_are_invalid_request(
    cred: Credential, client: TestClient
) -> None:
    body = f"grant_type=client_credentials&client_id={cred.client_id}&client_secret={cred.secret}"
    response = post(client, body.encode(), authorization=cred.basic)
    assert_oauth_error(response, 400, "invalid_request")


def test_body_client_id_differing_from_basic_is_invalid_request(
    cred: Credential, client: TestClient
) -> None:
    response = post(
        client, b"grant_type=client_credentials&client_id=someone-else", authorization=cred.basic
    )
    assert_oauth_error(response, 400, "invalid_request")


# -- malformed bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"grant_type=client_credentials&scope=\xff", id="raw-invalid-byte"),
        pytest.param(b"grant_type=client_credentials&scope=%FF", id="escaped-invalid-byte"),
        pytest.param(b"grant_type=client_credentials&scope=%C3%28", id="escaped-invalid-utf8"),
    ],
)
def test_non_utf8_body_is_invalid_request(
    cred: Credential, client: TestClient, body: bytes
) -> None:
    response = post(client, body, authorization=cred.basic)
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b"grant_type=client_credentials&grant_type=client_credentials", id="grant_type"
        ),
        pytest.param(b"grant_type=client_credentials&scope=nql&scope=nql", id="scope"),
    ],
)
def test_repeated_parameter_is_invalid_request(
    cred: Credential, client: TestClient, body: bytes
) -> None:
    response = post(client, body, authorization=cred.basic)
    assert_oauth_error(response, 400, "invalid_request")


def test_repeated_client_id_in_the_body_is_invalid_request(
    cred: Credential, client: TestClient
) -> None:
    body = (
        f"grant_type=client_credentials&client_id={cred.client_id}"
        f"&client_id={cred.client_id}&client_secret={cred.secret}"
    )
    assert_oauth_error(post(client, body.encode()), 400, "invalid_request")


def test_overlong_parameter_is_invalid_request(cred: Credential, client: TestClient) -> None:
    body = b"grant_type=client_credentials&scope=" + b"a" * 5000
    assert_oauth_error(post(client, body, authorization=cred.basic), 400, "invalid_request")


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="missing"),
        pytest.param("application/json", id="json"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
    ],
)
def test_wrong_content_type_is_invalid_request(
    cred: Credential, client: TestClient, content_type: str | None
) -> None:
    response = post(
        client,
        b"grant_type=client_credentials",
        authorization=cred.basic,
        content_type=content_type,
    )
    assert_oauth_error(response, 400, "invalid_request")


def test_form_content_type_with_charset_is_accepted(cred: Credential, client: TestClient) -> None:
    response = post(
        client,
        b"grant_type=client_credentials",
        authorization=cred.basic,
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert response.status_code == 200, response.text


# -- methods, sizes, lengths ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_other_method_on_the_token_endpoint_is_405_with_allow(
    cred: Credential, client: TestClient, method: str
) -> None:
    response = client.request(method, token_path(), headers={"Authorization": cred.basic})
    assert_oauth_error(response, 405, "invalid_request")
    assert response.headers["allow"] == "POST"


def test_post_to_the_jwks_is_405_with_allow(cred: Credential, client: TestClient) -> None:
    response = client.post(certs_path(), content=b"", headers={"Content-Type": FORM})
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


def test_body_over_the_limit_is_413(
    cred: Credential, client: TestClient, settings: Settings
) -> None:
    assert settings.max_body_bytes == 16 * 1024
    body = b"grant_type=client_credentials&pad=" + b"a" * (16 * 1024)
    response = post(client, body, authorization=cred.basic)
    assert_oauth_error(response, 413, "invalid_request")


def test_chunked_body_over_the_limit_is_413(cred: Credential, client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"grant_type=client_credentials"
        for _ in range(20):
            yield b"&pad=" + b"a" * 1000

    response = client.post(
        token_path(),
        content=chunks(),
        headers={"Authorization": cred.basic, "Content-Type": FORM},
    )
    assert_oauth_error(response, 413, "invalid_request")


def test_body_understating_its_length_is_still_limited(
    cred: Credential, client: TestClient
) -> None:
    body = b"grant_type=client_credentials&pad=" + b"a" * (17 * 1024)
    response = client.post(
        token_path(),
        content=body,
        headers={"Authorization": cred.basic, "Content-Type": FORM, "Content-Length": "30"},
    )
    assert_oauth_error(response, 413, "invalid_request")


def test_body_just_under_the_limit_is_accepted(cred: Credential, client: TestClient) -> None:
    head = b"grant_type=client_credentials"
    pads = b"".join(b"&p%d=%s" % (i, b"a" * 1000) for i in range(16))
    body = head + pads
    body += b"&z=" + b"a" * (16 * 1024 - len(body) - 3)
    assert len(body) == 16 * 1024
    response = post(client, body, authorization=cred.basic)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "length",
    [
        pytest.param(b"abc", id="letters"),
        pytest.param(b"-1", id="negative"),
        pytest.param(b"1.5", id="decimal"),
        pytest.param(b"", id="empty"),
    ],
)
def test_non_numeric_content_length_is_invalid_request(
    cred: Credential, client: TestClient, length: bytes
) -> None:
    response = client.post(
        token_path(),
        content=b"grant_type=client_credentials",
        headers=[
            (b"authorization", cred.basic.encode()),
            (b"content-type", FORM.encode()),
            (b"content-length", length),
        ],
    )
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    "length",
    [
        pytest.param(b"\xb2", id="superscript-two"),
        pytest.param(b"\xb9\xb2\xb3", id="superscript-digits"),
    ],
)
def test_content_length_of_non_ascii_digits_is_invalid_request(
    cred: Credential, client: TestClient, length: bytes
) -> None:
    """Latin-1 superscript digits pass str.isdigit() but not int(): still a 400, not a 500.

    The test client re-encodes header values as UTF-8, so the request goes to the ASGI app as is.
    """
    status, headers, body = raw_asgi_post(
        client,
        token_path(),
        [
            (b"authorization", cred.basic.encode()),
            (b"content-type", FORM.encode()),
            (b"content-length", length),
        ],
        b"grant_type=client_credentials",
    )
    assert status == 400, body
    assert json.loads(body)["error"] == "invalid_request"
    assert headers[b"cache-control"] == b"no-store"
