"""decisions.content_sha256 / content_sm3 (签发内容 digests), deliveries.attached_sha256 (what 核发 attached)

Existing 签发 decisions keep NULL digests: they were signed before the content was recorded
(早期签发), and 登记, 印制 and 归档 record them as such instead of checking them (models.signed_content).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("content_sha256", sa.String(), nullable=True))
        batch.add_column(sa.Column("content_sm3", sa.String(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("attached_sha256", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("attached_sha256")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("content_sm3")
        batch.drop_column("content_sha256")
