"""Stats rollups per month too (issue #14, decision 0016)

The measures a period sums get a month row each ("m:" + measure, on the month's first local
day): the sum of the month's day rows, so Stats reads a year as twelve rows per key instead of
365. Made here from the day rows (db/rollups.py `add_months`); the unit of work keeps them from
now on, and `manage.py rollups --rebuild` makes them with the rest. Nothing existing changes.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""
from alembic import op

from db import rollups

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rollups.add_months(op.get_bind())


def downgrade() -> None:
    op.execute(f"DELETE FROM stats_rollups WHERE measure LIKE '{rollups.MONTH}%'")
