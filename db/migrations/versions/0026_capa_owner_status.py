"""My open CAPA actions by an index: (owner_id, status) instead of owner_id alone (issue #14)

My Tasks reads the open CAPA actions of the user (`owner_id = ? AND status = 'open'`) on every
list it makes. Along the owner index alone that walked every action the user ever owned — 76,931
for QA in the 100,000-case synthetic data, to find 1,702 open ones. The composite index serves
both that and every lookup by owner alone, so it replaces the owner index. Only indexes: no row
changes.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('capa_actions', schema=None) as batch_op:
        batch_op.create_index('ix_capa_actions_owner_status', ['owner_id', 'status'],
                              unique=False)
        batch_op.drop_index('ix_capa_actions_owner_id')


def downgrade() -> None:
    with op.batch_alter_table('capa_actions', schema=None) as batch_op:
        batch_op.create_index('ix_capa_actions_owner_id', ['owner_id'], unique=False)
        batch_op.drop_index('ix_capa_actions_owner_status')
