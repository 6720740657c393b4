"""The Python floor for a token endpoint whose client signs in with ``private_key_jwt``, with or
without a DPoP proof: the least work any correct one does, to put Gatepass's numbers in
``bench/signed_token.sh`` beside what Python can do at all.

Bare ASGI on the same uvicorn (uvloop, httptools) as Gatepass, in the style of the bench-peers
harness' floor: read and parse the form; check the grant type and assertion type; verify the
client assertion with PyJWT (ES256 against the client's one public key; ``iss`` = ``sub`` = the
client, ``aud`` the token endpoint URL, ``exp`` required); spend its ``jti`` in Redis (``SET NX
EX``, shared by every process, as a replay check must be). With a ``DPoP`` header: read its
header (``typ``, ``alg``, a public ``jwk``), verify it with that key, check ``htm``, ``htu`` and
the ``iat`` window, spend its ``jti`` too, and take the key's RFC 7638 thumbprint (the header's
key and thumbprint kept by header, as a client sends the same key with every proof). Then sign an
ES256 JWT access token (``cnf.jkt`` when bound) and answer JSON with ``no-store``. No framework,
no database, no client lookup, no metrics, no logging, no rate limit, no audit.

Environment: FLOOR_CLIENT_ID, FLOOR_CLIENT_JWKS (a file: ``{"keys": [one EC key]}``),
FLOOR_TOKEN_URL (the ``aud`` and ``htu`` it expects), FLOOR_REDIS_URL.
"""

import functools
import hashlib
import json
import os
import secrets
import time
from base64 import urlsafe_b64encode
from urllib.parse import parse_qsl

import jwt
import redis.asyncio as redis
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

CLIENT_ID = os.environ["FLOOR_CLIENT_ID"]
URL = os.environ["FLOOR_TOKEN_URL"]
with open(os.environ["FLOOR_CLIENT_JWKS"]) as f:
    CLIENT_KEY = ECAlgorithm.from_jwk(json.dumps(json.load(f)["keys"][0]))
STORE = redis.Redis.from_url(os.environ["FLOOR_REDIS_URL"])
SIGNING = ec.generate_private_key(ec.SECP256R1())  # each process its own: stateless tokens
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PREFIX = "floor:" + secrets.token_hex(4)  # this run's keys in Redis
HDRS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
]


class RefusedError(Exception):
    pass


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


async def spend(kind: str, jti: object, ttl: int) -> None:
    if not isinstance(jti, str) or not jti:
        raise RefusedError
    digest = hashlib.sha256(jti.encode()).hexdigest()
    if not await STORE.set(f"{PREFIX}:{kind}:{digest}", b"1", nx=True, ex=max(ttl, 1)):
        raise RefusedError


@functools.lru_cache(maxsize=1024)
def header_key(segment: str) -> tuple[object, str]:
    header = jwt.get_unverified_header(segment + ".e30.")
    jwk = header.get("jwk")
    if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or not isinstance(jwk, dict):
        raise RefusedError
    if jwk.get("kty") != "EC" or "d" in jwk:
        raise RefusedError
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return ECAlgorithm.from_jwk(json.dumps(jwk)), b64(hashlib.sha256(canonical).digest())


async def proof_thumbprint(proof: str, now: int) -> str:
    key, jkt = header_key(proof.partition(".")[0])
    claims = jwt.decode(proof, key, algorithms=["ES256"])
    iat = claims.get("iat")
    if claims.get("htm") != "POST" or claims.get("htu") != URL or not isinstance(iat, int):
        raise RefusedError
    if not now - 60 <= iat <= now + 5:
        raise RefusedError
    await spend("dpop", claims.get("jti"), iat + 65 - now)
    return jkt


async def token(form: dict[str, str], proof: str | None) -> bytes:
    if form.get("grant_type") != "client_credentials":
        raise RefusedError
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise RefusedError
    claims = jwt.decode(
        form.get("client_assertion", ""),
        CLIENT_KEY,
        algorithms=["ES256"],
        audience=URL,
        issuer=CLIENT_ID,
        options={"require": ["exp", "jti"]},
    )
    if claims.get("sub") != CLIENT_ID:
        raise RefusedError
    now = int(time.time())
    await spend("jti", claims["jti"], int(claims["exp"]) - now)
    access = {
        "iss": "http://floor",
        "sub": CLIENT_ID,
        "aud": "http://floor",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(16),
        "client_id": CLIENT_ID,
        "scope": "api:read",
    }
    kind = "Bearer"
    if proof is not None:
        access["cnf"] = {"jkt": await proof_thumbprint(proof, now)}
        kind = "DPoP"
    signed = jwt.encode(access, SIGNING, algorithm="ES256", headers={"kid": "floor"})
    answer = {"access_token": signed, "token_type": kind, "expires_in": 300, "scope": "api:read"}
    return json.dumps(answer, separators=(",", ":")).encode()


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    proof = None
    for name, value in scope["headers"]:
        if name == b"dpop":
            proof = value.decode()
    try:
        out, status = await token(dict(parse_qsl(body.decode())), proof), 200
    except (RefusedError, jwt.PyJWTError, ValueError, KeyError, TypeError):
        out, status = b'{"error":"invalid_client"}', 401
    await send({"type": "http.response.start", "status": status, "headers": HDRS})
    await send({"type": "http.response.body", "body": out})
