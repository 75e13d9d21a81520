"""training: back-office and front-line teams as audiences, enrolments withdrawn for one person

Revision ID: f1b85c4d2e96
Revises: e0a74f3b1c85
Create Date: 2026-11-29 22:20:00.000000

A module can be assigned to all back-office teams or all front-line teams (the department's
kind), and an unfinished enrolment is withdrawn for a person who moved to a department its
assignment does not cover (docs/product.md, "Assignments").

Downgrade: the old CHECK knows neither new audience, so an assignment to all back-office or
front-line teams is *converted* to one for the departments of that kind at the time (each
named in assignment_departments), which keeps who was enrolled; then the check is narrowed.
Enrolments withdrawn for one person lose that mark (the column goes) and are deleted when
nothing was typed in them: a draft's enrolment stays, and shows again as assigned.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1b85c4d2e96'
down_revision = 'e0a74f3b1c85'
branch_labels = None
depends_on = None

OLD = ('everyone', 'departments', 'people')
NEW = OLD + ('back_office', 'front_line')


def _audience(values):
    return sa.Enum(*values, name='audience', native_enum=False, create_constraint=True, length=11)


def _copying_tables_safely(work):
    """Run `work` (batch operations). SQLite copies a table to change a CHECK: dropping the
    old copy with foreign keys on would cascade to every row that refers to it (enrolments,
    reflections, drafts). So, as SQLite's own procedure for changing a table says, foreign
    keys go off around the copy (which only works outside a transaction), and are checked
    before they come back on."""
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


def _set_audiences(old, new):
    """Swap the CHECK on assignments.audience: drop the old one, add the new one."""
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.alter_column('audience', existing_type=_audience(old), type_=_audience(new), existing_nullable=False)


def upgrade():
    def work():
        _set_audiences(OLD, NEW)
        with op.batch_alter_table('enrolments', schema=None) as batch_op:
            batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
            batch_op.create_check_constraint('only_unfinished_withdrawn', 'withdrawn_at IS NULL OR completed_at IS NULL')

    _copying_tables_safely(work)


def downgrade():
    bind = op.get_bind()
    # Enrolments withdrawn for one person: nothing typed in them (no draft) goes.
    bind.execute(sa.text(
        "DELETE FROM enrolments WHERE withdrawn_at IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM answer_drafts WHERE answer_drafts.enrolment_id = enrolments.id)"
    ))
    def drop_column():
        with op.batch_alter_table('enrolments', schema=None) as batch_op:
            batch_op.drop_constraint('only_unfinished_withdrawn', type_='check')
            batch_op.drop_column('withdrawn_at')

    _copying_tables_safely(drop_column)
    # Assignments to every department of a kind become assignments to those departments.
    for kind in ('back_office', 'front_line'):
        bind.execute(sa.text(
            "INSERT INTO assignment_departments (assignment_id, department_id) "
            "SELECT assignments.id, departments.id FROM assignments, departments "
            "WHERE assignments.audience = :kind AND departments.kind = :kind"
        ), {'kind': kind})
    bind.execute(sa.text(
        "UPDATE assignments SET audience = 'departments' WHERE audience IN ('back_office', 'front_line')"
    ))
    _copying_tables_safely(lambda: _set_audiences(NEW, OLD))
