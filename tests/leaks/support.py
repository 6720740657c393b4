"""Leak reports as GitHub sends them: signed with an ECDSA P-256 key made for the test."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.audit.models import AuditEvent
from gatepass.leaks import signed
from gatepass.settings import Settings
from tests.factories import Factory

GITHUB_PATH = "/api/v1/leaks/github"
REPORT_PATH = "/api/v1/leaks/report"
REPORT_SECRET = "a shared secret of the scanner and the operator, 32+"


@dataclass(frozen=True)
class GitHubSigner:
    """A key GitHub might sign with, and its entry in GitHub's public keys document."""

    key_id: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def entry(self) -> dict[str, Any]:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"key_identifier": self.key_id, "key": pem.decode(), "is_current": True}

    def headers(self, body: bytes) -> dict[str, str]:
        signature = self.key.sign(body, ec.ECDSA(hashes.SHA256()))
        return {
            "Github-Public-Key-Identifier": self.key_id,
            "Github-Public-Key-Signature": base64.b64encode(signature).decode(),
            "Content-Type": "application/json",
        }


def keys_document(*signers: GitHubSigner) -> str:
    return json.dumps({"public_keys": [s.entry() for s in signers]})


def report(*tokens: str, url: str = "https://github.com/octo/app/blob/abc/config.py#L3") -> bytes:
    items = [
        {"token": t, "type": "gatepass_secret", "url": url, "source": "content"} for t in tokens
    ]
    return json.dumps(items).encode()


def post_github(http: TestClient, signer: GitHubSigner, body: bytes) -> httpx2.Response:
    return http.post(GITHUB_PATH, content=body, headers=signer.headers(body))


def post_report(
    http: TestClient, body: bytes, *, secret: str = REPORT_SECRET, at: float | None = None
) -> httpx2.Response:
    header = signed.sign(secret.encode(), body, int(time.time() if at is None else at))
    headers = {signed.HEADER: header, "Content-Type": "application/json"}
    return http.post(REPORT_PATH, content=body, headers=headers)


def labels(response: httpx2.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["label"] for item in response.json()]


@contextmanager
def app_client(settings: Settings, **changes: Any) -> Iterator[TestClient]:
    """The real app on ``settings`` with ``changes``, over HTTP in process."""
    changed = settings.model_copy(update=changes)
    with TestClient(create_app(changed), base_url="http://testserver") as http:
        yield http


def audit_of(factory: Factory, action: str) -> list[AuditEvent]:
    with factory.db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def stored_text(factory: Factory) -> str:
    """Every audit record, as text: to look for a secret in."""
    with factory.db.read() as session:
        rows = session.scalars(select(AuditEvent)).all()
        return "\n".join(json.dumps([r.action, r.actor, r.target, r.details]) for r in rows)
