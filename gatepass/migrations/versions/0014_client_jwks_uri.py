"""client jwks_uri: a client's public keys may be published at a URL instead of stored

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 01:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jwks_uri", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("jwks_uri")
