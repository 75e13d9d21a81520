"""ideas: one record per submitted form

Revision ID: d9f63e2a0b74
Revises: c8e52d1fab63
Create Date: 2026-11-29 21:30:00.000000

Ideas and comments keep the random token of the form that sent them, unique per author, so a
form sent twice (a double click, a resent request) records one idea or comment
(docs/product.md, "Votes and comments").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd9f63e2a0b74'
down_revision = 'c8e52d1fab63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_ideas_submission', ['author_id', 'submission_token'])

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_comments_submission', ['author_id', 'submission_token'])


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_comments_submission', type_='unique')
        batch_op.drop_column('submission_token')

    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ideas_submission', type_='unique')
        batch_op.drop_column('submission_token')
