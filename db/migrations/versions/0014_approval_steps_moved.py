"""approval_steps: the titles a step stands for when it moved up, and why (issue #12)

A step whose title only the proposer (or nobody active) holds goes to the next title someone
else holds; existing steps moved nowhere and keep empty values.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('approval_steps') as t:
        t.add_column(sa.Column('moved_from', sa.String(length=200), nullable=False,
                               server_default=''))
        t.add_column(sa.Column('moved_why', sa.String(length=20), nullable=False,
                               server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('approval_steps') as t:
        t.drop_column('moved_why')
        t.drop_column('moved_from')
