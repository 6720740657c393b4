"""Keys and pre-signed token requests for bench/signed_token.sh.

Every ``private_key_jwt`` request needs a fresh client assertion (both servers refuse a ``jti``
they have seen), and every DPoP request a fresh proof, so they are signed before a wrk run and
wrk's ``bench/lib/signed.lua`` sends them one per request, in order.

    signed_requests.py keys DIR
        DIR/client.pem (the client's ES256 private key), DIR/client-jwks.json (its public JWK,
        for the servers) and DIR/dpop.pem (the key DPoP proofs are signed with).
    signed_requests.py make DIR --client-id ID --url TOKEN_URL --count N [--dpop] --out FILE
        N lines ``<form body>`` or, with --dpop, ``<form body>\\t<DPoP proof>``.

The assertion: ``iss`` = ``sub`` = the client ID, ``aud`` = the token endpoint URL, ``iat`` now,
``exp`` now + 600, a unique ``jti``, header ``kid``. The DPoP proof (RFC 9449 §4.2): header
``typ: dpop+jwt`` with the public ``jwk``, ``htm: POST``, ``htu`` the token endpoint URL, ``iat``
now, a unique ``jti``. Signing runs in ``--procs`` processes (default: all cores), and prints
how long it took to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ASSERTION_TYPE = "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
KID = "bench-client-es256"
LIFETIME = 600  # seconds: the assertions' exp - iat


def write_keys(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("client", "dpop"):
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = directory / f"{name}.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        if name == "client":
            jwk = public_jwk(key)
            jwk.update(kid=KID, alg="ES256", use="sig")
            (directory / "client-jwks.json").write_text(json.dumps({"keys": [jwk]}))


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} is not an EC private key")
    return key


def make_chunk(job: tuple[str, str, str, str, bool, str, int, int, int]) -> str:
    """Lines ``start`` to ``start + count`` of the file, as one string."""
    directory, client_id, url, scope, dpop, tag, start, count, now = job
    client_key = load_key(Path(directory) / "client.pem")
    dpop_key = load_key(Path(directory) / "dpop.pem") if dpop else None
    dpop_header = {"typ": "dpop+jwt", "jwk": public_jwk(dpop_key)} if dpop_key else None
    head = f"grant_type=client_credentials&scope={scope}&client_assertion_type={ASSERTION_TYPE}"
    lines = []
    for i in range(start, start + count):
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": url,
            "iat": now,
            "exp": now + LIFETIME,
            "jti": f"{tag}-a{i}",
        }
        assertion = jwt.encode(claims, client_key, algorithm="ES256", headers={"kid": KID})
        line = f"{head}&client_assertion={assertion}"
        if dpop_key is not None:
            proof_claims = {"htm": "POST", "htu": url, "iat": now, "jti": f"{tag}-d{i}"}
            proof = jwt.encode(proof_claims, dpop_key, algorithm="ES256", headers=dpop_header)
            line += "\t" + proof
        lines.append(line + "\n")
    return "".join(lines)


def make(a: argparse.Namespace) -> None:
    started = time.monotonic()
    now = int(time.time())
    tag = secrets.token_hex(6)  # jti prefix: unique per file, so no two runs share a jti
    procs = max(1, min(a.procs, a.count // 1000 or 1))
    per = -(-a.count // procs)
    jobs = [
        (str(a.dir), a.client_id, a.url, a.scope, a.dpop, tag, s, min(per, a.count - s), now)
        for s in range(0, a.count, per)
    ]
    with a.out.open("w") as out:
        if procs == 1:
            out.write(make_chunk(jobs[0]))
        else:
            with ProcessPoolExecutor(procs) as pool:
                for chunk in pool.map(make_chunk, jobs):
                    out.write(chunk)
    print(
        f"signed {a.count} requests{' with DPoP proofs' if a.dpop else ''} in"
        f" {time.monotonic() - started:.1f} s ({procs} processes), iat={now}",
        file=sys.stderr,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keys", help="create the client's and the DPoP key")
    keys.add_argument("dir", type=Path)
    mk = sub.add_parser("make", help="sign COUNT requests into OUT")
    mk.add_argument("dir", type=Path)
    mk.add_argument("--client-id", required=True)
    mk.add_argument("--url", required=True, help="the token endpoint URL: aud and htu")
    mk.add_argument("--scope", default="api:read")
    mk.add_argument("--count", type=int, required=True)
    mk.add_argument("--dpop", action="store_true", help="add a DPoP proof to each line")
    mk.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    mk.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if a.command == "keys":
        write_keys(a.dir)
    else:
        if a.count < 1:
            ap.error("--count must be at least 1")
        make(a)


if __name__ == "__main__":
    main()
