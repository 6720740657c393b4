"""The SDK's public names are pinned: changing them is a deliberate, reviewed act."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gatepass_sdk
from gatepass_sdk import errors

PUBLIC = [
    "ApiKeyLogFilter",
    "AuthError",
    "Caller",
    "ClientCredentialsAuth",
    "GatepassMiddleware",
    "GatepassVerifier",
    "SyncGatepassVerifier",
    "requires",
]
ERRORS = [
    "AuthError",
    "CredentialsRequiredError",
    "InsufficientScopeError",
    "InvalidRequestError",
    "InvalidTokenError",
    "RateLimitedError",
    "UnavailableError",
]


def test_the_public_names_are_pinned_and_sorted() -> None:
    assert gatepass_sdk.__all__ == PUBLIC == sorted(PUBLIC)
    assert all(getattr(gatepass_sdk, name) is not None for name in PUBLIC)


def test_the_error_classes_are_pinned() -> None:
    assert errors.__all__ == ERRORS == sorted(ERRORS)
    assert all(issubclass(getattr(errors, name), errors.AuthError) for name in ERRORS)


def test_the_sdk_needs_neither_the_server_nor_fastapi() -> None:
    """An API installs the SDK for httpx, PyJWT and Starlette alone."""
    assert imported_along("gatepass_sdk", SERVER | FRAMEWORKS) == "[]"


def test_the_wsgi_verifier_needs_no_web_framework() -> None:
    """``SyncGatepassVerifier`` and the WSGI middleware: neither Starlette, Django nor Flask."""
    modules = "gatepass_sdk.sync_verifier, gatepass_sdk.wsgi"
    assert imported_along(modules, SERVER | FRAMEWORKS | {"starlette"}) == "[]"


def test_each_framework_integration_brings_its_own_framework_only() -> None:
    flask = imported_along("gatepass_sdk.flask", FRAMEWORKS | {"starlette"})
    assert flask == "['flask', 'werkzeug']"
    drf = imported_along("gatepass_sdk.django.rest_framework", FRAMEWORKS | {"starlette"})
    assert drf == "['django', 'rest_framework']"


SERVER = frozenset({"gatepass", "fastapi", "sqlalchemy", "pydantic", "structlog"})
FRAMEWORKS = frozenset({"django", "rest_framework", "flask", "werkzeug"})


def imported_along(modules: str, watched: frozenset[str]) -> str:
    """Which of the ``watched`` top-level packages importing ``modules`` loads."""
    probe = (
        f"import sys, {modules}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(watched)!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],  # the repository: gatepass_sdk is importable
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()
