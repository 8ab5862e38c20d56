"""payments: compensation instalments with date, amount, method and voucher (issue #12)

A compensation recorded as paid before this migration stays done; it has no instalment rows.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'payments',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False),
        sa.Column('disposition_id', sa.Integer(), sa.ForeignKey('dispositions.id'),
                  nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('amount', sa.Numeric(14, 2), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('voucher', sa.String(length=100), nullable=False),
        sa.Column('by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_payments_complaint_id', 'payments', ['complaint_id'])
    op.create_index('ix_payments_disposition_id', 'payments', ['disposition_id'])


def downgrade() -> None:
    op.drop_index('ix_payments_disposition_id', table_name='payments')
    op.drop_index('ix_payments_complaint_id', table_name='payments')
    op.drop_table('payments')
