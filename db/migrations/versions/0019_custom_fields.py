"""custom fields: a factory's own typed fields on its complaints and the cases' values
(issue #12 item 9)

Two new tables; no existing row changes. A field is never deleted (removed = inactive), so
its values stay.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'custom_fields',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('key', sa.String(length=40), nullable=False, unique=True),
        sa.Column('label_zh', sa.String(length=100), nullable=False),
        sa.Column('label_en', sa.String(length=100), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('options', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=True),
        sa.Column('required_from', sa.String(length=30), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
    )
    op.create_table(
        'custom_values',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False),
        sa.Column('field_id', sa.Integer(), sa.ForeignKey('custom_fields.id'), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
    )
    op.create_index('ux_custom_values_case_field', 'custom_values', ['complaint_id', 'field_id'],
                    unique=True)
    op.create_index('ix_custom_values_field_id', 'custom_values', ['field_id'])


def downgrade() -> None:
    op.drop_index('ix_custom_values_field_id', table_name='custom_values')
    op.drop_index('ux_custom_values_case_field', table_name='custom_values')
    op.drop_table('custom_values')
    op.drop_table('custom_fields')
