"""Stats rollups (issue #14): what every case counts in, per local day (decision 0016)

Two new tables: `stats_rollups` (measure, local day, key -> count, amount) and `stats_facts`
(each case's parts, as last added). Existing data is counted here, 2,000 cases at a time, in the
configured time zone (db/rollups.py `rebuild`; `manage.py rollups --rebuild` does the same later).
Nothing existing changes.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
import logging

import sqlalchemy as sa
from alembic import op

from db import rollups

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table(
        'stats_rollups',
        sa.Column('measure', sa.String(length=24), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
        sa.PrimaryKeyConstraint('measure', 'day', 'key'),
    )
    op.create_table(
        'stats_facts',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('parts', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id']),
        sa.PrimaryKeyConstraint('complaint_id'),
    )

    def progress(done: int, total: int) -> None:
        if done % 20000 == 0 or done == total:
            log.info("stats rollups: %d of %d cases counted", done, total)

    # the recurrence counts' table comes with migration 0027, which counts them
    rollups.rebuild(op.get_bind(), progress=progress, recurrences=False)


def downgrade() -> None:
    op.drop_table('stats_facts')
    op.drop_table('stats_rollups')
