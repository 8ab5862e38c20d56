"""titles and approval rules as data (issue #12 items 1-2)

- users.title holds the codes of every title a user holds, comma-separated ('' for none;
  'none' becomes ''). The unused approval-level column goes: the authority it was meant to
  express is the title's rank (setting "titles"), and nobody gains or loses a signature.
- departments.head_id: the department's head (部门主任), empty at first.
- setting "titles": the four titles kesu had, with ranks (QA and sales manager 30, general
  manager 50, chairman 60), unless already set.
- approval_rule_sets: version 1 is the approval matrix in force (the setting
  "approval_matrix", or the default), as rules meaning the same: severity A adds the general
  manager, then the rows by total. The old setting stays, unused, as a record.
- approval_steps.or_higher (false) and rule_version (empty: planned before rules existed).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from core.rules import approvals

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as t:
        t.alter_column('title', existing_type=sa.String(30), type_=sa.String(200),
                       existing_nullable=False)
        t.drop_column('approval_level')
    op.execute("UPDATE users SET title = '' WHERE title = 'none'")
    with op.batch_alter_table('departments') as t:
        t.add_column(sa.Column('head_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('approval_steps') as t:
        t.add_column(sa.Column('or_higher', sa.Boolean(), nullable=False,
                               server_default=sa.false()))
        t.add_column(sa.Column('rule_version', sa.Integer(), nullable=True))
    op.create_table(
        'approval_rule_sets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('rules', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
    )
    conn = op.get_bind()
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.Text))
    have = dict(conn.execute(sa.select(settings.c.key, settings.c.value)).all())
    if 'titles' not in have:
        conn.execute(settings.insert().values(
            key='titles', value=json.dumps(approvals.titles_to_json(approvals.DEFAULT_TITLES),
                                           ensure_ascii=False)))
    matrix = json.loads(have['approval_matrix']) if have.get('approval_matrix') else None
    rules = approvals.rules_from_matrix(matrix) if matrix else approvals.DEFAULT_RULES
    sets = sa.table('approval_rule_sets',
                    sa.column('rules', sa.Text), sa.column('created_at', sa.DateTime))
    conn.execute(sets.insert().values(
        rules=json.dumps(approvals.rules_to_json(rules), ensure_ascii=False),
        created_at=datetime.now(timezone.utc).replace(tzinfo=None)))


def downgrade() -> None:
    op.drop_table('approval_rule_sets')
    with op.batch_alter_table('approval_steps') as t:
        t.drop_column('rule_version')
        t.drop_column('or_higher')
    with op.batch_alter_table('departments') as t:
        t.drop_column('head_id')
    op.execute("UPDATE users SET title = 'none' WHERE title = ''")
    with op.batch_alter_table('users') as t:
        t.add_column(sa.Column('approval_level', sa.Integer(), nullable=False,
                               server_default='0'))
        t.alter_column('title', existing_type=sa.String(200), type_=sa.String(30),
                       existing_nullable=False)
