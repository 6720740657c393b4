"""client keys: a public JWKS per OAuth client, and the assertions already used

A client with keys authenticates with ``private_key_jwt`` (RFC 7523 §2.2) instead of a secret;
the ``jti`` of each assertion it sends is remembered until the assertion expires, in
``used_client_assertions`` when no Redis is configured.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jwks", sa.Text(), nullable=True))
    op.create_table(
        "used_client_assertions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_used_client_assertions_client_pk_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_used_client_assertions")),
        sa.UniqueConstraint("client_pk", "jti", name=op.f("uq_used_client_assertions_client_pk")),
    )
    op.create_index(
        op.f("ix_used_client_assertions_expires_at"),
        "used_client_assertions",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_used_client_assertions_expires_at"), table_name="used_client_assertions")
    op.drop_table("used_client_assertions")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("jwks")
