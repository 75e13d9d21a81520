"""ideas: owners' next steps and progress notes, and the fast track to implemented

Revision ID: 0a2c96d5e3f7
Revises: f1b85c4d2e96
Create Date: 2026-11-29 22:30:00.000000

An idea can have a next step and a target date, and its owner records progress notes shown
in its history; an idea already in practice can be recorded as implemented straight from
submitted, under review or approved, so the history's CHECK of legal steps allows exactly
these three steps more (docs/product.md, "The pipeline").

Downgrade: the old CHECK does not know the fast track, so each step "put into practice
directly" is written out as the steps the old pipeline needed, all at the same moment by the
same person, the note on the last (implemented); then the check is narrowed. Next steps,
target dates and progress notes are dropped.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.sql.elements import conv


# revision identifiers, used by Alembic.
revision = '0a2c96d5e3f7'
down_revision = 'f1b85c4d2e96'
branch_labels = None
depends_on = None

PIPELINE = ('submitted', 'under_review', 'approved', 'in_progress', 'implemented')
FAST_TRACK_FROM = PIPELINE[:3]
OLD_STEPS = (
    (None, 'submitted'),
    ('submitted', 'declined'), ('submitted', 'merged'), ('submitted', 'under_review'),
    ('under_review', 'approved'), ('under_review', 'declined'), ('under_review', 'merged'),
    ('approved', 'declined'), ('approved', 'in_progress'), ('approved', 'merged'),
    ('in_progress', 'declined'), ('in_progress', 'implemented'),
    ('declined', 'under_review'),
)
NEW_STEPS = OLD_STEPS + tuple((source, 'implemented') for source in FAST_TRACK_FROM)
# The constraint's full name, as op.f() marks it (op itself exists only while migrating:
# `flask db heads` and `history` load this file without it).
CHECK = conv('ck_status_changes_legal_transition')


def _legal(steps):
    return ' OR '.join(
        f"(from_status IS NULL AND to_status = '{target}')" if source is None
        else f"(from_status = '{source}' AND to_status = '{target}')"
        for source, target in steps
    )


def _set_legal_steps(steps):
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_constraint(CHECK, type_='check')
        batch_op.create_check_constraint(CHECK, _legal(steps))


def upgrade():
    _set_legal_steps(NEW_STEPS)
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_step', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('target_date', sa.Date(), nullable=True))
    op.create_table('progress_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_progress_notes_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_progress_notes_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_notes'))
    )
    with op.batch_alter_table('progress_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_notes_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_progress_notes_idea_at', ['idea_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('progress_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_notes_idea_at')
        batch_op.drop_index(batch_op.f('ix_progress_notes_author_id'))
    op.drop_table('progress_notes')
    # Not batch_alter_table: on SQLite it would copy `ideas` and drop the old table, and with
    # foreign keys on, that drop cascades to every vote, comment and step of history. Both
    # databases drop an unindexed, unconstrained column in place (SQLite since 3.35).
    op.execute('ALTER TABLE ideas DROP COLUMN target_date')
    op.execute('ALTER TABLE ideas DROP COLUMN next_step')
    bind = op.get_bind()
    fast_tracked = bind.execute(sa.text(
        "SELECT id, idea_id, actor_id, from_status, note, changed_at FROM status_changes "
        "WHERE to_status = 'implemented' AND from_status IN ('submitted', 'under_review', 'approved') "
        "ORDER BY id"
    )).all()
    for step in fast_tracked:
        path = PIPELINE[PIPELINE.index(step.from_status):]
        # The fast-track row becomes the first of the old steps; the rest follow it, in order.
        bind.execute(
            sa.text("UPDATE status_changes SET to_status = :to, note = '' WHERE id = :id"),
            {'to': path[1], 'id': step.id},
        )
        for source, target in zip(path[1:], path[2:]):
            bind.execute(
                sa.text(
                    "INSERT INTO status_changes (idea_id, actor_id, from_status, to_status, note, changed_at) "
                    "VALUES (:idea_id, :actor_id, :source, :target, :note, :changed_at)"
                ),
                {
                    'idea_id': step.idea_id, 'actor_id': step.actor_id, 'source': source,
                    'target': target, 'note': step.note if target == 'implemented' else '',
                    'changed_at': step.changed_at,
                },
            )
    _set_legal_steps(OLD_STEPS)
