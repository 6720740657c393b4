"""client secret digest index: a reported leaked client secret is found by its keyed hash

A client's secret was only ever looked up through its client ID; a leak report names the secret
alone, so its keyed hash needs an index (as an API key's already has, through its unique
constraint).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:10:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_secrets_digest"), ["digest"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("client_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_secrets_digest"))
