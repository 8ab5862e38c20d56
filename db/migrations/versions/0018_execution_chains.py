"""execution chains: the recorded steps of a rework, a replacement or a return (issue #12)

One row per step recorded (goods received, rework plan, purchase, rework, inspection, the
customer's re-inspection; manufacturing order, shipment; return received, sorting), with
its values as JSON. Dispositions are not touched: one executed before this migration stays
done, without chain rows. Which steps a chain has is a setting (core/rules/chains.py
DEFAULT_SETTINGS until an administrator changes it).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chain_steps',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False),
        sa.Column('disposition_id', sa.Integer(), sa.ForeignKey('dispositions.id'),
                  nullable=False),
        sa.Column('step', sa.String(length=30), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_chain_steps_complaint_id', 'chain_steps', ['complaint_id'])
    op.create_index('ix_chain_steps_disposition_id', 'chain_steps', ['disposition_id'])


def downgrade() -> None:
    op.drop_index('ix_chain_steps_disposition_id', table_name='chain_steps')
    op.drop_index('ix_chain_steps_complaint_id', table_name='chain_steps')
    op.drop_table('chain_steps')
