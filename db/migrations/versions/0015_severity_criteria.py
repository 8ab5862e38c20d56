"""complaints: the safety flag and the reason for a level below the criteria (issue #12)

Existing cases: no safety flag, no reason (they were logged before the suggestion existed).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints') as t:
        t.add_column(sa.Column('safety_risk', sa.Boolean(), nullable=False,
                               server_default=sa.false()))
        t.add_column(sa.Column('severity_note', sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('complaints') as t:
        t.drop_column('severity_note')
        t.drop_column('safety_risk')
