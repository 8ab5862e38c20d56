"""Stats: two covering indexes for the figures of open cases (issue #14, decision 0016)

`ix_complaints_stats_open` (state, received_at, due_at, on_hold_since, severity,
severity_proposed) serves the ageing of the open cases and "overdue now";
`ix_complaints_stats_unclosed` (closed_at, state, received_at, due_at) serves "overdue at the
same moment of the period before" (the cases not closed, and those closed since). Both are read
without the case rows. Only indexes: no row changes.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_stats_open',
                              ['state', 'received_at', 'due_at', 'on_hold_since', 'severity',
                               'severity_proposed'], unique=False)
        batch_op.create_index('ix_complaints_stats_unclosed',
                              ['closed_at', 'state', 'received_at', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_stats_unclosed')
        batch_op.drop_index('ix_complaints_stats_open')
