"""A tenant: one customer organisation, its own token issuer (Keycloak calls it a realm)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, false
from sqlalchemy.orm import Mapped, mapped_column

from gatepass.db import Base, utcnow


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    token_lifetime: Mapped[int] = mapped_column(default=600)
    audience: Mapped[str] = mapped_column(String(500))
    allowed_audiences: Mapped[list[str]] = mapped_column(JSON, default=list)
    signing_alg: Mapped[str] = mapped_column(String(10), default="ES256")
    # What its credentials must be (``credentials.policy.CredentialPolicy.stored()``)
    credential_policy: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # The external issuers whose tokens its clients' federation rules may trust
    # (``gatepass.federation.checked_issuers``)
    trusted_issuers: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # Whether a DPoP proof must carry a server nonce (RFC 9449 §8, ``oauth.dpop.Nonces``)
    require_dpop_nonce: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Token exchange (RFC 8693, ``oauth.exchange``): the longest an exchanged token may live, in
    # seconds; None: exchange is off
    token_exchange_lifetime: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
