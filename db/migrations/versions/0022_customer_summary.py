"""the reply letter: a customer-facing summary, the edited letter, English names (issue #13)

Complaints: `customer_summary` (what the reply letter tells the customer of the cause, written
by QA; the internal root cause never goes out unreviewed), `letter_text` and `letter_lang` (the
reply letter as last edited before its PDF). Products: `name_en`; users: `display_name_en`
(the English reply letter's product and signer names). Every existing row gets "": no summary
(its letter says the findings are pending), the generated letter, no English name (the letter
falls back as before).

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints') as t:
        t.add_column(sa.Column('customer_summary', sa.Text(), nullable=False, server_default=''))
        t.add_column(sa.Column('letter_text', sa.Text(), nullable=False, server_default=''))
        t.add_column(sa.Column('letter_lang', sa.String(length=5), nullable=False,
                               server_default=''))
    with op.batch_alter_table('products') as t:
        t.add_column(sa.Column('name_en', sa.String(length=200), nullable=False,
                               server_default=''))
    with op.batch_alter_table('users') as t:
        t.add_column(sa.Column('display_name_en', sa.String(length=100), nullable=False,
                               server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('users') as t:
        t.drop_column('display_name_en')
    with op.batch_alter_table('products') as t:
        t.drop_column('name_en')
    with op.batch_alter_table('complaints') as t:
        t.drop_column('letter_lang')
        t.drop_column('letter_text')
        t.drop_column('customer_summary')
