"""The SCIM request log's outcomes in the reader's language

scim_requests.outcome_message: what came of a request, untranslated, as JSON ({"msgid": "Created
%(email)s", "values": {"email": "jane@example.com"}}), written into a sentence in the admin's
language when the log is read (serviceideas/scim/outcomes.py). NULL on lines logged before: the
page shows their `outcome` (an English sentence) as it was stored.

Revision ID: 7a3c5e9b2d14
Revises: 4d7b2e9c1a58
Create Date: 2026-11-30 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c5e9b2d14'
down_revision = '4d7b2e9c1a58'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scim_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome_message', sa.JSON(), nullable=True))


def downgrade():
    # No table refers to scim_requests: SQLite copies it without turning foreign keys off.
    with op.batch_alter_table('scim_requests', schema=None) as batch_op:
        batch_op.drop_column('outcome_message')
