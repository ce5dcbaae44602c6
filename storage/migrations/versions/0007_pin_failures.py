"""pin_failures: the wrong PINs given per person, and the PIN locks they started (storage.pin_lockout)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pin_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_pin_failures_name", "pin_failures", ["name"])


def downgrade() -> None:
    op.drop_index("ix_pin_failures_name", table_name="pin_failures")
    op.drop_table("pin_failures")
