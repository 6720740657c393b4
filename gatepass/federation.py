"""Workload identity federation: a workload proves who it is with a token its own platform
issued (GitHub Actions, GitLab CI, a Kubernetes cluster, a cloud), and no Gatepass secret exists.

Two settings, made by two roles:

- **Trusted issuers**, per tenant, chosen by its administrator: the issuer URL (the token's
  ``iss``) and where its public keys are found. By default through the issuer's discovery
  document (OpenID Connect Discovery); or at a ``jwks_uri`` given here; or, for a cluster whose
  keys are not reachable from Gatepass, the keys themselves (``jwks``: the output of
  ``kubectl get --raw /openid/v1/jwks``).
- **Federation rules**, per client: which tokens of a trusted issuer authenticate as the client.
  A rule names the issuer, the exact ``sub`` (``repo:acme/app:environment:prod``,
  ``system:serviceaccount:payments:sync``), optionally the audience the token must carry
  (default: the tenant's issuer URL or its token endpoint), and optionally more claims the token
  must have, each one of a list of exact values (``{"repository_owner_id": ["1234"]}``).

A rule always names the ``sub``: an issuer like GitHub's signs tokens for every repository on
GitHub, so "any token of this issuer" would let anyone in. Values are compared exactly: no
patterns, whose mistakes would widen trust silently.

Pure checks and matching here; the token endpoint's part is ``gatepass.oauth.assertion``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gatepass.clients.keys import checked_jwks, key_ids, parse_jwks
from gatepass.destinations import Rules, origin
from gatepass.errors import InvalidInputError
from gatepass.publickeys.jwk import PublicKey
from gatepass.text import is_plain

MAX_ISSUERS = 20  # trusted issuers per tenant
MAX_RULES = 10  # rules per client
MAX_CLAIMS = 10  # extra claims per rule
MAX_VALUES = 20  # allowed values per claim
MAX_TEXT = 500  # characters of an issuer, subject, audience or claim value
MAX_NAME = 100  # characters of a claim name or an issuer's label
# Claims a rule cannot constrain with ``claims``: checked by their own rules (``sub`` is the
# rule's ``subject``; ``aud`` its ``audience``)
RESERVED = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    issuer: str
    name: str = ""
    jwks_uri: str | None = None  # where its keys are, if not through its discovery document
    keys: tuple[PublicKey, ...] = ()  # its keys, if given here


@dataclass(frozen=True, slots=True)
class Rule:
    issuer: str
    subject: str
    audience: str | None = None  # None: the tenant's issuer URL or token endpoint
    claims: tuple[tuple[str, frozenset[str]], ...] = ()

    def matches(self, claims: dict[str, Any], audiences: frozenset[str]) -> bool:
        """Whether a token with ``claims`` (signature and times already checked) satisfies the
        rule; ``audiences``: those the token may carry when the rule names none."""
        if claims.get("iss") != self.issuer or claims.get("sub") != self.subject:
            return False
        aud = claims.get("aud")
        carried = set(aud) if isinstance(aud, list) else {aud}
        wanted = {self.audience} if self.audience is not None else audiences
        if not carried & wanted:
            return False
        return all(_text(claims.get(name)) in allowed for name, allowed in self.claims)


def _text(value: object) -> str | None:
    """A claim as the rules compare it: a string as it is, a number or boolean as JSON writes
    it (``1234``, ``true``); anything else matches nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return json.dumps(value)
    return None


# --- trusted issuers (a tenant's setting) ----------------------------------------------------


def checked_issuers(value: object, rules: Rules) -> list[dict[str, Any]]:
    """The trusted issuers as stored, or ``InvalidInputError`` saying what is wrong."""
    if not isinstance(value, list) or len(value) > MAX_ISSUERS:
        raise InvalidInputError(f"trusted_issuers must be a list of at most {MAX_ISSUERS}")
    stored = [_checked_issuer(item, rules) for item in value]
    urls = [item["issuer"] for item in stored]
    if len(set(urls)) != len(urls):
        raise InvalidInputError("each trusted issuer may be listed once")
    return stored


def _checked_issuer(item: object, rules: Rules) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("issuer"), str):
        raise InvalidInputError('each trusted issuer must be an object with an "issuer" URL')
    unknown = item.keys() - {"issuer", "name", "jwks_uri", "jwks"}
    if unknown:
        raise InvalidInputError(f"unknown field in a trusted issuer: {sorted(unknown)[0][:50]}")
    jwks, jwks_uri = item.get("jwks"), item.get("jwks_uri")
    if jwks is not None and jwks_uri is not None:
        raise InvalidInputError("give a trusted issuer jwks or jwks_uri, not both")
    name = item.get("name") or ""
    if not isinstance(name, str) or len(name) > MAX_NAME or not is_plain(name):
        raise InvalidInputError(f"an issuer's name must be text of at most {MAX_NAME} characters")
    # Its discovery document is fetched from the issuer URL itself, which must then be a place
    # Gatepass may send a request to; an issuer whose keys are given is only a name.
    fetched = jwks is None and jwks_uri is None
    issuer = _issuer_url(item["issuer"], rules if fetched else Rules(rules.allow_http, True))
    if jwks_uri is not None and not isinstance(jwks_uri, str):
        raise InvalidInputError("an issuer's jwks_uri must be a URL")
    return {
        "issuer": issuer,
        "name": name.strip(),
        "jwks_uri": _keys_url(jwks_uri, rules) if jwks_uri is not None else None,
        "jwks": json.loads(checked_jwks(jwks)) if jwks is not None else None,
    }


