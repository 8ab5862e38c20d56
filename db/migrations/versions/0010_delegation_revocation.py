"""delegations: who named the deputy and when, and their revocation (issue #11)

Nothing is deleted: a revoked delegation keeps its row, with who ended it and when.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delegations') as t:
        t.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))
        t.add_column(sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_delegations_created_by'), nullable=True))
        t.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))
        t.add_column(sa.Column('revoked_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_delegations_revoked_by'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('delegations') as t:
        for name in ('revoked_by_id', 'revoked_at', 'created_by_id', 'created_at'):
            t.drop_column(name)
