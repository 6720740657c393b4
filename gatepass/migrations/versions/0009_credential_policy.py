"""credential policy: what a tenant's OAuth clients and API keys must be

Maximum lifetime, expiry required, a default rate limit for new keys, allowed IP ranges; stored
as one JSON object per tenant. ``{}`` (every existing tenant) is no policy.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credential_policy", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("credential_policy")
