"""sign-in delays instead of a lock, forced password change after a reset (issue #11 item 4)

login_counters: failures per account name and per client address (core/rules/logins.py),
updated under a row lock. users.must_change_password: set by an administrator's reset.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_counters',
        sa.Column('key', sa.String(length=100), primary_key=True),
        sa.Column('failures', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_at', sa.DateTime(), nullable=True),
    )
    with op.batch_alter_table('users') as t:
        t.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                               server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users') as t:
        t.drop_column('must_change_password')
    op.drop_table('login_counters')
