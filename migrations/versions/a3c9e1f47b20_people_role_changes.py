"""people: role changes

Revision ID: a3c9e1f47b20
Revises: fe150a1ec0db
Create Date: 2026-11-29 20:45:00.000000

Every role given or taken away, by whom, where and when (docs/product.md, "Roles").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c9e1f47b20'
down_revision = 'fe150a1ec0db'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('role_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('employee', 'trainer', 'manager', 'admin', name='role', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Enum('admin page', 'staff import', 'command line', name='role_change_source', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_role_changes_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['users.id'], name=op.f('fk_role_changes_person_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_changes'))
    )
    with op.batch_alter_table('role_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_changes_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_changes_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('role_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_changes_person_id'))
        batch_op.drop_index(batch_op.f('ix_role_changes_changed_at'))

    op.drop_table('role_changes')
