"""login sessions kept on the server (docs/procedure.md §11, issue #11)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op



revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sessions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('end_reason', sa.String(length=20), nullable=False, server_default=''),
        sa.Column('client', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('agent', sa.String(length=200), nullable=False, server_default=''),
    )
    op.create_index('ix_sessions_user', 'sessions', ['user_id', 'ended_at'])


def downgrade() -> None:
    op.drop_index('ix_sessions_user', table_name='sessions')
    op.drop_table('sessions')
