"""Authorization server metadata (RFC 8414) and OpenID Connect discovery documents."""

from __future__ import annotations

import json

from gatepass.cache.entries import TenantEntry
from gatepass.oauth.claims import IGNORED_SCOPES
from gatepass.oauth.exchange import GRANT_TYPE as EXCHANGE
from gatepass.oauth.token import GRANT_TYPES
from gatepass.publickeys.jwk import SUPPORTED

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
SIGNING_ALGS = list(SUPPORTED)  # of client assertions (RFC 8414 §2)


def metadata(tenant: TenantEntry) -> bytes:
    base = f"{tenant.issuer}/protocol/openid-connect"
    document = {
        "issuer": tenant.issuer,
        "token_endpoint": f"{base}/token",
        "introspection_endpoint": f"{base}/token/introspect",
        "revocation_endpoint": f"{base}/revoke",
        "jwks_uri": f"{base}/certs",
        "grant_types_supported": list(GRANT_TYPES)
        + ([EXCHANGE] if tenant.token_exchange_lifetime is not None else []),
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "scopes_supported": sorted(tenant.available_scopes | IGNORED_SCOPES),
        "access_token_signing_alg_values_supported": [tenant.signing_alg],
        "subject_types_supported": ["public"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "nbf",
            "jti",
            "client_id",
            "scope",
            "groups",
        ],
        "dpop_signing_alg_values_supported": SIGNING_ALGS,  # RFC 9449 §5.1
        "api_keys_verify_endpoint": f"{tenant.issuer}/api-keys/verify",
    }
    return json.dumps(document).encode()
