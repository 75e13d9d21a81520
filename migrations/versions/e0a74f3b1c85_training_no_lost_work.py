"""training: module revisions and earlier versions, answer drafts, refused forms, one record per submitted form

Revision ID: e0a74f3b1c85
Revises: d9f63e2a0b74
Create Date: 2026-11-29 21:40:00.000000

Nothing a person typed is lost (docs/product.md, "Training"; docs/architecture.md, "Finishing
a write"): an edit form knows the module revision it was opened at, earlier module texts are
kept so a learner can see what changed, an answer is kept as a draft when its assignment is
withdrawn, and a refused form is kept until its page is shown again. A new module or an
assignment sent twice (a double click) is recorded once.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e0a74f3b1c85'
down_revision = 'd9f63e2a0b74'
branch_labels = None
depends_on = None


def _copying_tables_safely(work):
    """Run `work` (batch operations) with SQLite's foreign keys off around the table copies
    (which only works outside a transaction), checked before they come back on."""
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
    # SQLite copies both tables to add their unique constraints: foreign keys go off around
    # the copies (see _copying_tables_safely), or dropping the old `modules` is refused and
    # dropping the old `assignments` would cascade to every enrolment.
    def work():
        with op.batch_alter_table('modules', schema=None) as batch_op:
            batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))
            batch_op.add_column(sa.Column('submission_token', sa.String(length=64), nullable=True))
            batch_op.create_unique_constraint('uq_modules_submission', ['author_id', 'submission_token'])
        with op.batch_alter_table('assignments', schema=None) as batch_op:
            batch_op.add_column(sa.Column('submission_token', sa.String(length=64), nullable=True))
            batch_op.create_unique_constraint('uq_assignments_submission', ['assigned_by_id', 'submission_token'])

    _copying_tables_safely(work)

    op.create_table('module_versions',
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_versions_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('module_id', 'version', name=op.f('pk_module_versions'))
    )
    op.create_table('answer_drafts',
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('module_version', sa.Integer(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_answer_drafts_enrolment_id_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enrolment_id', name=op.f('pk_answer_drafts'))
    )
    op.create_table('refused_forms',
    sa.Column('token', sa.String(length=43), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.String(length=2000), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('refused_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refused_forms_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_refused_forms'))
    )
    with op.batch_alter_table('refused_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refused_forms_refused_at'), ['refused_at'], unique=False)


def downgrade():
    with op.batch_alter_table('refused_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refused_forms_refused_at'))

    op.drop_table('refused_forms')
    op.drop_table('answer_drafts')
    op.drop_table('module_versions')
    # The same copies as the upgrade, with foreign keys off around them.
    def work():
        with op.batch_alter_table('assignments', schema=None) as batch_op:
            batch_op.drop_constraint('uq_assignments_submission', type_='unique')
            batch_op.drop_column('submission_token')
        with op.batch_alter_table('modules', schema=None) as batch_op:
            batch_op.drop_constraint('uq_modules_submission', type_='unique')
            batch_op.drop_column('submission_token')
            batch_op.drop_column('revision')

    _copying_tables_safely(work)
