"""ideas: followers

Revision ID: 1b3da7e6f408
Revises: 0a2c96d5e3f7
Create Date: 2026-11-29 22:20:00.000000

Who follows each idea, to hear when it is put into practice, declined or merged
(docs/product.md, "Following an idea"). Authors, voters and commenters follow automatically:
those of the ideas that exist already are added here, in one INSERT … SELECT, each person once
per idea, from the first time they took part. An unfollow keeps the row (`unfollowed_at`), so
that taking part again does not make them follow once more.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1b3da7e6f408'
down_revision = '0a2c96d5e3f7'
branch_labels = None
depends_on = None


ideas = sa.table('ideas', sa.column('id', sa.Integer), sa.column('author_id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)))
votes = sa.table('votes', sa.column('idea_id', sa.Integer), sa.column('user_id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)))
comments = sa.table('comments', sa.column('idea_id', sa.Integer), sa.column('author_id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)))
followers = sa.table(
    'idea_followers',
    sa.column('idea_id', sa.Integer),
    sa.column('user_id', sa.Integer),
    sa.column('followed_at', sa.DateTime(timezone=True)),
    sa.column('automatic', sa.Boolean),
)


def upgrade():
    op.create_table('idea_followers',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('followed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('unfollowed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_followers_idea_id_ideas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idea_followers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'user_id', name=op.f('pk_idea_followers'))
    )
    with op.batch_alter_table('idea_followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_followers_user_id'), ['user_id'], unique=False)

    taking_part = sa.union_all(
        sa.select(ideas.c.id.label('idea_id'), ideas.c.author_id.label('user_id'), ideas.c.created_at.label('at')),
        sa.select(votes.c.idea_id, votes.c.user_id, votes.c.created_at),
        sa.select(comments.c.idea_id, comments.c.author_id, comments.c.created_at),
    ).subquery('taking_part')
    op.execute(
        followers.insert().from_select(
            ['idea_id', 'user_id', 'followed_at', 'automatic'],
            sa.select(
                taking_part.c.idea_id,
                taking_part.c.user_id,
                sa.func.min(taking_part.c.at),
                sa.true(),
            ).group_by(taking_part.c.idea_id, taking_part.c.user_id),
        )
    )


def downgrade():
    with op.batch_alter_table('idea_followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_followers_user_id'))

    op.drop_table('idea_followers')
