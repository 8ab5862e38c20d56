"""due times: the earliest due time of a case's open steps (docs/procedure.md §7)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('due_step', sa.String(length=30), nullable=False,
                                      server_default=''))
        batch_op.create_index('ix_complaints_due_at', ['due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_due_at')
        batch_op.drop_column('due_step')
        batch_op.drop_column('due_at')
