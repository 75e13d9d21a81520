"""ideas: full-text search

Revision ID: 3e7a1c9b5d20
Revises: 4f8b2d0c6e31
Create Date: 2026-11-30 00:50:00.000000

Ranked full-text search over an idea's title, problem and proposal (docs/product.md, "Search";
docs/architecture.md, "Full-text search"). PostgreSQL: a stored, generated tsvector column
(title weighted A, problem and proposal B) with a GIN index. SQLite: an FTS5 table over
`ideas` (external content: it keeps only the index) kept in step by triggers, filled from the
ideas there are. Written out here rather than imported from the app, as migrations must stay
as they were when they ran; serviceideas/ideas/search.py makes the same objects for
create_all().

A later migration that copies `ideas` on SQLite (batch mode) drops these triggers with the old
table: it must create them again.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3e7a1c9b5d20'
down_revision = '4f8b2d0c6e31'
branch_labels = None
depends_on = None

POSTGRESQL_UPGRADE = (
    "ALTER TABLE ideas ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(problem, '') || ' ' || coalesce(proposal, '')),"
    " 'B')) STORED",
    "CREATE INDEX ix_ideas_search_vector ON ideas USING gin (search_vector)",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_ideas_search_vector",
    "ALTER TABLE ideas DROP COLUMN IF EXISTS search_vector",
)
SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE ideas_fts USING fts5(title, problem, proposal, content='ideas', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER ideas_fts_insert AFTER INSERT ON ideas BEGIN "
    "INSERT INTO ideas_fts(rowid, title, problem, proposal) "
    "VALUES (new.id, new.title, new.problem, new.proposal); END",
    "CREATE TRIGGER ideas_fts_delete AFTER DELETE ON ideas BEGIN "
    "INSERT INTO ideas_fts(ideas_fts, rowid, title, problem, proposal) "
    "VALUES ('delete', old.id, old.title, old.problem, old.proposal); END",
    "CREATE TRIGGER ideas_fts_update AFTER UPDATE OF title, problem, proposal ON ideas BEGIN "
    "INSERT INTO ideas_fts(ideas_fts, rowid, title, problem, proposal) "
    "VALUES ('delete', old.id, old.title, old.problem, old.proposal); "
    "INSERT INTO ideas_fts(rowid, title, problem, proposal) "
    "VALUES (new.id, new.title, new.problem, new.proposal); END",
    # The ideas there are already.
    "INSERT INTO ideas_fts(ideas_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS ideas_fts_insert",
    "DROP TRIGGER IF EXISTS ideas_fts_delete",
    "DROP TRIGGER IF EXISTS ideas_fts_update",
    "DROP TABLE IF EXISTS ideas_fts",
)


def _run(statements):
    bind = op.get_bind()
    for statement in statements:
        bind.exec_driver_sql(statement)


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _run(POSTGRESQL_UPGRADE)
    else:
        _run(SQLITE_UPGRADE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _run(POSTGRESQL_DOWNGRADE)
    else:
        _run(SQLITE_DOWNGRADE)
