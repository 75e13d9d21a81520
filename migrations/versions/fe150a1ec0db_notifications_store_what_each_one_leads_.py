"""notifications: store what each one leads to, not its address

Revision ID: fe150a1ec0db
Revises: d2fc17dd44e8
Create Date: 2026-11-29 18:38:19.528469

Each notification kept the path it linked to (`/ideas/12#history`); now it keeps the kind of
thing it leads to and that thing's id, and the app builds the address when it shows or sends
one. The paths the code wrote until now are read back into kinds; anything else leads to the
notifications page.
"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fe150a1ec0db'
down_revision = 'd2fc17dd44e8'
branch_labels = None
depends_on = None


TARGET = sa.Enum('idea', 'comment', 'enrolment', 'review_queue', 'reflections', 'notifications', name='notification_target', native_enum=False, create_constraint=True)
TARGET_ID_WHEN_A_ROW = (
    "(target IN ('idea', 'comment', 'enrolment') AND target_id IS NOT NULL)"
    " OR (target NOT IN ('idea', 'comment', 'enrolment') AND target_id IS NULL)"
)
ID = r'([1-9][0-9]{0,9})'
ID_MAX = 2**31 - 1

# The paths the receivers and jobs wrote before this revision, and what each leads to.
PATHS = [
    (re.compile(rf'/ideas/{ID}#comment-{ID}'), 'comment', 2),
    (re.compile(rf'/ideas/{ID}(?:#history)?'), 'idea', 1),
    (re.compile(rf'/training/enrolments/{ID}'), 'enrolment', 1),
    (re.compile(r'/ideas/review'), 'review_queue', None),
    (re.compile(r'/training/reflections'), 'reflections', None),
]

notifications = sa.table(
    'notifications',
    sa.column('id', sa.Integer),
    sa.column('link', sa.String),
    sa.column('target', sa.String),
    sa.column('target_id', sa.Integer),
)
comments = sa.table('comments', sa.column('id', sa.Integer), sa.column('idea_id', sa.Integer))


def target_of(link):
    for pattern, target, group in PATHS:
        found = pattern.fullmatch(link)
        if found is None:
            continue
        if group is None:
            return target, None
        if int(found.group(group)) <= ID_MAX:
            return target, int(found.group(group))
    return 'notifications', None


def path_of(target, target_id, idea_of_comment):
    if target == 'idea':
        return f'/ideas/{target_id}#history'
    if target == 'comment' and target_id in idea_of_comment:
        return f'/ideas/{idea_of_comment[target_id]}#comment-{target_id}'
    if target == 'enrolment':
        return f'/training/enrolments/{target_id}'
    if target == 'review_queue':
        return '/ideas/review'
    if target == 'reflections':
        return '/training/reflections'
    return '/notifications'


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', TARGET, nullable=True))
        batch_op.add_column(sa.Column('target_id', sa.Integer(), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(sa.select(notifications.c.id, notifications.c.link)).all()
    changes = [
        dict(zip(('row_id', 'new_target', 'new_target_id'), (row_id, *target_of(link))))
        for row_id, link in rows
    ]
    if changes:
        connection.execute(
            notifications.update()
            .where(notifications.c.id == sa.bindparam('row_id'))
            .values(target=sa.bindparam('new_target'), target_id=sa.bindparam('new_target_id')),
            changes,
        )

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('target', existing_type=TARGET, nullable=False)
        batch_op.drop_column('link')
        batch_op.create_check_constraint(op.f('ck_notifications_target_id_when_a_row'), TARGET_ID_WHEN_A_ROW)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.VARCHAR(length=300), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(
        sa.select(notifications.c.id, notifications.c.target, notifications.c.target_id)
    ).all()
    idea_of_comment = dict(
        connection.execute(
            sa.select(comments.c.id, comments.c.idea_id).where(
                comments.c.id.in_(
                    sa.select(notifications.c.target_id).where(notifications.c.target == 'comment')
                )
            )
        ).all()
    )
    changes = [
        {'row_id': row_id, 'old_link': path_of(target, target_id, idea_of_comment)}
        for row_id, target, target_id in rows
    ]
    if changes:
        connection.execute(
            notifications.update()
            .where(notifications.c.id == sa.bindparam('row_id'))
            .values(link=sa.bindparam('old_link')),
            changes,
        )

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_target_id_when_a_row'), type_='check')
        # SQLite's copy of the table would keep the enum's CHECK without its column.
        batch_op.drop_constraint(op.f('ck_notifications_notification_target'), type_='check')
        batch_op.alter_column('link', existing_type=sa.VARCHAR(length=300), nullable=False)
        batch_op.drop_column('target_id')
        batch_op.drop_column('target')
