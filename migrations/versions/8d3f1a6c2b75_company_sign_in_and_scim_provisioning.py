"""company sign-in and SCIM provisioning

People keep the identity provider's subject (found again by it when their e-mail changes
there) and the directory's externalId; role changes may come from the identity provider's
groups; SCIM bearer tokens (only their hashes) and the log of SCIM requests.

Revision ID: 8d3f1a6c2b75
Revises: 7c2e9a4b1d60
Create Date: 2026-11-30 06:39:11.847551

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.sql.elements import conv


# revision identifiers, used by Alembic.
revision = '8d3f1a6c2b75'
down_revision = '7c2e9a4b1d60'
branch_labels = None
depends_on = None

SOURCE_CHECK = conv('ck_role_changes_role_change_source')
OLD_SOURCES = ('admin page', 'staff import', 'command line')
NEW_SOURCES = (*OLD_SOURCES, 'identity provider')


def _copying_tables_safely(work):
    """Run `work` (batch operations). SQLite copies a table to change a CHECK; foreign keys go
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


def _set_sources(sources, length):
    def work():
        with op.batch_alter_table('role_changes', schema=None) as batch_op:
            batch_op.drop_constraint(SOURCE_CHECK, type_='check')
            batch_op.alter_column(
                'source', existing_type=sa.String(), type_=sa.String(length=length),
                existing_nullable=False,
            )
            listed = ', '.join(f"'{source}'" for source in sources)
            batch_op.create_check_constraint(SOURCE_CHECK, f'source IN ({listed})')
    _copying_tables_safely(work)


def upgrade():
    op.create_table('scim_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_scim_tokens_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_scim_tokens_revoked_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_scim_tokens_token_hash'))
    )
    op.create_table('scim_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['users.id'], name=op.f('fk_scim_requests_person_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['token_id'], ['scim_tokens.id'], name=op.f('fk_scim_requests_token_id_scim_tokens'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_requests'))
    )
    with op.batch_alter_table('scim_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_requests_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scim_requests_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scim_requests_token_id'), ['token_id'], unique=False)

    # New columns and a unique index: SQLite adds both without copying the table, which every
    # other table refers to.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('scim_external_id', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_oidc_subject'), ['oidc_subject'], unique=True)

    _set_sources(NEW_SOURCES, len('identity provider'))


def downgrade():
    # Role changes the identity provider made are kept, as made on the command line (the
    # nearest source the old check knows: nobody signed in made them).
    op.execute(sa.text(
        "UPDATE role_changes SET source = 'command line' WHERE source = 'identity provider'"
    ))
    _set_sources(OLD_SOURCES, len('staff import'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_oidc_subject'))

    def drop_columns():
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.drop_column('scim_external_id')
            batch_op.drop_column('oidc_subject')
    _copying_tables_safely(drop_columns)  # SQLite copies the table every other one refers to

    with op.batch_alter_table('scim_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_requests_token_id'))
        batch_op.drop_index(batch_op.f('ix_scim_requests_person_id'))
        batch_op.drop_index(batch_op.f('ix_scim_requests_at'))

    op.drop_table('scim_requests')
    op.drop_table('scim_tokens')
