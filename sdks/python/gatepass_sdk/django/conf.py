"""The project's Gatepass verifier, from ``settings.GATEPASS``, built once per process::

    GATEPASS = {
        "ISSUER": "https://gatepass.example.com/realms/acme",
        "AUDIENCE": "api://acme",
        "VERIFY_CLIENT": ("platform-api", "gpcs_..."),  # a client holding api_keys:verify
        "REALM": "platform-api",  # the challenge's realm; the audience by default
    }

Any other option of ``GatepassVerifier`` goes in upper case (``"KEY_TTL": 10``). A change of
the setting (``override_settings`` in tests) builds a new verifier on next use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from gatepass_sdk.wsgi import verifier_from_settings

SETTING = "GATEPASS"


@dataclass(frozen=True, slots=True)
class Gatepass:
    verifier: SyncGatepassVerifier
    realm: str


class _Current:
    """The one ``Gatepass`` of the process, built on first use (threads may race for it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Gatepass | None = None

    def get(self) -> Gatepass:
        with self._lock:
            if self._value is None:
                self._value = _from_settings(getattr(settings, SETTING, None))
            return self._value

    def reset(self) -> None:
        with self._lock:
            if self._value is not None:
                self._value.verifier.close()
            self._value = None


_current = _Current()


def gatepass() -> Gatepass:
    """The verifier and realm of this project."""
    return _current.get()


def _from_settings(value: Any) -> Gatepass:
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict with ISSUER and AUDIENCE")
    try:
        verifier = verifier_from_settings(value, source=f"settings.{SETTING}")
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None
    return Gatepass(verifier, str(value.get("REALM") or verifier.audience))


def _setting_changed(*, setting: str, **_: Any) -> None:
    if setting == SETTING:
        _current.reset()


setting_changed.connect(_setting_changed, dispatch_uid="gatepass_sdk.django.conf")
