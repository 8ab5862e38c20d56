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

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# What this migration writes is frozen here, not read from core (which moves on): the four
# titles kesu had, and the rules meaning the default matrix (docs/procedure.md §6).
TITLES = [{'code': 'qa_manager',
  'name_zh': '品管经理',
  'name_en': 'QA manager',
  'rank': 30,
  'substitute': '',
  'active': True},
 {'code': 'sales_manager',
  'name_zh': '营销经理',
  'name_en': 'Sales manager',
  'rank': 30,
  'substitute': '',
  'active': True},
 {'code': 'general_manager',
  'name_zh': '总经理',
  'name_en': 'General manager',
  'rank': 50,
  'substitute': '',
  'active': True},
 {'code': 'chairman',
  'name_zh': '董事长',
  'name_en': 'Chairman',
  'rank': 60,
  'substitute': '',
  'active': True}]
DEFAULT_RULES = [{'name': 'A 级 · 无金额',
  'dispositions': [],
  'over': None,
  'up_to': '0',
  'severities': ['A'],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'qa_manager', 'or_higher': False, 'parallel': False},
            {'title': 'general_manager', 'or_higher': False, 'parallel': False}]},
 {'name': 'A 级 · 2 千元以内',
  'dispositions': [],
  'over': '0',
  'up_to': '2000',
  'severities': ['A'],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'sales_manager', 'or_higher': False, 'parallel': False},
            {'title': 'general_manager', 'or_higher': False, 'parallel': False}]},
 {'name': 'A 级 · 2 万元以内',
  'dispositions': [],
  'over': '2000',
  'up_to': '20000',
  'severities': ['A'],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'sales_manager', 'or_higher': False, 'parallel': False},
            {'title': 'general_manager', 'or_higher': False, 'parallel': False}]},
 {'name': 'A 级 · 2 万元以上',
  'dispositions': [],
  'over': '20000',
  'up_to': None,
  'severities': ['A'],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'sales_manager', 'or_higher': False, 'parallel': False},
            {'title': 'general_manager', 'or_higher': False, 'parallel': False},
            {'title': 'chairman', 'or_higher': False, 'parallel': False}]},
 {'name': '无金额',
  'dispositions': [],
  'over': None,
  'up_to': '0',
  'severities': [],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'qa_manager', 'or_higher': False, 'parallel': False}]},
 {'name': '2 千元以内',
  'dispositions': [],
  'over': '0',
  'up_to': '2000',
  'severities': [],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'sales_manager', 'or_higher': False, 'parallel': False}]},
 {'name': '2 万元以内',
  'dispositions': [],
  'over': '2000',
  'up_to': '20000',
  'severities': [],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'sales_manager', 'or_higher': False, 'parallel': False},
            {'title': 'general_manager', 'or_higher': False, 'parallel': False}]},
 {'name': '2 万元以上',
  'dispositions': [],
  'over': '20000',
  'up_to': None,
  'severities': [],
  'kinds': [],
  'markets': [],
  'steps': [{'title': 'sales_manager', 'or_higher': False, 'parallel': False},
            {'title': 'general_manager', 'or_higher': False, 'parallel': False},
            {'title': 'chairman', 'or_higher': False, 'parallel': False}]}]
ORDER = ["qa_manager", "sales_manager", "general_manager", "chairman"]


def rules_from_matrix(matrix: list[dict]) -> list[dict]:
    """Rules meaning what a stored matrix meant: severity A adds the general manager (those
    rules first), then the rows by total; steps signed lowest title first."""
    def key(r: dict) -> tuple[bool, float]:
        up = r.get("up_to")
        return (up in (None, ""), 0.0 if up in (None, "") else float(up))

    def rule(name: str, steps: list[str], over: str | None, up: str | None,
             severities: list[str]) -> dict:
        ordered = sorted(dict.fromkeys(steps), key=lambda t: ORDER.index(t) if t in ORDER else 9)
        return {"name": name, "dispositions": [], "over": over, "up_to": up,
                "severities": severities, "kinds": [], "markets": [],
                "steps": [{"title": t, "or_higher": False, "parallel": False} for t in ordered]}

    plain, severe, lo = [], [], None
    for r in sorted(matrix, key=key):
        up = None if r.get("up_to") in (None, "") else str(r["up_to"])
        name = ("≤" + up) if up is not None else (">" + lo if lo is not None else "*")
        steps = [str(x) for x in r.get("steps", [])]
        plain.append(rule(name, steps, lo, up, []))
        severe.append(rule("A · " + name, [*steps, "general_manager"], lo, up, ["A"]))
        lo = up
    return severe + plain


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
            key='titles', value=json.dumps(TITLES, ensure_ascii=False)))
    matrix = json.loads(have['approval_matrix']) if have.get('approval_matrix') else None
    rules = rules_from_matrix(matrix) if matrix else DEFAULT_RULES
    sets = sa.table('approval_rule_sets',
                    sa.column('rules', sa.Text), sa.column('created_at', sa.DateTime))
    conn.execute(sets.insert().values(
        rules=json.dumps(rules, ensure_ascii=False),
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
