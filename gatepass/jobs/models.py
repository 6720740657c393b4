"""One lease row per job: who runs it now (until when), and how its last run went."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gatepass.db import Base


class JobLease(Base):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")  # "": nobody runs it
    expires_at: Mapped[datetime]  # the holder's run ends by then, or the lease is free again
    last_run_at: Mapped[datetime | None] = mapped_column(default=None)
    last_result: Mapped[str] = mapped_column(String(200), default="")
