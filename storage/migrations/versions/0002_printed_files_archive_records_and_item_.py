"""printed files, archive records and item counters

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_counters",
        sa.Column("fonds", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("retention", sa.String(), nullable=False),
        sa.Column("last_item", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("fonds", "year", "retention"),
    )
    op.create_table(
        "archive_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("archive_code", sa.String(), nullable=False),
        sa.Column("fonds", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("retention", sa.String(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(), nullable=False),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("manifest_sha256", sa.String(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id"),
        sa.UniqueConstraint("fonds", "year", "retention", "item_no", name="uq_archive_item"),
    )
    with op.batch_alter_table("archive_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_records_archive_code"), ["archive_code"], unique=True)
        batch_op.create_index(batch_op.f("ix_archive_records_year"), ["year"], unique=False)

    op.create_table(
        "printed_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "name"),
    )
    with op.batch_alter_table("printed_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_printed_files_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("printed_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_printed_files_document_id"))

    op.drop_table("printed_files")
    with op.batch_alter_table("archive_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_records_year"))
        batch_op.drop_index(batch_op.f("ix_archive_records_archive_code"))

    op.drop_table("archive_records")
    op.drop_table("item_counters")
