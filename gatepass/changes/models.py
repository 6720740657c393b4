"""The change feed: one row per change that running processes must pick up.

Every process polls it (a single indexed range query) and drops what changed from its
in-memory caches, so a revoke made anywhere is honoured everywhere within a poll interval.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gatepass.db import Base, utcnow


class Change(Base):
    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    tenant_id: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
