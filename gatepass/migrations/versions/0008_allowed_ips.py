"""allowed ips: the IP allowlist of each OAuth client and API key

CIDR ranges a credential may be used from, space-separated; empty (every existing credential)
means from anywhere.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("oauth_clients", "api_keys")


def upgrade() -> None:
    """Upgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("allowed_ips", sa.Text(), server_default="", nullable=False)
            )


def downgrade() -> None:
    """Downgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("allowed_ips")
