"""The verify endpoint's answer is the same bytes the JSON encoder would give the document, for
any key: its description is encoded once per snapshot and the answer assembled around it."""

from __future__ import annotations

import ipaddress
import itertools
import json
from typing import Any

import pytest

from gatepass.apikeys.verification import ApiKeyEntry, VerifyCode, describe
from gatepass.oauth.verify import KeyCheck, answer
from gatepass.ops.ratelimit import RateState
from gatepass.tokens.signer import compact_json

NAMES = ["k", "Scanner ☃ é", 'odd"name\\', "\u2028\x7f\ud800", "x" * 200]
OWNERS = [None, "dev@example.com"]
NETWORKS = [(), (ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("2001:db8::/32"))]
RATES = [None, RateState(True, 5, 4, 1_796_000_100), RateState(False, 5, 0, 1_796_000_100)]


def entry(name: str, owner: str | None, networks: tuple[Any, ...], *, expires: bool) -> ApiKeyEntry:
    return ApiKeyEntry(
        pk=7,
        tenant_id=1,
        key_id="ak_5a9ab7ed870a68b1",
        name=name,
        revoked=False,
        suspended=False,
        expires_at=1_796_000_000.75 if expires else None,
        secret_id=9,
        secret_expires_at=None,
        owner_email=owner,
        owner_active=True,
        scopes=("nql", "workflows") if owner else (),
        groups=("emea",) if expires else (),
        rate_limit=5,
        rate_period=60,
        networks=networks,
    )


def document(checked: KeyCheck) -> dict[str, Any]:
    """The answer as a document, as the endpoint built it before it was assembled from parts."""
    made: dict[str, Any] = {"valid": checked.code is VerifyCode.VALID, "code": checked.code.value}
    if checked.entry is not None and checked.code in (VerifyCode.VALID, VerifyCode.RATE_LIMITED):
        made.update(describe(checked.entry))
        rate = checked.rate
        made["rate_limit"] = (
            {"limit": rate.limit, "remaining": rate.remaining, "reset": rate.reset}
            if rate
            else None
        )
    return made


CASES = [
    KeyCheck(code, entry(name, owner, networks, expires=expires), rate)
    for code, name, owner, networks, expires, rate in itertools.product(
        (VerifyCode.VALID, VerifyCode.RATE_LIMITED, VerifyCode.IP_NOT_ALLOWED),
        NAMES,
        OWNERS,
        NETWORKS,
        (False, True),
        RATES,
    )
] + [KeyCheck(code) for code in VerifyCode]


@pytest.mark.parametrize("checked", CASES)
def test_the_answer_is_what_the_json_encoder_gives(checked: KeyCheck) -> None:
    made = answer(checked)
    assert made == compact_json(document(checked)).encode()
    assert json.loads(made)["code"] == checked.code.value
