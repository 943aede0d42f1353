"""results: implementation tracking of funded projects

Four tables: ``implementations`` (one per funded proposal: status, progress 0-100, dates, public
note; a cancellation has its reason, "done" is 100 % with a finish date), ``implementation_milestones``,
``implementation_photos`` (alt text required) and ``pledge_fulfilments`` (a proposal's pledge marked
fulfilled, kept in results so that proposals need not know about delivery).  Self-contained: the lead
re-chains ``down_revision`` at merge.

Revision ID: 0007_implementation
Revises: results_publications
Create Date: 2026-12-04 21:11:20.272783
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_implementation'
down_revision = 'results_publications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('implementations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='implementationstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('progress_percent', sa.SmallInteger(), nullable=False),
    sa.Column('cancellation_reason', sa.Text(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('expected_on', sa.Date(), nullable=True),
    sa.Column('finished_on', sa.Date(), nullable=True),
    sa.Column('public_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status != 'cancelled' OR cancellation_reason IS NOT NULL", name=op.f('ck_implementations_cancelled_has_reason')),
    sa.CheckConstraint("status != 'done' OR (progress_percent = 100 AND finished_on IS NOT NULL)", name=op.f('ck_implementations_done_is_complete')),
    sa.CheckConstraint('progress_percent BETWEEN 0 AND 100', name=op.f('ck_implementations_progress_range')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_implementations_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_implementations_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_implementations')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_implementations_proposal_id'))
    )
    op.create_table('implementation_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('implementation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("title != ''", name=op.f('ck_implementation_milestones_title_not_empty')),
    sa.ForeignKeyConstraint(['implementation_id'], ['implementations.id'], name=op.f('fk_implementation_milestones_implementation_id_implementations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_implementation_milestones'))
    )
    with op.batch_alter_table('implementation_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_implementation_milestones_implementation_id'), ['implementation_id'], unique=False)

    op.create_table('implementation_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('implementation_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('alt_text', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("alt_text != ''", name=op.f('ck_implementation_photos_alt_text_not_empty')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_implementation_photos_size_positive')),
    sa.ForeignKeyConstraint(['implementation_id'], ['implementations.id'], name=op.f('fk_implementation_photos_implementation_id_implementations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_implementation_photos_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_implementation_photos')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_implementation_photos_stored_name'))
    )
    with op.batch_alter_table('implementation_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_implementation_photos_implementation_id'), ['implementation_id'], unique=False)

    op.create_table('pledge_fulfilments',
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('fulfilled_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_pledge_fulfilments_pledge_id_pledges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_pledge_fulfilments_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('pledge_id', name=op.f('pk_pledge_fulfilments'))
    )


def downgrade():
    op.drop_table('pledge_fulfilments')
    with op.batch_alter_table('implementation_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_implementation_photos_implementation_id'))

    op.drop_table('implementation_photos')
    with op.batch_alter_table('implementation_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_implementation_milestones_implementation_id'))

    op.drop_table('implementation_milestones')
    op.drop_table('implementations')
