"""customers: the sales department that looks after each (record-level visibility, issue #11)

Existing customers keep no department: with the setting `record_visibility` off (the
default) nothing changes; an administrator assigns departments before switching it on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as t:
        t.add_column(sa.Column('department_id', sa.Integer(),
                               sa.ForeignKey('departments.id', name='fk_customers_department'),
                               nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers') as t:
        t.drop_column('department_id')
