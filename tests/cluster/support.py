"""Helpers of the cluster tests: bounded background load, propagation timing, reports."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.factories import Credential

REPORTS = Path(__file__).resolve().parents[2] / "artifacts" / "cluster"
GIVE_UP_AFTER = 5.0  # seconds: keep measuring past the 1 s limit, so a slow result has a figure


def report(name: str, figures: dict[str, Any]) -> None:
    """Write the figures of one test to artifacts/cluster/<name>.json and print them (-s)."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\n[cluster] {name}: {json.dumps(figures, sort_keys=True)}")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token(http: requests.Session, base: str, cred: Credential, **form: str) -> requests.Response:
    return http.post(
        f"{base}/realms/{cred.tenant}/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", **form},
        auth=(cred.client_id, cred.secret),
        timeout=10,
    )


def access_token(base: str, cred: Credential, **form: str) -> str:
    with requests.Session() as http:
        answer = token(http, base, cred, **form)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["access_token"]
    return value


def issuer(base: str, tenant: str) -> str:
    answer = requests.get(f"{base}/realms/{tenant}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["issuer"]
    return value


def introspect(http: requests.Session, base: str, caller: Credential, value: str) -> bool:
    answer = http.post(
        f"{base}/realms/{caller.tenant}/protocol/openid-connect/token/introspect",
        data={"token": value},
        auth=(caller.client_id, caller.secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["active"])


def verify_key(http: requests.Session, base: str, caller: Credential, key: str) -> dict[str, Any]:
    answer = http.post(
        f"{base}/realms/{caller.tenant}/api-keys/verify",
        json={"key": key},
        auth=(caller.client_id, caller.secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@dataclass
class Admin:
    """A management-API caller: an admin client's access token."""

    tenant: str
    bearer: str

    @classmethod
    def of(cls, base: str, cred: Credential) -> Admin:
        # The management API takes tokens for Gatepass's own audience: the tenant's issuer.
        return cls(
            cred.tenant,
            access_token(base, cred, scope="tenant:admin", resource=issuer(base, cred.tenant)),
        )

    def call(
        self, base: str, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"authorization": f"Bearer {self.bearer}"}
        if key is not None:
            headers["idempotency-key"] = key
        return requests.request(
            method,
            f"{base}/api/v1/realms/{self.tenant}{path}",
            headers=headers,
            timeout=15,
            **kwargs,
        )


def propagation(
    nodes: dict[str, str], check: Callable[[requests.Session, str], bool], since: float
) -> dict[str, float | None]:
    """Seconds after ``since`` (a monotonic time) until ``check(http, base_url)`` holds on each
    node (name: base URL), checked from one thread per node; ``None`` where it never held in 5 s.
    """
    seen: dict[str, float | None] = {}

    def watch(name: str, base: str) -> None:
        with requests.Session() as http:
            while time.monotonic() - since < GIVE_UP_AFTER:
                if check(http, base):
                    seen[name] = round(time.monotonic() - since, 4)
                    return
                time.sleep(0.002)
        seen[name] = None

    threads = [threading.Thread(target=watch, args=item) for item in nodes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: seen.get(name) for name in nodes}


@dataclass
class Outcome:
    at: float  # seconds since the load started
    result: str  # an HTTP status, or the name of the exception


@dataclass
class Load:
    """``threads`` threads calling ``work`` in a loop until stopped or ``limit`` seconds pass.

    ``work`` returns what happened (an HTTP status as text, usually); exceptions are recorded
    by name. The load always ends by itself.
    """

    work: Callable[[requests.Session], str]
    threads: int = 3
    limit: float = 30.0
    pause: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self.started = 0.0

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        self._workers = [threading.Thread(target=self._run) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def now(self) -> float:
        return time.monotonic() - self.started

    def _run(self) -> None:
        with requests.Session() as http:
            while not self._stop.is_set() and self.now() < self.limit:
                try:
                    result = self.work(http)
                except requests.RequestException as exc:
                    result = type(exc).__name__
                with self._lock:
                    self.outcomes.append(Outcome(self.now(), result))
                if self.pause:
                    self._stop.wait(self.pause)

    def tally(self, start: float = 0.0, end: float = float("inf")) -> dict[str, int]:
        with self._lock:
            return dict(Counter(o.result for o in self.outcomes if start <= o.at < end))
