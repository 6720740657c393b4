"""Recording revoked access tokens (RFC 7009) so every process stops honouring them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from gatepass.changes import feed
from gatepass.db import Database
from gatepass.tokens.models import RevokedToken


def revoke_token(db: Database, tenant_id: int, client_id: str, jti: str, expires: float) -> None:
    with db.transaction() as session:
        if session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None:
            return
        session.add(
            RevokedToken(
                jti=jti,
                tenant_id=tenant_id,
                client_id=client_id,
                expires_at=datetime.fromtimestamp(expires, tz=UTC),
            )
        )
        feed.publish(session, tenant_id, feed.KIND_TOKEN, jti)
