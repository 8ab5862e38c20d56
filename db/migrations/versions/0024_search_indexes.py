"""the register search through indexes (issue #14)

Complaints get b-tree indexes on upper(number / order_no / lot / product_code / customer_ref)
(on PostgreSQL in COLLATE "C": a prefix is a code-point range); PostgreSQL a GIN trigram index
over the searchable text (pg_trgm, created in schema public when missing; without the rights
to create it the migration goes on and search scans, as a log line says), SQLite an FTS5
table with the trigram tokenizer (`search_text`); both a table of the Chinese character pairs
of each case's text (`complaint_bigrams`, for 2-character words). The existing cases are
indexed here, 2,000 at a time, with progress in the log. db/search.py explains the paths.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
import logging

import sqlalchemy as sa
from alembic import op

from db import search

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table(
        'complaint_bigrams',
        sa.Column('bigram', sa.String(length=2), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id']),
        sa.PrimaryKeyConstraint('bigram', 'complaint_id'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_complaint_bigrams_complaint_id', 'complaint_bigrams', ['complaint_id'])
    conn = op.get_bind()
    search.upgrade(conn, say=log.warning)

    def progress(done: int, total: int) -> None:
        if done % 50_000 < search.BATCH or done == total:
            log.info("search index: %d of %d cases", done, total)

    search.fill(conn, progress)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {search.FTS_TABLE}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {search.TRGM_INDEX}")
    for name in search.key_index_names():
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index('ix_complaint_bigrams_complaint_id', table_name='complaint_bigrams')
    op.drop_table('complaint_bigrams')
