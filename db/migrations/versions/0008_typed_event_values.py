"""typed event values: yes/no as JSON booleans, counts and ids as JSON numbers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Until now the event log kept every changed value as text ("True", "3"), and the time limits
read "True" back. Events now keep JSON's own types (core.model.stored); this rewrites the
values of existing events the same way, so old and new events read alike. Only the fields
that are yes/no or whole numbers on the case (and an import's row number) change; texts,
money, dates and codes stay as they are. Downgrade writes the text form back.
"""
import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BOOLEANS = frozenset({'sample_received', 'verified_effective', 'imported', 'customer_informed'})
INTEGERS = frozenset({'customer_id', 'received_by_id', 'delivered_qty', 'defective_qty',
                      'defect_type_id', 'responsible_department_id', 'dispatch_approved_by_id',
                      'sent_back_count', 'reopen_count', 'no_investigation_by_id', 'proposer_id',
                      'approval_round', 'satisfaction_score', 'merged_into_id', 'updated_by_id',
                      'import_row', 'action_items'})
TEXT_BOOLEANS = {'True': True, 'False': False, 'yes': True, 'no': False}
BATCH = 5000

events = sa.table('events', sa.column('id', sa.Integer), sa.column('changes', sa.Text))


def _typed(field: str, value: object) -> object:
    if field in BOOLEANS and isinstance(value, str) and value in TEXT_BOOLEANS:
        return TEXT_BOOLEANS[value]
    if field in INTEGERS and isinstance(value, str) and value.lstrip('-').isdigit():
        return int(value)
    return value


def _text(field: str, value: object) -> object:
    if field in BOOLEANS and isinstance(value, bool):
        return ('yes' if value else 'no') if field == 'customer_informed' else str(value)
    if field in INTEGERS and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _rewrite(convert: Callable[[str, object], object]) -> None:
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.select(events.c.id, events.c.changes)
                            .where(events.c.id > last).order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            return
        updates = []
        for row_id, raw in rows:
            changes = json.loads(raw or '{}')
            new = {k: [convert(k, v) for v in pair] if isinstance(pair, list) else pair
                   for k, pair in changes.items()}
            if new != changes:
                updates.append({'b_id': row_id, 'b_changes': json.dumps(new, ensure_ascii=False)})
        if updates:  # one executemany per batch: a large log is rewritten in minutes, not hours
            conn.execute(events.update().where(events.c.id == sa.bindparam('b_id'))
                         .values(changes=sa.bindparam('b_changes')), updates)
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(_typed)


def downgrade() -> None:
    _rewrite(_text)
