"""audit count: repeated failures aggregate into one row

A flood of failed calls wrote one audit row per request. Failures are now counted in one row
per (tenant, source address, action, reason, minute): ``count`` says how many, and the unique
``aggregate_key`` (null for every other event) lets concurrent writers add to the same row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 03:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("aggregate_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_audit_events_aggregate_key"), ["aggregate_key"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_aggregate_key"), type_="unique")
        batch_op.drop_column("aggregate_key")
        batch_op.drop_column("count")
