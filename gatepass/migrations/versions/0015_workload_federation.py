"""workload identity federation: a tenant's trusted issuers, a client's federation rules; a
tenant may require DPoP nonces and allow token exchange

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 08:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trusted_issuers", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("require_dpop_nonce", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("token_exchange_lifetime", sa.Integer(), nullable=True))
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("federation", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("federation")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("token_exchange_lifetime")
        batch_op.drop_column("require_dpop_nonce")
        batch_op.drop_column("trusted_issuers")
