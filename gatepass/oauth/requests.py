"""Parsing OAuth requests: form bodies and client authentication (RFC 6749 §2.3, §3.2).

Pure functions over bytes and strings; no web framework, no database.
"""

from __future__ import annotations

import binascii
import re
from binascii import a2b_base64
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote_plus

from gatepass.credential_secrets import mask
from gatepass.oauth.errors import InvalidClientError, InvalidRequestError, InvalidScopeError
from gatepass.text import is_plain

FORM_TYPE = "application/x-www-form-urlencoded"
# RFC 8707 §2: "resource" may be repeated; every other parameter must not be (RFC 6749 §3.2).
REPEATABLE = frozenset({"resource"})
MAX_FIELD = 4096
CLIENT_AUTH_FAILED = "client authentication failed"
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class AuthMethod(Enum):
    BASIC = "client_secret_basic"
    POST = "client_secret_post"


# Not frozen: one is made per request, and a frozen dataclass takes three times as long to make.
@dataclass(slots=True)
class ClientCredentials:
    client_id: str
    secret: str
    method: AuthMethod


def check_content_type(value: str | None) -> None:
    media_type = (value or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_TYPE:
        raise InvalidRequestError(f"Content-Type must be {FORM_TYPE}")


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` name/value pairs, as ``urllib.parse.parse_qsl``
    with ``keep_blank_values`` and strict UTF-8 gives them; a field without ``%`` or ``+`` (the
    usual one) is taken as it is rather than through ``unquote_plus``."""
    pairs = []
    for field in body.decode("ascii").split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in field or "+" in field:
            name, value = unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")
        pairs.append((name, value))
    return pairs


def parse_form(body: bytes) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Single-valued parameters, and the repeatable ones. Empty values count as absent."""
    try:
        pairs = form_pairs(body)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("the request body is not valid UTF-8 form data") from None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        if len(value) > MAX_FIELD or len(name) > 100:
            raise InvalidRequestError("a request parameter is too long")
        if not value:
            continue
        if name in REPEATABLE:
            multi.setdefault(name, []).append(value)
        elif name in single:
            raise InvalidRequestError(f"parameter '{mask(name)}' is repeated")
        else:
            single[name] = value
    return single, multi


def client_credentials(
    authorization: str | None, form: dict[str, str], *, realm: str
) -> ClientCredentials:
    """The client's id and secret from exactly one of HTTP Basic or the request body.

    A client ID with a control character names no client (``gatepass.text``): refused here as
    any unknown client would be, before a lookup that PostgreSQL could not even make with a NUL.
    """
    creds = _credentials(authorization, form, realm)
    if not is_plain(creds.client_id):
        raise InvalidClientError(CLIENT_AUTH_FAILED, realm=realm)
    return creds


def _credentials(authorization: str | None, form: dict[str, str], realm: str) -> ClientCredentials:
    in_body = "client_id" in form or "client_secret" in form
    if authorization is not None:
        if in_body and "client_secret" in form:
            raise InvalidRequestError("use only one client authentication method")
        creds = _basic(authorization, realm)
        if "client_id" in form and form["client_id"] != creds.client_id:
            raise InvalidRequestError("client_id in the body differs from the Authorization header")
        return creds
    if "client_id" not in form or "client_secret" not in form:
        raise InvalidClientError("client authentication is required", realm=realm)
    return ClientCredentials(form["client_id"], form["client_secret"], AuthMethod.POST)


def _basic(header: str, realm: str) -> ClientCredentials:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClientError("unsupported authorization scheme; use Basic", realm=realm)
    try:
        # b64decode(..., validate=True), without its own calls around this one
        decoded = a2b_base64(encoded.strip(), strict_mode=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidClientError("malformed Basic authorization header", realm=realm) from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if not colon or not raw_id:
        raise InvalidClientError("malformed Basic authorization header", realm=realm)
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    return ClientCredentials(_unquoted(raw_id), _unquoted(raw_secret), AuthMethod.BASIC)


def _unquoted(value: str) -> str:
    """``unquote_plus(value)``, without its call for the usual value with nothing to unquote."""
    return unquote_plus(value) if "%" in value or "+" in value else value


def split_scope(value: str | None) -> list[str]:
    if not value:
        return []
    scopes = value.split(" ")
    for scope in scopes:
        if not SCOPE_TOKEN.fullmatch(scope):
            raise InvalidScopeError("scope must be space-separated scope tokens (RFC 6749 §3.3)")
    return list(dict.fromkeys(scopes))
