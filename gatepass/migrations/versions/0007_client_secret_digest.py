"""client secret digest: one column name for the keyed hash of every kind of secret

OAuth client secrets stored their keyed hash as ``secret_hash`` and API keys as ``digest``,
the same value under two names. The column is renamed; the stored hashes are kept as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.alter_column("secret_hash", new_column_name="digest")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.alter_column("digest", new_column_name="secret_hash")
