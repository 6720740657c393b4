"""The Python floor for an API-key verify endpoint: the least work any correct one does.

Bare ASGI on the same uvicorn (uvloop, httptools) as Gatepass, in the style of the bench-peers
harness' floor/floor_app.py: read the body, parse HTTP Basic, HMAC-SHA256 the caller's secret
and compare in constant time, parse the JSON body, HMAC-SHA256 the key and look its digest up in
a dict of 1,001 keys (1,000 decoys and the bench key), answer JSON with no-store. No framework,
no database, no cache invalidation, no metrics, no logging, no rate limit, no last-use record.
"""

import base64
import hashlib
import hmac
import json

CID, SECRET = "floor-client", "gpcs_floorsecretfloorsecretfloorsecret12"
KEY = "gpk_floorkeyfloorkeyfloorkeyfloorkey123456"
HASH_KEY = hashlib.sha256(b"k").digest()


def digest(value: str) -> bytes:
    return hmac.new(HASH_KEY, value.encode(), hashlib.sha256).digest()


CLIENT_DIGEST = digest(SECRET)
KEYS = {digest(f"gpk_decoy{i:038d}"): {"key_id": f"decoy-{i}", "scopes": []} for i in range(1000)}
KEYS[digest(KEY)] = {"key_id": "bench", "name": "bench", "scopes": [], "groups": []}
HDRS = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    auth = dict(scope["headers"]).get(b"authorization", b"")
    cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
    ok = cid == CID and hmac.compare_digest(digest(sec), CLIENT_DIGEST)
    if ok:
        entry = KEYS.get(digest(json.loads(body)["key"]))
        answer = {"valid": True, "code": "VALID", **entry} if entry else {"valid": False}
        out, status = json.dumps(answer, separators=(",", ":")).encode(), 200
    else:
        out, status = b'{"error":"invalid_client"}', 401
    await send({"type": "http.response.start", "status": status, "headers": HDRS})
    await send({"type": "http.response.body", "body": out})
