"""People's language from the company's identity provider and directory

users.directory_locale: the language the company's identity provider (its `locale` claim, at
each sign-in) or directory (SCIM's preferredLanguage) gives a person, kept as a language the app
speaks ("de" for "de-AT"), or NULL. It comes after the person's own choice (users.locale) and
before their browser's.

Revision ID: 4d7b2e9c1a58
Revises: 90055656c9af
Create Date: 2026-11-30 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d7b2e9c1a58'
down_revision = '90055656c9af'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory_locale', sa.String(length=16), nullable=True))


def _copying_tables_safely(work):
    """Run `work` (batch operations). SQLite copies a table to drop a column; foreign keys go
    off around the copy (only possible outside a transaction) and are checked before they come
    back on, as SQLite's own procedure for changing a table says."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        work()
        return
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    bind.exec_driver_sql('BEGIN')
    try:
        work()
        broken = bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if broken:
            raise RuntimeError(f'rows refer to missing rows after copying tables: {broken[:5]}')
        bind.exec_driver_sql('COMMIT')
    except BaseException:
        bind.exec_driver_sql('ROLLBACK')
        raise
    finally:
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')
        bind.exec_driver_sql('BEGIN')


def downgrade():
    def drop_column():
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.drop_column('directory_locale')

    _copying_tables_safely(drop_column)  # SQLite copies the users table others refer to
