"""the security log: sign-ins, session ends, account and configuration changes (issue #11
item 6). Append-only: the code only inserts and reads.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'security_log',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=100), nullable=False, server_default=''),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('client', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('detail', sa.Text(), nullable=False, server_default='{}'),
    )
    op.create_index('ix_security_log_at', 'security_log', ['at'])
    op.create_index('ix_security_log_kind_at', 'security_log', ['kind', 'at'])


def downgrade() -> None:
    op.drop_index('ix_security_log_kind_at', table_name='security_log')
    op.drop_index('ix_security_log_at', table_name='security_log')
    op.drop_table('security_log')
