"""ideas: likely duplicates

Revision ID: 6b1d4f2a8c53
Revises: 3e7a1c9b5d20
Create Date: 2026-11-30 01:30:00.000000

Each idea's likely duplicates among older ideas, found when it is written and read by the
review queue (docs/product.md, "Similar ideas and duplicates"). Ideas already there get theirs
from `flask find-duplicates`. A table of its own: `ideas` is not copied, so the full-text
triggers on it stay.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6b1d4f2a8c53'
down_revision = '3e7a1c9b5d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idea_duplicates',
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('duplicate_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_id'], ['ideas.id'], name=op.f('fk_idea_duplicates_duplicate_id_ideas'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_idea_duplicates_idea_id_ideas'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('idea_id', 'duplicate_id', name=op.f('pk_idea_duplicates'))
    )
    with op.batch_alter_table('idea_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_duplicates_duplicate_id'), ['duplicate_id'], unique=False)


def downgrade():
    with op.batch_alter_table('idea_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idea_duplicates_duplicate_id'))

    op.drop_table('idea_duplicates')
