"""users.locale: the language a person chose (pages and e-mails)

A nullable code of ``PBVOTE_LANGUAGES`` ("en", "pl"); None means not chosen.  Self-contained:
``down_revision`` is the head when it was written; the lead re-chains it at merge.

Revision ID: 0009_user_locale
Revises: 0008_exclusive_groups
Create Date: 2026-12-04 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_user_locale'
down_revision = '0008_exclusive_groups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
