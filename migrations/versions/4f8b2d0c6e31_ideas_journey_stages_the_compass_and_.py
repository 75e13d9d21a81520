"""ideas: journey stages, the compass and hidden names

Revision ID: 4f8b2d0c6e31
Revises: 1b3da7e6f408
Create Date: 2026-11-30 00:24:35.863539

The customer's side of an idea and a safe way to speak up (docs/product.md, "Journey stages
and the compass", "Speaking up safely"): the journey stages admins keep, in order; the stage an
idea improves and its Guestology compass point, both optional; and whether the author's name
is hidden from colleagues (false for every idea that exists).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f8b2d0c6e31'
down_revision = '1b3da7e6f408'
branch_labels = None
depends_on = None


def _copying_tables_safely(work):
    """Run `work` (batch operations). SQLite copies `ideas` to add a foreign key: dropping
    the old copy with foreign keys on would cascade to every vote, comment and step of
    history. So, as SQLite's own procedure for changing a table says, foreign keys go off
    around the copy (which only works outside a transaction), and are checked before they
    come back on."""
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


def upgrade():
    op.create_table('journey_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('explanation', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_stages')),
    sa.UniqueConstraint('name', name=op.f('uq_journey_stages_name'))
    )
    def work():
        with op.batch_alter_table('ideas', schema=None) as batch_op:
            batch_op.add_column(sa.Column('journey_stage_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('compass', sa.Enum('need', 'want', 'emotion', 'stereotype', name='compass', native_enum=False, create_constraint=True), nullable=True))
            batch_op.add_column(sa.Column('name_hidden', sa.Boolean(), server_default=sa.false(), nullable=False))
            batch_op.create_index(batch_op.f('ix_ideas_journey_stage_id'), ['journey_stage_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f('fk_ideas_journey_stage_id_journey_stages'), 'journey_stages', ['journey_stage_id'], ['id'], ondelete='RESTRICT')

    _copying_tables_safely(work)


def downgrade():
    def work():
        with op.batch_alter_table('ideas', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_ideas_journey_stage_id_journey_stages'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_ideas_journey_stage_id'))
            batch_op.drop_constraint(op.f('ck_ideas_compass'), type_='check')
            batch_op.drop_column('name_hidden')
            batch_op.drop_column('compass')
            batch_op.drop_column('journey_stage_id')

    _copying_tables_safely(work)

    op.drop_table('journey_stages')
