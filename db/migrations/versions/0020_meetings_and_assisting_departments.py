"""meetings and assisting departments (issue #12)

Meetings: typed guests (name, company / department), the responsible department and the
disposition direction decided, and several typed action items (table meeting_items). CAPA
actions: the assisting department whose part they are. Assisting departments of a case:
table case_assists.

Existing meetings keep their date, attendee users and minutes, with no guests and nothing
decided. Their action item (before this migration a meeting had at most one, and it became a
corrective CAPA action with no link back) becomes the meeting's first item, linked to that CAPA
action: the meeting's event counted one item, and the CAPA action is one of the case's that no
`capa_added` event wrote (those came from meetings), taken in order. Existing cases have no
assisting department; their CAPA actions are the lead department's.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('meetings') as t:
        t.add_column(sa.Column('guests', sa.Text(), nullable=False, server_default='[]'))
        t.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        t.add_column(sa.Column('direction', sa.String(length=20), nullable=True))
        t.create_foreign_key('fk_meetings_department_id', 'departments', ['department_id'],
                             ['id'])
    with op.batch_alter_table('capa_actions') as t:
        t.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        t.create_foreign_key('fk_capa_actions_department_id', 'departments', ['department_id'],
                             ['id'])
    op.create_table(
        'meeting_items',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False),
        sa.Column('meeting_id', sa.Integer(), sa.ForeignKey('meetings.id'), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('owner_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('capa_id', sa.Integer(), sa.ForeignKey('capa_actions.id'), nullable=True),
    )
    op.create_index('ix_meeting_items_complaint_id', 'meeting_items', ['complaint_id'])
    op.create_index('ix_meeting_items_meeting_id', 'meeting_items', ['meeting_id'])
    op.create_table(
        'case_assists',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), nullable=False),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id'),
                  nullable=False),
        sa.Column('ask', sa.Text(), nullable=False),
        sa.Column('by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('findings', sa.Text(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
    )
    op.create_index('ix_case_assists_complaint_id', 'case_assists', ['complaint_id'])
    op.create_index('ix_case_assists_department_id', 'case_assists', ['department_id'])
    _items_of_existing_meetings()


def _items_of_existing_meetings() -> None:
    """Each existing meeting's one action item, found among its case's CAPA actions."""
    conn = op.get_bind()
    meetings = conn.execute(sa.text(
        "SELECT id, complaint_id, at FROM meetings ORDER BY complaint_id, id")).all()
    if not meetings:
        return
    counted: dict[tuple[int, str], list[int]] = {}  # (case, at) -> item counts of its events
    written: dict[int, list[str]] = {}  # case -> descriptions capa_added wrote
    for cid, action, at, changes in conn.execute(sa.text(
            "SELECT complaint_id, action, at, changes FROM events "
            "WHERE action IN ('meeting_recorded', 'capa_added') ORDER BY id")):
        values = json.loads(changes or "{}")
        if action == "capa_added":
            written.setdefault(cid, []).append(str((values.get("capa") or [None, ""])[1]))
        else:
            n = (values.get("action_items") or [None, 0])[1]
            counted.setdefault((cid, str(at)), []).append(int(n or 0))
    capa: dict[int, list[tuple[int, str, str, int, object]]] = {}
    for row in conn.execute(sa.text(
            "SELECT id, complaint_id, type, description, owner_id, due_date FROM capa_actions "
            "ORDER BY id")):
        capa.setdefault(row[1], []).append((row[0], row[2], row[3], row[4], row[5]))
    for mid, cid, at in meetings:
        counts = counted.get((cid, str(at))) or []
        n = counts.pop(0) if counts else 0
        if n != 1:
            continue
        left = written.get(cid, [])
        found = None
        for i, item in enumerate(capa.get(cid, [])):
            if item[2][:200] in left:
                continue  # added on its own, not by a meeting
            found = capa[cid].pop(i)
            break
        if found is None:
            continue
        aid, kind, desc, owner, due = found
        conn.execute(sa.text(
            "INSERT INTO meeting_items (complaint_id, meeting_id, seq, type, description, "
            "owner_id, due_date, capa_id) VALUES (:c, :m, 1, :t, :d, :o, :due, :a)"),
            {"c": cid, "m": mid, "t": kind, "d": desc, "o": owner, "due": due, "a": aid})


def downgrade() -> None:
    op.drop_index('ix_case_assists_department_id', table_name='case_assists')
    op.drop_index('ix_case_assists_complaint_id', table_name='case_assists')
    op.drop_table('case_assists')
    op.drop_index('ix_meeting_items_meeting_id', table_name='meeting_items')
    op.drop_index('ix_meeting_items_complaint_id', table_name='meeting_items')
    op.drop_table('meeting_items')
    with op.batch_alter_table('capa_actions') as t:
        t.drop_constraint('fk_capa_actions_department_id', type_='foreignkey')
        t.drop_column('department_id')
    with op.batch_alter_table('meetings') as t:
        t.drop_constraint('fk_meetings_department_id', type_='foreignkey')
        t.drop_column('direction')
        t.drop_column('department_id')
        t.drop_column('guests')
