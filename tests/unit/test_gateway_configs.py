"""The documented Traefik and Envoy configurations (``docs/gateways/``) against the gateway check's
own routing and parsing: no Traefik or Envoy runs here, so what each file makes the gateway send
is rebuilt from the file and handed to the check's parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from gatepass.oauth import gateway
from gatepass.oauth.asgi import route

DOCS = Path(__file__).resolve().parents[2] / "docs" / "gateways"
IDENTITY = {name.decode() for name, _ in gateway.Identity("s", "api_key", (), ()).headers()} - {
    "cache-control"
}
KEY = "gp_live_key"


def _load(name: str) -> Any:
    return yaml.safe_load((DOCS / name).read_text())


def _find(tree: Any, key: str) -> Any:
    """The first value under ``key`` anywhere in a parsed YAML document."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = _find(item, key)
            if found is not None:
                return found
    return None


def test_each_traefik_middleware_reaches_the_check_with_its_permissions() -> None:
    middlewares = _load("traefik.yml")["http"]["middlewares"]
    needs = {}
    for name, middleware in middlewares.items():
        forward = middleware["forwardAuth"]
        address = urlsplit(forward["address"])
        assert route(address.path) == ("acme", "gateway"), name
        # Traefik sends the original request's URI in X-Forwarded-Uri.
        headers = [(b"x-forwarded-uri", f"/runs/7?apikey={KEY}".encode())]
        request = gateway.parse(headers, "", address.query.encode())
        assert request.credential == gateway.Credential("api_key", KEY)
        needs[name] = request.needs.permissions
        assert {h.lower() for h in forward["authResponseHeaders"]} == IDENTITY, name
    assert needs == {"gatepass-nql": ("nql",), "gatepass-reports": ("nql", "workflows")}


def test_envoy_appends_the_original_path_and_says_what_the_route_needs() -> None:
    service = _find(_load("envoy.yaml"), "http_service")
    prefix = service["path_prefix"]
    original = f"/runs/7?permission=campaigns&apikey={KEY}"  # the caller's own query
    path, _, query = (prefix + original).partition("?")
    slug, endpoint = route(path) or ("", "")
    assert (slug, endpoint) == ("acme", "gateway")
    added = [
        (h["key"].lower().encode(), h["value"].encode())
        for h in service["authorization_request"]["headers_to_add"]
    ]

    request = gateway.parse(added, path[len(f"/realms/{slug}/{gateway.PATH}") :], query.encode())

    assert request.credential == gateway.Credential("api_key", KEY)
    assert request.needs.permissions == ("nql",)  # not the caller's "campaigns"
    allowed = service["authorization_request"]["allowed_headers"]["patterns"]
    assert {p["exact"] for p in allowed} >= {
        "authorization",
        "authorization-psk",
        "x-api-key",
        "x-forwarded-for",
    }
    # The caller's address reaches the check (for IP allowlists): Envoy appends it.
    assert _find(_load("envoy.yaml"), "use_remote_address") is True
    upstream = service["authorization_response"]["allowed_upstream_headers"]["patterns"]
    assert all(any(name.startswith(p["prefix"]) for p in upstream) for name in IDENTITY)
    client = service["authorization_response"]["allowed_client_headers"]["patterns"]
    assert {p["exact"] for p in client} == {"www-authenticate", "retry-after"}
