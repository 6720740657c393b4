"""Soak: mixed load on a private Gatepass cluster for a while, memory of every node sampled.

    .venv/bin/python bench/soak.py --duration 600     # make soak
    .venv/bin/python bench/soak.py --duration 60 --nodes 1

Starts PostgreSQL, Redis, ``--nodes`` ``gatepass serve`` processes and nginx (all private, on
127.0.0.1), then runs, through nginx and until ``--duration`` seconds have passed:

- token requests for a pool of OAuth clients (``--token-threads`` threads);
- API-key verifications and token introspections (``--verify-threads`` threads);
- management-API writes with an administrator's token (one thread, paced): create a client with
  an Idempotency-Key and use it, then rotate its secret, revoke it or delete it in turn; create,
  verify and revoke an API key every fifth round.

Every answer is checked (status and content). The resident memory (RSS) of each node is sampled
every ``--sample`` seconds. The run fails if any request failed, or if after the warm-up
(the first ``--warmup`` fraction of the run, at least 20 s) any node's RSS grew by more than
``--max-growth-mib`` MiB. Figures are printed and written to ``artifacts/cluster/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the harness lives in the test package
    sys.path.insert(0, str(ROOT))

from gatepass.apikeys.service import NewApiKey, create_key  # noqa: E402
from gatepass.settings import Settings  # noqa: E402
from gatepass.tenants import service as tenants  # noqa: E402
from tests.cluster.harness import Cluster  # noqa: E402
from tests.factories import ACTOR, Credential, Factory  # noqa: E402

REPORT = ROOT / "artifacts" / "cluster" / "soak.json"
MIB = 1024


@dataclass
class Tally:
    """Requests by kind and outcome; the first few unexpected answers, for the report."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1

    def expect(self, kind: str, good: bool, what: str) -> None:
        if good:
            self.ok(kind)
        else:
            self.error(kind, what)

    def error(self, kind: str, what: str) -> None:
        with self.lock:
            self.counts[kind] += 1
            self.errors[f"{kind}: {what[:60]}"] += 1
            if len(self.examples) < 10:
                self.examples.append(f"{kind}: {what[:300]}")


@dataclass
class World:
    base: str
    tenant: str
    clients: list[Credential]
    keys: list[str]
    verifier: Credential
    admin: Credential


def setup(cluster: Cluster) -> World:
    settings = Settings(
        database_url=cluster.database_url,
        secret_key=cluster.secret_key,
        data_dir=cluster.root,
        public_url=cluster.url,
        _env_file=None,
    )
    factory = Factory(settings)
    try:
        tenant = factory.tenant(f"soak-{uuid.uuid4().hex[:6]}")
        clients = [factory.client(tenant, name=f"integration {i}") for i in range(20)]
        keys = []
        with factory.db.transaction() as session:
            t = tenants.get_tenant(session, tenant)
            for i in range(10):
                _, secret = create_key(
                    session, t, NewApiKey(name=f"key {i}"), actor=ACTOR, hasher=factory.hasher
                )
                keys.append(secret.reveal())
        verifier = factory.client(tenant, scopes=("api_keys:verify",), name="resource server")
        admin = factory.client(tenant, scopes=("tenant:admin",), name="automation")
    finally:
        factory.close()
    return World(cluster.url, tenant, clients, keys, verifier, admin)


def oidc(world: World, endpoint: str) -> str:
    return f"{world.base}/realms/{world.tenant}/protocol/openid-connect/{endpoint}"


def get_token(
    http: requests.Session, world: World, cred: Credential, **form: str
) -> requests.Response:
    return http.post(
        oidc(world, "token"),
        data={"grant_type": "client_credentials", **form},
        auth=(cred.client_id, cred.secret),
        timeout=15,
    )


class Bearer:
    """An access token of one client, renewed half-way through its lifetime like a real client."""

    def __init__(self, http: requests.Session, world: World, cred: Credential, **form: str) -> None:
        self.http, self.world, self.cred, self.form = http, world, cred, form
        self.renew_at = 0.0
        self.token = ""

    def value(self) -> str:
        if time.monotonic() >= self.renew_at:
            answer = get_token(self.http, self.world, self.cred, **self.form)
            answer.raise_for_status()
            body = answer.json()
            self.token = body["access_token"]
            self.renew_at = time.monotonic() + body["expires_in"] / 2
        return self.token


