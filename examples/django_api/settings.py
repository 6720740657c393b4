"""Settings of the Django example, protected by ``gatepass_sdk.django``.

Start it against a running Gatepass (see ``examples/README.md``)::

    GATEPASS_ISSUER=http://127.0.0.1:8080/realms/demo \\
    GATEPASS_VERIFY_CLIENT_ID=... GATEPASS_VERIFY_CLIENT_SECRET=... \\
    .venv/bin/python -m django runserver 8000 --settings examples.django_api.settings

No database: callers are Gatepass credentials, not Django users.
"""

from __future__ import annotations

import os
import secrets

_client = (
    os.environ.get("GATEPASS_VERIFY_CLIENT_ID"),
    os.environ.get("GATEPASS_VERIFY_CLIENT_SECRET"),
)

GATEPASS = {
    "ISSUER": os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8080/realms/demo"),
    "AUDIENCE": os.environ.get("GATEPASS_AUDIENCE", "api://demo"),
    "VERIFY_CLIENT": _client if all(_client) else None,
    "REALM": "platform-api",
}

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(32)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "examples.django_api.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    # Checks every request's credential, sets request.gatepass_caller, removes ?apikey=.
    "gatepass_sdk.django.middleware.GatepassMiddleware",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["gatepass_sdk.django.rest_framework.GatepassAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["gatepass_sdk.django.rest_framework.HasGatepassCredential"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
