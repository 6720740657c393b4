"""The pure parts of DPoP proofs (``oauth.dpop``): how ``htu`` is compared, ``ath``, and the
key a proof's header names."""

from __future__ import annotations

import pytest

from gatepass.oauth import dpop
from tests.keypairs import dpop_proof, key_pair

URL = "https://gp.example.com/realms/acme/protocol/openid-connect/token"


@pytest.mark.parametrize(
    "sent",
    [
        URL,
        "HTTPS://GP.EXAMPLE.COM/realms/acme/protocol/openid-connect/token",
        "https://gp.example.com:443/realms/acme/protocol/openid-connect/token",
        URL + "?x=1",
        URL + "#frag",
    ],
)
def test_the_same_url_compares_equal(sent: str) -> None:
    assert dpop.normalized(sent) == dpop.normalized(URL)


@pytest.mark.parametrize(
    "sent",
    [
        "http://gp.example.com/realms/acme/protocol/openid-connect/token",
        "https://gp.example.com:8443/realms/acme/protocol/openid-connect/token",
        "https://gp.example.com/realms/ACME/protocol/openid-connect/token",  # paths keep case
        "https://evil.example/realms/acme/protocol/openid-connect/token",
        "https://gp.example.com:bad/x",
    ],
)
def test_another_url_compares_different(sent: str) -> None:
    assert dpop.normalized(sent) != dpop.normalized(URL)


def test_ath_is_the_rfc_example() -> None:
    """RFC 9449 §7.1's access token and its ``ath``."""
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
    assert dpop.token_hash(token) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


def test_a_proof_for_a_token_must_carry_its_hash() -> None:
    pair = key_pair("ES256")
    good = dpop_proof(pair, "GET", URL, ath=dpop.token_hash("the-token"))
    assert dpop.verify(good, method="GET", url=URL, access_token="the-token").jkt
    with pytest.raises(dpop.InvalidDPoPProofError):
        dpop.verify(good, method="GET", url=URL, access_token="another-token")
    with pytest.raises(dpop.InvalidDPoPProofError):
        dpop.verify(dpop_proof(pair, "GET", URL), method="GET", url=URL, access_token="t")


def test_a_kept_header_still_needs_a_good_signature() -> None:
    """A forged proof reusing a real client's header (its public key) fails its signature,
    though the header was checked and kept before."""
    pair, thief = key_pair("ES256"), key_pair("ES256")
    real = dpop_proof(pair, "POST", URL)
    assert dpop.verify(real, method="POST", url=URL).jkt
    forged_body = dpop_proof(thief, "POST", URL).split(".")
    forged = ".".join([real.split(".")[0], forged_body[1], forged_body[2]])
    with pytest.raises(dpop.InvalidDPoPProofError):
        dpop.verify(forged, method="POST", url=URL)
