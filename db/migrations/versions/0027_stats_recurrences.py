"""Stats recurrences kept per case (issue #14, decision 0016)

A new table `stats_recurrences`: each case that counts in Stats' recurrences (not cancelled,
with a product and a defect type), its issue, when it was received and how many cases of its
issue were received in the 30 days up to it. Counted here for the existing cases
(db/rollups.py `rebuild_recurrences`; `manage.py rollups --rebuild` does the same later).
Nothing existing changes.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from db import rollups

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stats_recurrences',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('product_code', sa.String(length=100), nullable=False),
        sa.Column('defect_type_id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id']),
        sa.PrimaryKeyConstraint('complaint_id'),
    )
    op.create_index('ix_stats_recurrences_period', 'stats_recurrences',
                    ['received_at', 'n', 'product_code', 'defect_type_id'])
    rollups.rebuild_recurrences(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_stats_recurrences_period', table_name='stats_recurrences')
    op.drop_table('stats_recurrences')
