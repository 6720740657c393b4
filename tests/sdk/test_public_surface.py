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
    probe = (
        "import sys, gatepass_sdk\n"
        "heavy = {'gatepass', 'fastapi', 'sqlalchemy', 'pydantic', 'structlog'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],  # the repository: gatepass_sdk is importable
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "[]"
