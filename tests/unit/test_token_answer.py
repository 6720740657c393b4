"""The token endpoint's answer is the same bytes the JSON encoder would give, for any scope."""

from __future__ import annotations

import pytest

from gatepass.oauth.token import answer
from gatepass.tokens.signer import compact_json

SCOPES = ["", "nql", "nql workflows api:read", 'odd"scope\\', "é\u2028\x7f", "x" * 300]


@pytest.mark.parametrize("scope", SCOPES)
def test_the_answer_is_what_the_json_encoder_gives(scope: str) -> None:
    expected = compact_json(
        {
            "access_token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln-_w",
            "expires_in": 600,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": scope,
        }
    ).encode()
    assert answer("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln-_w", 600, scope) == expected
