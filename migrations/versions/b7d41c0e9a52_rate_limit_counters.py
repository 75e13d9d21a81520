"""rate limit counters

Revision ID: b7d41c0e9a52
Revises: a3c9e1f47b20
Create Date: 2026-11-29 21:30:00.000000

The rate limits' counters, in the app's own database, so that every worker and server sees
the same counts (SECURITY.md, "Passwords").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c0e9a52'
down_revision = 'a3c9e1f47b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=1000), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('window_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counters'))
    )
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counters_window_ends_at'), ['window_ends_at'], unique=False)


def downgrade():
    with op.batch_alter_table('rate_limit_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counters_window_ends_at'))

    op.drop_table('rate_limit_counters')
