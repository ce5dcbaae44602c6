"""年度宣传工作: work_years, received_plans (收文), plan_reminders (催办), work_reports (工作信息), quarterly_circulars (季度通报)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "work_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("forwarded_on", sa.Date(), nullable=True),
        sa.Column("province_on", sa.Date(), nullable=True),
        sa.Column("national_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "unit", "title", name="uq_work_report"),
    )
    with op.batch_alter_table("work_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_reports_unit"), ["unit"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_reports_year"), ["year"], unique=False)

    op.create_table(
        "quarterly_circulars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("chart", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id"),
        sa.UniqueConstraint("year", "quarter", name="uq_quarterly_circular"),
    )
    op.create_table(
        "work_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("plans_due", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("year"),
        sa.UniqueConstraint("notice_id"),
    )
    op.create_table(
        "plan_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["year"],
            ["work_years.year"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_reminders_year"), ["year"], unique=False)

    op.create_table(
        "received_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("registered_by", sa.String(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["year"],
            ["work_years.year"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("year", "sender", name="uq_received_plan_sender"),
        sa.UniqueConstraint("year", "serial", name="uq_received_plan_serial"),
    )
    with op.batch_alter_table("received_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_plans_year"), ["year"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("received_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_plans_year"))

    op.drop_table("received_plans")
    with op.batch_alter_table("plan_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_reminders_year"))

    op.drop_table("plan_reminders")
    op.drop_table("work_years")
    op.drop_table("quarterly_circulars")
    with op.batch_alter_table("work_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_reports_year"))
        batch_op.drop_index(batch_op.f("ix_work_reports_unit"))

    op.drop_table("work_reports")
