"""auth: users.email_confirmed_at (e-mail notifications only to confirmed addresses)

Accounts that exist before this revision are taken as confirmed (their holders were already getting
e-mail; asking every one of them to confirm would stop their notifications overnight); accounts
made after it confirm by the link sent at sign-up.  The lead re-chains ``down_revision`` at merge.

Revision ID: 0011_email_confirmation
Revises: 0010_cycle_timezone_search
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_email_confirmation'
down_revision = '0010_cycle_timezone_search'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email_confirmed_at')
