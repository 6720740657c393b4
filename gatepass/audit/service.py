"""Writing audit events, always inside the transaction of the change they describe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gatepass.audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a console user, an OAuth client, or an operator at the CLI."""

    kind: str
    id: str
    source_ip: str = ""
    user_agent: str = ""

    @classmethod
    def cli(cls) -> Actor:
        return cls(kind="operator", id="cli")

    @property
    def label(self) -> str:
        return self.id if self.kind != "operator" else "operator (cli)"


def record(
    session: Session,
    *,
    tenant_id: int | None,
    actor: Actor,
    action: str,
    target_type: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            tenant_id=tenant_id,
            actor_type=actor.kind,
            actor=actor.id,
            action=action,
            target_type=target_type,
            target=target,
            source_ip=actor.source_ip[:64],
            user_agent=actor.user_agent[:400],
            details=details or {},
        )
    )