def token_worker(world: World, tally: Tally, stop: threading.Event) -> None:
    rng = random.Random()  # noqa: S311 - picks the load's mix, nothing secret
    with requests.Session() as http:
        while not stop.is_set():
            try:
                answer = get_token(http, world, rng.choice(world.clients))
                if answer.status_code == 200 and answer.json().get("access_token"):
                    tally.ok("token")
                else:
                    tally.error("token", f"{answer.status_code} {answer.text}")
            except requests.RequestException as exc:
                tally.error("token", type(exc).__name__)


def verify_worker(world: World, tally: Tally, stop: threading.Event) -> None:
    rng = random.Random()  # noqa: S311 - picks the load's mix, nothing secret
    caller = (world.verifier.client_id, world.verifier.secret)
    with requests.Session() as http:
        issued = Bearer(http, world, world.clients[0])
        while not stop.is_set():
            try:
                answer = http.post(
                    f"{world.base}/realms/{world.tenant}/api-keys/verify",
                    json={"key": rng.choice(world.keys)},
                    auth=caller,
                    timeout=15,
                )
                if answer.status_code == 200 and answer.json().get("valid") is True:
                    tally.ok("verify")
                else:
                    tally.error("verify", f"{answer.status_code} {answer.text}")
                answer = http.post(
                    oidc(world, "token/introspect"),
                    data={"token": issued.value()},
                    auth=caller,
                    timeout=15,
                )
                if answer.status_code == 200 and answer.json().get("active") is True:
                    tally.ok("introspect")
                else:
                    tally.error("introspect", f"{answer.status_code} {answer.text}")
            except requests.RequestException as exc:
                tally.error("verify", type(exc).__name__)


def management_worker(world: World, tally: Tally, stop: threading.Event, pause: float) -> None:
    with requests.Session() as http:
        # The management API takes tokens for Gatepass's own audience: the tenant's issuer.
        issuer = f"{world.base}/realms/{world.tenant}"
        bearer = Bearer(http, world, world.admin, resource=issuer)
        api = f"{world.base}/api/v1/realms/{world.tenant}"
        expect = {"POST": 200, "DELETE": 204}
        round_no = 0
        while not stop.is_set():
            round_no += 1
            try:
                headers = {"authorization": f"Bearer {bearer.value()}"}
                _management_round(
                    http, world, tally, api=api, headers=headers, expect=expect, round_no=round_no
                )
            except requests.RequestException as exc:
                tally.error("manage", type(exc).__name__)
            stop.wait(pause)


def _management_round(
    http: requests.Session,
    world: World,
    tally: Tally,
    *,
    api: str,
    headers: dict[str, str],
    expect: dict[str, int],
    round_no: int,
) -> None:
    created = http.post(
        f"{api}/clients",
        json={"name": f"soak {round_no}", "scopes": []},
        headers={**headers, "idempotency-key": str(uuid.uuid4())},
        timeout=15,
    )
    if created.status_code != 201:
        tally.error("manage", f"create {created.status_code} {created.text}")
        return
    tally.ok("manage")
    body = created.json()
    cred = Credential(world.tenant, body["client_id"], body["client_secret"])
    answer = get_token(http, world, cred)
    tally.expect("token", answer.status_code == 200, f"new client {answer.text}")
    path = f"{api}/clients/{cred.client_id}"
    method, url = [
        ("POST", f"{path}/rotate-secret"),
        ("POST", f"{path}/revoke"),
        ("DELETE", path),
    ][round_no % 3]
    answer = http.request(method, url, headers=headers, timeout=15)
    if answer.status_code == expect[method]:
        tally.ok("manage")
    else:
        tally.error("manage", f"{method} {answer.status_code} {answer.text}")
    if round_no % 5:
        return
    made = http.post(
        f"{api}/api-keys", json={"name": f"soak key {round_no}"}, headers=headers, timeout=15
    )
    if made.status_code != 201:
        tally.error("manage", f"api key {made.status_code} {made.text}")
        return
    tally.ok("manage")
    key = made.json()
    checked = http.post(
        f"{world.base}/realms/{world.tenant}/api-keys/verify",
        json={"key": key["key"]},
        auth=(world.verifier.client_id, world.verifier.secret),
        timeout=15,
    )
    if checked.status_code == 200 and checked.json().get("valid") is True:
        tally.ok("verify")
    else:
        tally.error("verify", f"new key {checked.status_code} {checked.text}")
    revoked = http.post(f"{api}/api-keys/{key['id']}/revoke", headers=headers, timeout=15)
    tally.expect("manage", revoked.status_code == 200, f"revoke key {revoked.text}")


