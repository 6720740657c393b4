"""In-process cost of the SDK's two verification paths.

    .venv/bin/python bench/sdk_verify.py [--seconds 0.02]

- a cached API key: ``GatepassVerifier.verify_api_key`` once Gatepass's answer is cached
  (target: 200,000 verifications/s or more);
- a JWT access token: ``GatepassVerifier.verify_token`` with its JWKS cached, against the raw
  ES256 signature check with ``cryptography`` alone (target: at most 1.5x), and PyJWT's
  ``jwt.decode`` with the same preloaded key for reference.

Gatepass itself is stood in for by an ``httpx.MockTransport`` that answers the one JWKS fetch
and the one verify call; neither is on the measured path. Each figure is the best of several
rounds, so that a busy machine disturbs it less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt.algorithms import ECAlgorithm
from jwt.utils import base64url_decode

from gatepass_sdk import GatepassVerifier

ISSUER = "http://gatepass.bench/realms/bench"
AUDIENCE = "api://bench"
API_KEY = "gpk_" + "k" * 38
ROUNDS = 60  # short rounds, interleaved: each run's best round is one the machine was quiet


def signing_key() -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    private = ec.generate_private_key(ec.SECP256R1())
    public_jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public_jwk.update(kid="bench-1", alg="ES256", use="sig")
    return private, public_jwk


def access_token(private: ec.EllipticCurvePrivateKey) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "gp-bench",
        "aud": AUDIENCE,
        "exp": now + 3600,
        "iat": now,
        "nbf": now,
        "jti": "bench-token-identifier",
        "client_id": "gp-bench",
        "scope": "nql workflows campaigns",
        "groups": ["emea"],
    }
    headers = {"kid": "bench-1", "typ": "at+jwt"}
    return jwt.encode(claims, private, algorithm="ES256", headers=headers)


def gatepass_stand_in(public_jwk: dict[str, Any]) -> httpx.MockTransport:
    valid = {
        "valid": True,
        "code": "VALID",
        "key_id": "ak_bench",
        "name": "bench",
        "scopes": ["nql"],
        "groups": ["emea"],
        "owner": None,
        "expires_at": None,
        "rate_limit": None,
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/certs"):
            return httpx.Response(200, content=json.dumps({"keys": [public_jwk]}))
        return httpx.Response(200, content=json.dumps(valid))

    return httpx.MockTransport(answer)


def calibrate(run: Callable[[int], float], seconds: float) -> int:
    """How many calls take about ``seconds``."""
    calls = 1
    while (took := run(calls)) < seconds / 10:
        calls *= 4
    return max(1, int(calls * seconds / max(took, 1e-9)))


def best_per_call(runs: dict[str, Callable[[int], float]], seconds: float) -> dict[str, float]:
    """Seconds per call of each run: the best of ``ROUNDS`` rounds, the runs interleaved so
    that a load spike on a shared machine hits all of them alike."""
    sizes = {name: calibrate(run, seconds) for name, run in runs.items()}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(ROUNDS):
        for name, run in runs.items():
            best[name] = min(best[name], run(sizes[name]) / sizes[name])
    return best


def timed_async(step: Callable[[], Awaitable[Any]]) -> Callable[[int], float]:
    def run(calls: int) -> float:
        async def loop() -> float:
            started = time.perf_counter()
            for _ in range(calls):
                await step()
            return time.perf_counter() - started

        return asyncio.run(loop())

    return run


def timed(step: Callable[[], Any]) -> Callable[[int], float]:
    def run(calls: int) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            step()
        return time.perf_counter() - started

    return run


def raw_es256(public: ec.EllipticCurvePublicKey, token: str) -> Callable[[], None]:
    signing_input, _, signature = token.rpartition(".")
    raw = base64url_decode(signature.encode())
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    message, algorithm = signing_input.encode(), ec.ECDSA(hashes.SHA256())
    return lambda: public.verify(der, message, algorithm)


def pyjwt_decode(public_jwk: dict[str, Any], token: str) -> Callable[[], Any]:
    key = jwt.PyJWK(public_jwk)
    return lambda: jwt.decode(token, key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.02, help="length of one round")
    seconds = parser.parse_args().seconds

    private, public_jwk = signing_key()
    token = access_token(private)
    http = httpx.AsyncClient(transport=gatepass_stand_in(public_jwk))
    verifier = GatepassVerifier(
        issuer=ISSUER, audience=AUDIENCE, verify_client=("gp-verifier", "secret"), http=http
    )
    asyncio.run(verifier.verify_api_key(API_KEY))  # the one call to the stand-in: now cached
    asyncio.run(verifier.verify_token(token))  # the one JWKS fetch

    best = best_per_call(
        {
            "api_key": timed_async(lambda: verifier.verify_api_key(API_KEY)),
            "sdk_jwt": timed_async(lambda: verifier.verify_token(token)),
            "raw": timed(raw_es256(jwt.PyJWK(public_jwk).key, token)),
            "decode": timed(pyjwt_decode(public_jwk, token)),
        },
        seconds,
    )
    api_key, sdk_jwt, raw, decode = (best[k] for k in ("api_key", "sdk_jwt", "raw", "decode"))

    print(f"cached API key   {1 / api_key:>12,.0f} verifications/s  (target >= 200,000)")
    print(f"JWT, SDK         {sdk_jwt * 1e6:>12.1f} µs/verification")
    print(f"raw ES256 verify {raw * 1e6:>12.1f} µs  (cryptography, signature only)")
    print(f"ratio SDK/raw    {sdk_jwt / raw:>12.2f}x  (target <= 1.5x)")
    print(f"jwt.decode       {decode * 1e6:>12.1f} µs  ({decode / raw:.2f}x raw, for reference)")


if __name__ == "__main__":
    main()
