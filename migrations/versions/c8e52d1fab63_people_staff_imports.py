"""people: staff imports that run in the background

Revision ID: c8e52d1fab63
Revises: b7d41c0e9a52
Create Date: 2026-11-29 22:00:00.000000

A large staff import runs batch by batch after the request that started it; these hold its
progress and its report per row (docs/architecture.md, "Staff import").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8e52d1fab63'
down_revision = 'b7d41c0e9a52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applies', sa.Boolean(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('csv_text', sa.Text(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.String(length=500), nullable=True),
    sa.CheckConstraint('rows_done >= 0 AND rows_done <= rows_total', name=op.f('ck_staff_imports_rows_done')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_staff_imports_started_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_imports'))
    )
    with op.batch_alter_table('staff_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_imports_started_by_id'), ['started_by_id'], unique=False)

    op.create_table('staff_import_rows',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=500), nullable=False),
    sa.Column('outcome', sa.Enum('created', 'updated', 'unchanged', 'error', name='row_outcome', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('messages', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['staff_imports.id'], name=op.f('fk_staff_import_rows_import_id_staff_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'line', name=op.f('pk_staff_import_rows'))
    )


def downgrade():
    op.drop_table('staff_import_rows')
    with op.batch_alter_table('staff_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_imports_started_by_id'))

    op.drop_table('staff_imports')