def _issuer_url(value: str, rules: Rules) -> str:
    """An issuer identifier: an https URL with no query or fragment (OpenID Connect
    Discovery §2), compared with a token's ``iss`` exactly as written."""
    if value != value.strip() or len(value) > MAX_TEXT:
        raise InvalidInputError(f"an issuer must be an https URL of at most {MAX_TEXT} characters")
    try:
        rules.check_url(value)
    except InvalidInputError as error:
        raise InvalidInputError(f"issuer {value[:100]!r}: {error}") from None
    if urlsplit(value).query:
        raise InvalidInputError("an issuer URL has no query")
    return value


def _keys_url(value: str, rules: Rules) -> str:
    try:
        return rules.check_url(value)
    except InvalidInputError as error:
        raise InvalidInputError(f"an issuer's jwks_uri: {error}") from None


def trusted_issuers(stored: list[dict[str, Any]] | None) -> dict[str, TrustedIssuer]:
    """The stored trusted issuers, by issuer URL, ready to verify with."""
    return {
        item["issuer"]: TrustedIssuer(
            issuer=item["issuer"],
            name=item.get("name") or "",
            jwks_uri=item.get("jwks_uri"),
            keys=parse_jwks(json.dumps(item["jwks"])) if item.get("jwks") else (),
        )
        for item in stored or ()
    }


def issuers_summary(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an audit record shows of the trusted issuers: each URL, and where its keys are
    (a key source's host, or the IDs of the keys given)."""
    summary = []
    for item in stored:
        shown: dict[str, Any] = {"issuer": item["issuer"]}
        if item.get("jwks_uri"):
            shown["jwks_uri"] = origin(item["jwks_uri"])
        if item.get("jwks"):
            shown["public_keys"] = key_ids(json.dumps(item["jwks"]))
        summary.append(shown)
    return summary


# --- federation rules (a client's setting) ---------------------------------------------------


def checked_rules(value: object, trusted: set[str]) -> str | None:
    """The rules as the JSON text to store (``None`` for an empty list), or
    ``InvalidInputError``. Each must name an issuer in ``trusted``."""
    if not isinstance(value, list) or len(value) > MAX_RULES:
        raise InvalidInputError(f"federation must be a list of at most {MAX_RULES} rules")
    stored = [_checked_rule(item, trusted) for item in value]
    return json.dumps(stored, separators=(",", ":")) if stored else None


def _checked_rule(item: object, trusted: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InvalidInputError("each federation rule must be an object")
    unknown = item.keys() - {"issuer", "subject", "audience", "claims"}
    if unknown:
        raise InvalidInputError(f"unknown field in a federation rule: {sorted(unknown)[0][:50]}")
    issuer = item.get("issuer")
    if not isinstance(issuer, str) or issuer not in trusted:
        raise InvalidInputError(
            "a federation rule's issuer must be one the tenant trusts (an administrator adds"
            " it to the tenant's trusted_issuers)"
        )
    subject = _value(item.get("subject"), "subject")
    audience = item.get("audience")
    claims = item.get("claims") or {}
    if not isinstance(claims, dict) or len(claims) > MAX_CLAIMS:
        raise InvalidInputError(f"a rule's claims must be an object of at most {MAX_CLAIMS}")
    return {
        "issuer": issuer,
        "subject": subject,
        "audience": _value(audience, "audience") if audience is not None else None,
        "claims": {_claim_name(name): _values(values) for name, values in claims.items()},
    }


def _value(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT or not is_plain(value):
        raise InvalidInputError(f"a rule's {what} must be text of 1-{MAX_TEXT} characters")
    return value


def _claim_name(name: str) -> str:
    if not 0 < len(name) <= MAX_NAME or not is_plain(name):
        raise InvalidInputError(f"a claim name must be text of 1-{MAX_NAME} characters")
    if name in RESERVED:
        raise InvalidInputError(
            f"claim '{name}' is checked on its own (sub: the rule's subject; aud: its audience)"
        )
    return name


def _values(values: object) -> list[str]:
    listed = [values] if isinstance(values, str) else values
    if not isinstance(listed, list) or not 0 < len(listed) <= MAX_VALUES:
        raise InvalidInputError(f"a claim's value must be a string or a list of 1-{MAX_VALUES}")
    return [_value(v, "claim value") for v in listed]


def parse_rules(text: str | None) -> tuple[Rule, ...]:
    """The stored rules (checked when stored), ready to match."""
    if not text:
        return ()
    return tuple(
        Rule(
            issuer=item["issuer"],
            subject=item["subject"],
            audience=item.get("audience"),
            claims=tuple((k, frozenset(v)) for k, v in sorted(item["claims"].items())),
        )
        for item in json.loads(text)
    )


def rules_summary(text: str | None) -> list[dict[str, Any]]:
    """What an audit record shows of a client's rules: all of them (none is a secret)."""
    return json.loads(text) if text else []
