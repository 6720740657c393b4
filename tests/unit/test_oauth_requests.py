"""Parsing form bodies, client authentication and scope strings (gatepass.oauth.requests)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import pytest

from gatepass.oauth.errors import InvalidClientError, InvalidRequestError, InvalidScopeError
from gatepass.oauth.requests import (
    AuthMethod,
    check_content_type,
    client_credentials,
    form_pairs,
    parse_form,
    split_scope,
)


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


# -- parse_form ---------------------------------------------------------------------------


FORM_SAMPLES = [
    b"grant_type=client_credentials&scope=api:read",
    b"a=1&&b=2",
    b"a",
    b"a=",
    b"=b",
    b"x=1=2",
    b"a=%41+b&c+d=%2B",
    b"a%3Db=c&resource=https%3A%2F%2Fapi.example&resource=y",
    b"a=%E2%82%AC",
    b"a=%",
    b"a=%4",
    b"a=b;c=d",
    b"&&",
    b"",
]


@pytest.mark.parametrize("body", FORM_SAMPLES)
def test_form_pairs_are_those_of_parse_qsl(body: bytes) -> None:
    expected = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict")
    assert form_pairs(body) == expected


def test_form_pairs_refuse_invalid_utf8_as_parse_qsl_does() -> None:
    with pytest.raises(UnicodeDecodeError):
        parse_qsl("a=%FF", keep_blank_values=True, errors="strict")
    with pytest.raises(UnicodeDecodeError):
        form_pairs(b"a=%FF")


def test_parse_form_returns_single_valued_parameters() -> None:
    single, multi = parse_form(b"grant_type=client_credentials&scope=nql+workflows")
    assert single == {"grant_type": "client_credentials", "scope": "nql workflows"}
    assert multi == {}


def test_parse_form_decodes_percent_encoded_utf8() -> None:
    single, _ = parse_form(b"name=%C3%A9t%C3%A9&id=a%2Bb%26c")
    assert single == {"name": "été", "id": "a+b&c"}


def test_parse_form_collects_repeated_resource_parameters() -> None:
    body = b"resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example"
    single, multi = parse_form(body)
    assert single == {}
    assert multi == {"resource": ["https://a.example", "https://b.example"]}


def test_parse_form_treats_empty_values_as_absent() -> None:
    single, multi = parse_form(b"scope=&grant_type=client_credentials&resource=")
    assert single == {"grant_type": "client_credentials"}
    assert multi == {}


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&grant_type=client_credentials",
        b"scope=nql&scope=workflows",
        b"client_id=a&client_id=b",
        b"client_secret=x&grant_type=client_credentials&client_secret=x",
    ],
)
def test_parse_form_refuses_repeated_parameters(body: bytes) -> None:
    with pytest.raises(InvalidRequestError, match="repeated"):
        parse_form(body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"scope=\xff\xfe", id="raw-non-utf8-bytes"),
        pytest.param(b"grant_type=client_credentials&scope=%FF", id="escaped-invalid-byte"),
        pytest.param(b"scope=%C3%28", id="escaped-invalid-sequence"),
        pytest.param(b"scope=%ED%A0%80", id="escaped-surrogate"),
        pytest.param(b"%FF=value", id="invalid-name"),
    ],
)
def test_parse_form_refuses_non_utf8(body: bytes) -> None:
    with pytest.raises(InvalidRequestError):
        parse_form(body)


def test_parse_form_refuses_an_overlong_value() -> None:
    with pytest.raises(InvalidRequestError, match="too long"):
        parse_form(b"scope=" + b"a" * 4097)


def test_parse_form_accepts_a_value_at_the_length_limit() -> None:
    single, _ = parse_form(b"scope=" + b"a" * 4096)
    assert len(single["scope"]) == 4096


def test_parse_form_refuses_an_overlong_name() -> None:
    with pytest.raises(InvalidRequestError, match="too long"):
        parse_form(b"a" * 101 + b"=1")


# -- check_content_type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
    ],
)
def test_form_content_type_is_accepted(value: str) -> None:
    check_content_type(value)


@pytest.mark.parametrize(
    "value",
    [None, "", "application/json", "text/plain", "multipart/form-data; boundary=x"],
)
def test_other_content_types_are_refused(value: str | None) -> None:
    with pytest.raises(InvalidRequestError):
        check_content_type(value)


# -- client_credentials ---------------------------------------------------------------------


def test_basic_credentials_are_read_from_the_header() -> None:
    creds = client_credentials(basic(b"my-client:gpcs_secret"), {}, realm="acme")
    assert (creds.client_id, creds.secret, creds.method) == (
        "my-client",
        "gpcs_secret",
        AuthMethod.BASIC,
    )


def test_basic_scheme_name_is_case_insensitive() -> None:
    header = "bAsIc " + base64.b64encode(b"my-client:s").decode()
    assert client_credentials(header, {}, realm="acme").client_id == "my-client"


def test_basic_id_and_secret_are_form_urldecoded() -> None:
    """RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded before Basic."""
    header = basic(b"my%3Aclient+one:se%2Bcr%25et+x")
    creds = client_credentials(header, {}, realm="acme")
    assert creds.client_id == "my:client one"
    assert creds.secret == "se+cr%et x"


def test_basic_secret_may_contain_a_colon() -> None:
    creds = client_credentials(basic(b"my-client:a:b"), {}, realm="acme")
    assert (creds.client_id, creds.secret) == ("my-client", "a:b")


def test_post_credentials_are_read_from_the_body() -> None:
    form = {"client_id": "my-client", "client_secret": "gpcs_secret"}
    creds = client_credentials(None, form, realm="acme")
    assert (creds.client_id, creds.secret, creds.method) == (
        "my-client",
        "gpcs_secret",
        AuthMethod.POST,
    )


def test_basic_with_the_same_client_id_in_the_body_is_accepted() -> None:
    creds = client_credentials(basic(b"my-client:s"), {"client_id": "my-client"}, realm="acme")
    assert creds.method is AuthMethod.BASIC


def test_both_authentication_methods_at_once_are_refused() -> None:
    form = {"client_id": "my-client", "client_secret": "s"}
    with pytest.raises(InvalidRequestError):
        client_credentials(basic(b"my-client:s"), form, realm="acme")


def test_secret_in_body_next_to_basic_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        client_credentials(basic(b"my-client:s"), {"client_secret": "s"}, realm="acme")


def test_body_client_id_differing_from_basic_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="client_id"):
        client_credentials(basic(b"my-client:s"), {"client_id": "other"}, realm="acme")


@pytest.mark.parametrize(
    "form",
    [{}, {"client_id": "my-client"}, {"client_secret": "s"}],
    ids=["nothing", "id-only", "secret-only"],
)
def test_missing_client_authentication_is_invalid_client(form: dict[str, str]) -> None:
    with pytest.raises(InvalidClientError):
        client_credentials(None, form, realm="acme")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Basic !!!not-base64!!!", id="bad-base64"),
        pytest.param("Basic bXktY2xpZW50OnM", id="bad-padding"),
        pytest.param(basic(b"no-colon-here"), id="no-colon"),
        pytest.param(basic(b":secret-without-id"), id="empty-id"),
        pytest.param(basic(b"\xff\xfe:secret"), id="non-utf8"),
        pytest.param("Basic", id="no-credentials"),
        pytest.param("", id="empty-header"),
        pytest.param("Basic \xe9\xe9\xe9\xe9", id="non-ascii-header"),
        pytest.param("Bearer abc.def.ghi", id="bearer-scheme"),
        pytest.param("Digest username=x", id="digest-scheme"),
    ],
)
def test_malformed_basic_header_is_invalid_client(header: str) -> None:
    with pytest.raises(InvalidClientError) as caught:
        client_credentials(header, {}, realm="acme")
    status, headers, _ = caught.value.render()
    assert status == 401
    assert (b"www-authenticate", b'Basic realm="acme", charset="UTF-8"') in headers


# -- split_scope ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_no_scope_is_an_empty_list(value: str | None) -> None:
    assert split_scope(value) == []


def test_scope_is_split_on_spaces_keeping_order() -> None:
    assert split_scope("workflows nql campaigns") == ["workflows", "nql", "campaigns"]


def test_repeated_scope_tokens_collapse() -> None:
    assert split_scope("nql workflows nql") == ["nql", "workflows"]


def test_scope_tokens_may_use_every_allowed_character() -> None:
    token = "!#$%&'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~"
    assert split_scope(token) == [token]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("nql  workflows", id="double-space"),
        pytest.param(" nql", id="leading-space"),
        pytest.param("nql ", id="trailing-space"),
        pytest.param(" ", id="only-space"),
        pytest.param("nql\tworkflows", id="tab"),
        pytest.param('nq"l', id="double-quote"),
        pytest.param("nq\\l", id="backslash"),
        pytest.param("nqé", id="non-ascii"),
        pytest.param("nql\x00", id="nul"),
    ],
)
def test_malformed_scope_is_invalid_scope(value: str) -> None:
    """RFC 6749 §5.2: invalid_scope covers a scope that is 'invalid, unknown, malformed'."""
    with pytest.raises(InvalidScopeError):
        split_scope(value)