def run(
    cluster: Cluster,
    *,
    duration: float,
    token_threads: int = 2,
    verify_threads: int = 1,
    write_pause: float = 0.2,
    sample_every: float = 5.0,
    warmup: float = 0.2,
    max_growth_mib: float = 16.0,
) -> dict[str, Any]:
    """Run the mixed load on ``cluster`` and return the figures; ``figures["passed"]`` says."""
    world = setup(cluster)
    tally = Tally()
    stop = threading.Event()
    workers = [
        *(
            threading.Thread(target=token_worker, args=(world, tally, stop))
            for _ in range(token_threads)
        ),
        *(
            threading.Thread(target=verify_worker, args=(world, tally, stop))
            for _ in range(verify_threads)
        ),
        threading.Thread(target=management_worker, args=(world, tally, stop, write_pause)),
    ]
    samples: list[dict[str, Any]] = []
    started = time.monotonic()
    for worker in workers:
        worker.start()
    try:
        while (elapsed := time.monotonic() - started) < duration:
            samples.append({"t": round(elapsed, 1), **{n.name: n.rss_kib() for n in cluster.nodes}})
            time.sleep(min(sample_every, max(0.0, duration - elapsed)))
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    elapsed = time.monotonic() - started
    samples.append({"t": round(elapsed, 1), **{n.name: n.rss_kib() for n in cluster.nodes}})
    settled = max(20.0, warmup * duration)
    baseline = next((s for s in samples if s["t"] >= settled), samples[-1])
    memory = {}
    for node in cluster.nodes:
        values = [s[node.name] for s in samples]
        memory[node.name] = {
            "start_mib": round(values[0] / MIB, 1),
            "after_warmup_mib": round(baseline[node.name] / MIB, 1),
            "end_mib": round(values[-1] / MIB, 1),
            "peak_mib": round(max(values) / MIB, 1),
            "growth_after_warmup_mib": round((values[-1] - baseline[node.name]) / MIB, 1),
        }
    requests_total = sum(tally.counts.values())
    errors = sum(tally.errors.values())
    grown = {n: m for n, m in memory.items() if m["growth_after_warmup_mib"] > max_growth_mib}
    return {
        "passed": errors == 0 and not grown,
        "duration_s": round(elapsed, 1),
        "nodes": len(cluster.nodes),
        "requests": requests_total,
        "requests_per_s": round(requests_total / elapsed, 1),
        "by_kind": dict(tally.counts),
        "errors": errors,
        "error_kinds": dict(tally.errors),
        "error_examples": tally.examples,
        "memory": memory,
        "memory_bound": f"RSS growth after {settled:.0f} s of warm-up <= {max_growth_mib} MiB",
        "over_memory_bound": sorted(grown),
        "rss_samples_kib": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--token-threads", type=int, default=2)
    parser.add_argument("--verify-threads", type=int, default=1)
    parser.add_argument("--write-pause", type=float, default=0.2, help="seconds between writes")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run")
    parser.add_argument("--max-growth-mib", type=float, default=16.0)
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    cluster = Cluster(size=args.nodes)
    try:
        cluster.start()
        figures = run(
            cluster,
            duration=args.duration,
            token_threads=args.token_threads,
            verify_threads=args.verify_threads,
            write_pause=args.write_pause,
            sample_every=args.sample,
            warmup=args.warmup,
            max_growth_mib=args.max_growth_mib,
        )
    finally:
        cluster.cleanup()
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(figures, indent=2) + "\n")
    summary = {k: v for k, v in figures.items() if k != "rss_samples_kib"}
    print(json.dumps(summary, indent=2))
    print(f"soak {'passed' if figures['passed'] else 'FAILED'}; report: {args.report}")
    return 0 if figures["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
