"""client uid: an identity of each OAuth client that is never reused

A client ID can be chosen, so deleting a client and creating another with the same ID would
make the old one's tokens and idempotency records the new one's. Every client gets a random
128-bit ``uid`` (existing clients too, here) that access tokens and idempotency records carry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 20:40:00.000000

"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

clients = sa.table("oauth_clients", sa.column("id", sa.Integer()), sa.column("uid", sa.String()))


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    for (pk,) in connection.execute(sa.select(clients.c.id)).all():
        connection.execute(
            clients.update().where(clients.c.id == pk).values(uid=secrets.token_hex(16))
        )
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_oauth_clients_uid"), ["uid"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_oauth_clients_uid"), type_="unique")
        batch_op.drop_column("uid")
