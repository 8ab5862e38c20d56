"""My Tasks' indexes: the first waiting cases of a state in a worklist's order (issue #14)

My Tasks lists the first 200 tasks, most urgent first (decision 0014): it reads each state's
waiting cases by due time, by received time or last changed first, and stops when no case left
could come before the 200th task. These indexes start with the state, so each read walks the
index in that order and stops, instead of reading and sorting every case of the state. Only
indexes: no row changes.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_complaints_tasks_due': ['state', 'due_at', 'received_at', 'id'],
    'ix_complaints_tasks_received': ['state', 'received_at', 'id'],
    'ix_complaints_tasks_updated': ['state', 'updated_at', 'id'],
}


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
