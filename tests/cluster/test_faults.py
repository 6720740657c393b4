"""Faults under load: a node killed, PostgreSQL restarted, Redis stopped. Each test measures what
clients saw and checks that nothing committed was lost or duplicated."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from gatepass.apikeys.service import NewApiKey, RateLimit, create_key
from gatepass.changes.bus import NoticeKey
from gatepass.clients.models import OAuthClient
from gatepass.tenants import service as tenants
from tests.cluster.harness import Cluster
from tests.cluster.support import (
    Admin,
    Load,
    access_token,
    propagation,
    report,
    token,
    unique,
    verify_key,
)
from tests.factories import ACTOR, Credential, Factory
from tests.windows import wait_for_a_fresh_window

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

LIMIT = 1.0
RETRY_CAP = 0.5  # seconds: the writers honour Retry-After, capped to keep the test short


@dataclass
class Writer:
    """Creates clients through nginx, each under its own Idempotency-Key, retrying every failed
    attempt (502, 503, a cut connection) with the same key until it gets its 201."""

    admin: Admin
    base: str
    created: dict[str, str] = field(default_factory=dict)  # name -> client_id
    secrets: dict[str, str] = field(default_factory=dict)  # client_id -> secret
    retries: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_one(self, _: requests.Session) -> str:
        name, key = unique("job"), str(uuid.uuid4())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                answer = self.admin.call(
                    self.base, "POST", "/clients", key=key, json={"name": name}
                )
                status = str(answer.status_code)
            except requests.RequestException as exc:
                answer, status = None, type(exc).__name__
            with self._lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if answer is not None and answer.status_code == 201:
                body = answer.json()
                with self._lock:
                    self.created[name] = body["client_id"]
                    self.secrets[body["client_id"]] = body["client_secret"]
                return "201"
            with self._lock:
                self.retries += 1
            wait = RETRY_CAP
            if answer is not None and "retry-after" in answer.headers:
                wait = min(float(answer.headers["retry-after"]), RETRY_CAP)
            time.sleep(wait)
        return "gave-up"

    def rows_per_name(self, factory: Factory, tenant: str) -> dict[str, int]:
        with factory.db.read() as session:
            t = tenants.get_tenant(session, tenant)
            rows = session.execute(
                select(OAuthClient.name, func.count())
                .where(OAuthClient.tenant_id == t.id, OAuthClient.name.like("job-%"))
                .group_by(OAuthClient.name)
            )
            return {row[0]: row[1] for row in rows}

    def check_nothing_lost(self, factory: Factory, tenant: str, base: str) -> int:
        """Every create ended with exactly one row, and every created credential works."""
        rows = self.rows_per_name(factory, tenant)
        assert set(rows) == set(self.created), "a row without its 201, or a 201 without its row"
        assert set(rows.values()) == {1}, f"duplicated creates: {rows}"
        with requests.Session() as http:
            for client_id, secret in self.secrets.items():
                answer = token(http, base, Credential(tenant, client_id, secret))
                assert answer.status_code == 200, answer.text
        return len(rows)


def test_kill_9_a_node_under_load(
    cluster: Cluster, cluster_factory: Factory, tenant: str, admin_client: Credential
) -> None:
    cred = cluster_factory.client(tenant, name="integration")
    writer = Writer(Admin.of(cluster.url, admin_client), cluster.url)
    victim = cluster.nodes[1]
    tokens = Load(lambda http: str(token(http, cluster.url, cred).status_code), threads=3)
    writes = Load(writer.create_one, threads=1, limit=30)
    with tokens, writes:
        time.sleep(2.0)
        killed_at = tokens.now()
        victim.kill9()
        time.sleep(4.0)
    after_kill = tokens.tally(killed_at)
    figures: dict[str, Any] = {
        "tokens_before_kill": tokens.tally(0, killed_at),
        "tokens_after_kill": after_kill,
        "tokens_from_1s_after_kill": tokens.tally(killed_at + 1.0),
        "creates": len(writer.created),
        "create_attempts": writer.statuses,
        "create_retries": writer.retries,
    }
    assert not victim.running
    survivors = [node for node in cluster.nodes if node.running]
    assert len(survivors) == 2
    # The survivors served everything: nginx passed refused connections on to them.
    failed = sum(count for status, count in after_kill.items() if status != "200")
    figures["token_failures_after_kill"] = failed
    assert after_kill.get("200", 0) > 100
    assert failed <= tokens.threads, after_kill  # at most the requests in flight at the kill
    assert tokens.tally(killed_at + 1.0) == {
        "200": len(tokens.outcomes) - sum(tokens.tally(0, killed_at + 1.0).values())
    }
    figures["created_rows_checked"] = writer.check_nothing_lost(
        cluster_factory, tenant, cluster.url
    )

    # Back up, the restarted node knows every credential created while it was dead.
    cluster.heal()
    with requests.Session() as http:
        for client_id, secret in writer.secrets.items():
            assert token(http, victim.url, Credential(tenant, client_id, secret)).status_code == 200
    report("kill_9_node", figures)


def classify(answer: requests.Response) -> str:
    """200, or 503 with Retry-After and an OAuth error body ("503"), or what went wrong."""
    if answer.status_code != 503:
        return str(answer.status_code)
    try:
        error = answer.json().get("error")
    except ValueError:
        error = None
    if "retry-after" not in answer.headers or error != "temporarily_unavailable":
        return "503-malformed"
    return "503"


def test_postgres_restart_under_load(
    cluster: Cluster, cluster_factory: Factory, tenant: str, admin_client: Credential
) -> None:
    cred = cluster_factory.client(tenant, name="integration")
    writer = Writer(Admin.of(cluster.url, admin_client), cluster.url)
    tokens = Load(
        lambda http: classify(token(http, cluster.url, cred)), threads=3, limit=40, pause=0.01
    )
    writes = Load(writer.create_one, threads=1, limit=40, pause=0.05)
    with tokens, writes:
        time.sleep(2.0)
        stopped_at = tokens.now()
        cluster.postgres.stop()
        time.sleep(8.0)  # longer than a node trusts its cache without the database
        started_at = tokens.now()
        cluster.postgres.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the writers and tokens are back
            recent = tokens.tally(tokens.now() - 1.0)
            if set(recent) == {"200"} and tokens.now() - started_at > 3:
                break
            time.sleep(0.2)
        writes.stop()
    outcomes = tokens.outcomes
    unavailable = [o.at for o in outcomes if o.result == "503"]
    recovered = [o.at for o in outcomes if o.result == "200" and o.at > started_at]
    figures: dict[str, Any] = {
        "down_for_s": round(started_at - stopped_at, 2),
        "tokens": tokens.tally(),
        "tokens_while_down": tokens.tally(stopped_at, started_at),
        "first_503_after_stop_s": round(min(unavailable) - stopped_at, 3) if unavailable else None,
        "last_503_after_start_s": round(max(unavailable) - started_at, 3) if unavailable else None,
        "first_200_after_start_s": round(min(recovered) - started_at, 3) if recovered else None,
        "creates": len(writer.created),
        "create_attempts": writer.statuses,
    }
    report("postgres_restart", figures)  # the figures of a failed run are worth keeping too

    assert unavailable, "no request saw the outage"
    assert set(tokens.tally()) <= {"200", "503"}, tokens.tally()  # 503s all well-formed
    assert recovered, "tokens never came back"
    assert figures["first_200_after_start_s"] < 10
    assert set(writer.statuses) <= {"201", "503"}, writer.statuses
    assert writer.statuses.get("503", 0) > 0
    figures["created_rows_checked"] = writer.check_nothing_lost(
        cluster_factory, tenant, cluster.url
    )
    for node in cluster.nodes:
        assert node.running
        assert requests.get(f"{node.url}/readyz", timeout=5).status_code == 200
    report("postgres_restart", figures)


def subscribers(cluster: Cluster) -> int:
    channel = NoticeKey.from_master_key(cluster.secret_key.encode()).channel
    client = cluster.redis.client()
    try:
        answer: list[Any] = client.pubsub_numsub(channel)
    finally:
        client.close()
    return int(answer[0][1])


def limited_key(factory: Factory, tenant: str, limit: int) -> str:
    """A key allowed ``limit`` checks an hour, made early enough in the hour for a test to spend
    its allowance within it."""
    wait_for_a_fresh_window(3600, margin=60)
    with factory.db.transaction() as session:
        _, secret = create_key(
            session,
            tenants.get_tenant(session, tenant),
            NewApiKey(name=unique("limited"), rate_limit=RateLimit(limit=limit, period=3600)),
            actor=ACTOR,
            hasher=factory.hasher,
        )
        return secret.reveal()


def test_redis_stop_falls_back_and_recovers(
    cluster: Cluster, cluster_factory: Factory, tenant: str, admin_client: Credential
) -> None:
    nodes = {node.name: node.url for node in cluster.nodes}
    urls = list(nodes.values())
    admin = Admin.of(cluster.url, admin_client)
    cred = cluster_factory.client(tenant, name="integration")
    verifier = cluster_factory.client(tenant, scopes=("api_keys:verify",), name="api")
    assert subscribers(cluster) == len(urls)
    figures: dict[str, Any] = {}

    tokens = Load(lambda http: str(token(http, cluster.url, cred).status_code), threads=2)
    with tokens:
        cluster.redis.stop()
        stopped_at = tokens.now()
        time.sleep(0.5)

        # Revocations still reach every node in time, through the database's change feed.
        victim = cluster_factory.client(tenant, name="victim-1")
        for base in urls:
            access_token(base, victim)
        answer = admin.call(urls[0], "POST", f"/clients/{victim.client_id}/revoke")
        done = time.monotonic()
        assert answer.status_code == 200, answer.text

        def refused(who: Credential) -> Any:
            return lambda http, base: token(http, base, who).status_code == 401

        figures["revoke_refused_redis_down_s"] = propagation(nodes, refused(victim), done)

        # Rate limits hold per node: each node counts the key's calls in its own memory.
        key = limited_key(cluster_factory, tenant, limit=3)
        with requests.Session() as http:
            local = [verify_key(http, urls[0], verifier, key)["code"] for _ in range(5)]
            elsewhere = verify_key(http, urls[1], verifier, key)["code"]
        figures["rate_limit_redis_down"] = {"node-1": local, "node-2 first call": elsewhere}
        restarted_at = tokens.now()
        cluster.redis.start()

        deadline = time.monotonic() + 10
        while subscribers(cluster) < len(urls) and time.monotonic() < deadline:
            time.sleep(0.05)
        figures["notices_reconnected_s"] = round(tokens.now() - restarted_at, 3)
        assert subscribers(cluster) == len(urls)
        time.sleep(1.1)  # each node retries Redis for its counts a second after a failure

        victim = cluster_factory.client(tenant, name="victim-2")
        for base in urls:
            access_token(base, victim)
        answer = admin.call(urls[1], "POST", f"/clients/{victim.client_id}/revoke")
        done = time.monotonic()
        assert answer.status_code == 200, answer.text
        figures["revoke_refused_redis_back_s"] = propagation(nodes, refused(victim), done)

        key = limited_key(cluster_factory, tenant, limit=3)
        with requests.Session() as http:
            shared = [verify_key(http, urls[i % 3], verifier, key)["code"] for i in range(5)]
        figures["rate_limit_redis_back"] = shared
    figures["tokens"] = tokens.tally()
    figures["tokens_while_redis_down"] = tokens.tally(stopped_at, restarted_at)
    report("redis_stop", figures)

    assert tokens.tally() == {"200": len(tokens.outcomes)}, tokens.tally()
    for name in ("revoke_refused_redis_down_s", "revoke_refused_redis_back_s"):
        late = {n: s for n, s in figures[name].items() if s is None or s >= LIMIT}
        assert not late, f"{name}: {figures[name]}"
    assert local == ["VALID"] * 3 + ["RATE_LIMITED"] * 2
    assert elsewhere == "VALID"  # node 2 had not counted node 1's calls
    assert shared == ["VALID"] * 3 + ["RATE_LIMITED"] * 2  # one count across the nodes again
