"""The management-API part of the scale benchmark: listings, revoke-all, query plans."""

from __future__ import annotations

import base64
import secrets
import statistics
import sys
import time
from typing import Any

import httpx
import psycopg
from scale_load import Server
from scale_setup import Instance, log, pg_dsn

# --- management API ---------------------------------------------------------------------------


def bearer(server: Server, tenant: str, admin: tuple[str, str]) -> dict[str, str]:
    # The management API takes tokens for Gatepass's own audience: the tenant's issuer.
    issuer = f"{server.base}/realms/{tenant}"
    token = httpx.post(
        f"{issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "client_credentials",
            "scope": "credentials:manage",
            "resource": issuer,
        },
        auth=admin,
        timeout=30,
    )
    token.raise_for_status()
    return {"authorization": "Bearer " + token.json()["access_token"]}


def cursor(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def timed_get(server: Server, path: str, headers: dict[str, str], times: int = 7) -> dict[str, Any]:
    samples, items = [], 0
    for i in range(times + 1):  # the first one warms the connection pool and is not counted
        t0 = time.perf_counter()
        res = httpx.get(server.base + path, headers=headers, timeout=120)
        elapsed = (time.perf_counter() - t0) * 1000
        if res.status_code != 200:
            sys.exit(f"GET {path}: {res.status_code} {res.text[:300]}")
        items = len(res.json()["items"])
        if i:
            samples.append(elapsed)
    return {
        "path": path,
        "items": items,
        "median_ms": round(statistics.median(samples), 1),
        "max_ms": round(max(samples), 1),
    }


def listings(inst: Instance, server: Server) -> list[dict[str, Any]]:
    auth = bearer(server, "bench", inst.admin)
    with psycopg.connect(pg_dsn(inst.url)) as conn:
        lowest = conn.execute(
            "SELECT (SELECT min(id) FROM api_keys), (SELECT min(id) FROM oauth_clients)"
        ).fetchone()
    if lowest is None or lowest[0] is None or lowest[1] is None:
        sys.exit(f"{inst.label}: no API keys or clients to list")
    base = "/api/v1/realms/bench"
    rows = [
        ("API keys, first page", f"{base}/api-keys?limit=50"),
        (
            "API keys, last page (deep cursor)",
            f"{base}/api-keys?limit=50&cursor={cursor(lowest[0] + 51)}",
        ),
        ("API keys, first page, status=active", f"{base}/api-keys?limit=50&status=active"),
        ("API keys, name search without a match", f"{base}/api-keys?limit=50&name=no-such-name"),
        ("OAuth clients, first page", f"{base}/clients?limit=50"),
        (
            "OAuth clients, last page (deep cursor)",
            f"{base}/clients?limit=50&cursor={cursor(lowest[1] + 51)}",
        ),
    ]
    results = []
    for label, path in rows:
        got = timed_get(server, path, auth)
        got.update(label=label, db=inst.label)
        log(f"{inst.label}: {label}: median {got['median_ms']} ms ({got['items']} items)")
        results.append(got)
    return results


def revoke_all(inst: Instance, server: Server) -> dict[str, Any]:
    """POST revoke-all for the 'revoke' tenant, then how long a cached valid key stays valid."""
    key = (inst.state / f"{inst.label}-rv-keys.txt").read_text().split()[0]
    verify = server.base + "/realms/revoke/api-keys/verify"
    auth = {"authorization": f"Basic {inst.revoke['verifier']}"}

    def code() -> str:
        res = httpx.post(verify, json={"key": key}, headers=auth, timeout=30)
        return str(res.json()["code"])

    for _ in range(20):  # in the cache of every worker, most likely
        if code() != "VALID":
            sys.exit("revoke-all: a key of the tenant does not verify before the revoke")
    headers = bearer(server, "revoke", tuple(inst.revoke["admin"]))
    t0 = time.perf_counter()
    res = httpx.post(
        f"{server.base}/api/v1/realms/revoke/api-keys/revoke-all", headers=headers, timeout=600
    )
    seconds = time.perf_counter() - t0
    if res.status_code != 200:
        sys.exit(f"revoke-all: {res.status_code} {res.text[:300]}")
    t1 = time.perf_counter()
    while code() == "VALID" and time.perf_counter() - t1 < 120:
        time.sleep(0.05)
    honoured = time.perf_counter() - t1
    out = {
        "count": res.json()["count"],
        "seconds": round(seconds, 2),
        "verify_revoked_after_s": round(honoured, 2),
        "final_code": code(),
    }
    log(f"revoke-all: {out}")
    return out


def explain(inst: Instance) -> dict[str, str]:
    """EXPLAIN ANALYZE of the queries the listing and the key lookup run, on the large database."""
    queries = {
        "api-keys first page": "SELECT * FROM api_keys WHERE tenant_id = %(t)s "
        "ORDER BY id DESC LIMIT 51",
        "api-keys deep page": "SELECT * FROM api_keys WHERE tenant_id = %(t)s AND id < %(low)s "
        "ORDER BY id DESC LIMIT 51",
        "key lookup by digest": "SELECT * FROM api_key_secrets WHERE digest = %(d)s",
        "client lookup": "SELECT * FROM oauth_clients WHERE tenant_id = %(t)s AND client_id = 'x'",
    }
    plans = {}
    with psycopg.connect(pg_dsn(inst.url)) as conn:
        row = conn.execute(
            "SELECT t.id, min(k.id) + 51 FROM tenants t JOIN api_keys k ON k.tenant_id = t.id "
            "WHERE t.slug = 'bench' GROUP BY t.id"
        ).fetchone()
        if row is None:
            sys.exit("explain: tenant 'bench' has no API keys")
        params = {"t": row[0], "low": row[1], "d": secrets.token_bytes(32)}
        for label, sql in queries.items():
            lines = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
            plans[label] = "\n".join(r[0] for r in lines)
    return plans
