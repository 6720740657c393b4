"""A burst of wrong secrets for one client, spread over the nodes: the wrong attempts are
throttled (429 with Retry-After) while the right secret keeps working for its owner."""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from gatepass import credential_secrets as cs
from gatepass.oauth.throttle import ThrottlePolicy
from tests.cluster.harness import Cluster
from tests.cluster.support import report
from tests.factories import Factory
from tests.windows import wait_for_a_fresh_window

pytestmark = pytest.mark.cluster

POLICY = ThrottlePolicy()


def post_from(source: str, base: str, path: str, *, client_id: str, secret: str, form: str) -> Any:
    """POST with HTTP Basic from a chosen local source address (127.0.0.x), like another host."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=10, source_address=(source, 0)
    )
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    try:
        connection.request(
            "POST",
            path,
            body=form,
            headers={
                "authorization": f"Basic {basic}",
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        answer = connection.getresponse()
        headers = {name.lower(): value for name, value in answer.getheaders()}
        return answer.status, headers, json.loads(answer.read() or b"{}")
    finally:
        connection.close()


def throttled_count(cluster: Cluster) -> float:
    total = 0.0
    for node in cluster.nodes:
        text = requests.get(f"{node.url}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "gatepass_client_auth_throttled_total":
                    total += sample.value
    return total


def test_wrong_secret_burst_is_throttled_and_the_owner_keeps_working(
    cluster: Cluster, cluster_factory: Factory, tenant: str
) -> None:
    owner = cluster_factory.client(tenant, name="owner")
    neighbour = cluster_factory.client(tenant, name="neighbour")
    token_path = f"/realms/{tenant}/protocol/openid-connect/token"
    introspect_path = f"{token_path}/introspect"
    grant = "grant_type=client_credentials"
    before = throttled_count(cluster)
    wait_for_a_fresh_window(POLICY.window)

    def attempt(source: str, base: str, secret: str, path: str = token_path) -> Any:
        form = grant if path == token_path else "token=x"
        return post_from(source, base, path, client_id=owner.client_id, secret=secret, form=form)

    # Burst from one address through nginx, the owner's right secret interleaved.
    burst: list[int] = []
    owner_statuses: list[int] = []
    retry_after: set[str] = set()
    for _ in range(3 * POLICY.per_source):
        status, headers, body = attempt(
            "127.0.0.1", cluster.url, cs.generate(cs.SecretKind.CLIENT_SECRET).reveal()
        )
        burst.append(status)
        if status == 429:
            assert body["error"] == "invalid_client"
            retry_after.add(headers["retry-after"])
        owner_statuses.append(attempt("127.0.0.1", cluster.url, owner.secret)[0])
    assert burst == [401] * POLICY.per_source + [429] * (2 * POLICY.per_source), burst
    assert set(owner_statuses) == {200}, owner_statuses
    assert all(0 < int(value) <= POLICY.window for value in retry_after), retry_after

    # Introspection authenticates the same client: throttled the same way, right secret works.
    status, _, _ = attempt("127.0.0.1", cluster.url, "gpcs_wrong", introspect_path)
    assert status == 429
    status, _, body = attempt("127.0.0.1", cluster.url, owner.secret, introspect_path)
    assert (status, body) == (200, {"active": False})

    # Another client is not affected; another address is not blocked by this one's count.
    with requests.Session() as http:
        wrong = http.post(
            f"{cluster.url}{token_path}",
            data={"grant_type": "client_credentials"},
            auth=(neighbour.client_id, "gpcs_wrong"),
            timeout=10,
        )
    assert wrong.status_code == 401
    nodes = [node.url for node in cluster.nodes]
    assert attempt("127.0.0.2", nodes[0], "gpcs_wrong")[0] == 401

    # Spread over many addresses and all nodes, the client's own ceiling is reached too.
    spread: list[int] = []
    sources = [f"127.0.0.{i}" for i in range(3, 16)]
    for index, source in enumerate(sources):
        for attempt_no in range(POLICY.per_source - 1):
            base = nodes[(index + attempt_no) % len(nodes)]
            spread.append(attempt(source, base, "gpcs_wrong")[0])
    first_refused = spread.index(429) if 429 in spread else None
    fresh_source = attempt("127.0.0.250", nodes[2], "gpcs_wrong")[0]
    owner_elsewhere = [attempt("127.0.0.251", base, owner.secret)[0] for base in nodes]

    throttled = throttled_count(cluster) - before
    refused_here = burst.count(429) + spread.count(429) + 1 + (fresh_source == 429)
    report(
        "wrong_secret_burst",
        {
            "policy": {
                "per_source": POLICY.per_source,
                "per_client": POLICY.per_client,
                "window_s": POLICY.window,
            },
            "burst_from_one_address": {"401": burst.count(401), "429": burst.count(429)},
            "owner_right_secret_during_burst": {"200": owner_statuses.count(200)},
            "spread_attempts": len(spread),
            "spread_first_429_at_attempt": first_refused,
            "fresh_address_after_ceiling": fresh_source,
            "throttled_metric_increase": throttled,
        },
    )
    # Before the spread the client's count holds between 11 failures (the burst's first eleven
    # reach Redis) and 32 (once a node knows an address is throttled it stops counting there).
    assert first_refused is not None, spread
    most, least = 3 * POLICY.per_source + 2, POLICY.per_source + 1
    assert POLICY.per_client - most <= first_refused <= POLICY.per_client - least, first_refused
    assert set(spread[first_refused:]) == {429}
    assert fresh_source == 429
    assert owner_elsewhere == [200, 200, 200]
    assert throttled == refused_here
