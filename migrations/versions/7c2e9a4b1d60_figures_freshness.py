"""figures: freshness

Revision ID: 7c2e9a4b1d60
Revises: 6b1d4f2a8c53
Create Date: 2026-11-30 04:00:00.000000

One row counting the decisions that changed the ideas put into practice: part of every
report figure's key, so the figures are fresh on the next view after such a decision, on
every server (docs/architecture.md, "Report figures"). Made empty: no row reads as 0, and the
first such decision writes the row (an upsert), so a new database stays empty for a restore.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2e9a4b1d60'
down_revision = '6b1d4f2a8c53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('figures_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_figures_version'))
    )


def downgrade():
    op.drop_table('figures_version')
