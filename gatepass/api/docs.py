"""The interactive documentation of the management API at ``/docs`` (Swagger UI), self-contained.

Swagger UI's script and styles come from the pinned ``fastapi-offline`` package and are served
from ``/docs/static``: the page works in an air-gapped install and loads nothing from another
origin. Its Content-Security-Policy allows same-origin resources only, and of inline script just
Swagger UI's start-up, by its hash, since the page is built once and never changes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
STATIC_URL = "/docs/static"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def install(app: FastAPI, *, openapi_url: str) -> None:
    """Serve the docs page and Swagger UI's assets on ``app`` (built with ``docs_url=None``)."""
    page = _page(openapi_url)
    headers = {
        "content-security-policy": policy(page),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
    }
    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount(STATIC_URL, StaticFiles(directory=static), name="docs-static")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)


def _page(openapi_url: str) -> bytes:
    html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title="Gatepass API",
        swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_URL}/favicon.png",
        # No badge from the public validator: the page must not call out.
        swagger_ui_parameters={"validatorUrl": None},
    )
    return bytes(html.body)


def policy(page: bytes) -> str:
    """Same-origin only; the page's inline scripts by their SHA-256 (CSP Level 2 hash sources)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self';"
        " img-src 'self' data:; connect-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )
