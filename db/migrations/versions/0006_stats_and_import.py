"""stats and import: working days to close, imported flag, step times, indexes for Stats

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

Existing closed cases get their working days to close from the app on its next start
(Lifecycle.fill_close_days: it needs the working calendar, which lives in settings).
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_wd', sa.Numeric(precision=8, scale=2),
                                      nullable=True))
        batch_op.add_column(sa.Column('imported', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_complaints_closed_at', ['closed_at'], unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_action_at', ['action', 'at'], unique=False)
    op.create_table(
        'step_times',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=30), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=False),
        sa.Column('on_time', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('step_times', schema=None) as batch_op:
        batch_op.create_index('ix_step_times_complaint_id', ['complaint_id'], unique=False)
        batch_op.create_index('ix_step_times_done', ['done_at', 'step'], unique=False)


def downgrade() -> None:
    op.drop_table('step_times')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_action_at')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_closed_at')
        batch_op.drop_column('imported')
        batch_op.drop_column('close_wd')
