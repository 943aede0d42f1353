"""results: published results (frozen, versioned publications and their project lines)

Hand-checked: one live publication per budget by a partial unique index (SQLite >= 3.8 and
PostgreSQL); a correction (version > 1) must carry its reason (check constraint).  Named
``results_publications`` so that the lead can re-chain ``down_revision`` at merge.

Revision ID: results_publications
Revises: 0005
Create Date: 2026-12-04 19:16:56.356774
"""
from alembic import op
import sqlalchemy as sa


revision = 'results_publications'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('result_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('tie_break', sa.String(length=20), nullable=False),
    sa.Column('engine_version', sa.String(length=40), nullable=False),
    sa.Column('ballot_count', sa.Integer(), nullable=False),
    sa.Column('budget_amount', sa.BigInteger(), nullable=False),
    sa.Column('funded_amount', sa.BigInteger(), nullable=False),
    sa.Column('voters_with_funded_project', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.JSON(), nullable=False),
    sa.Column('ballots_sha256', sa.String(length=64), nullable=False),
    sa.Column('ballots_file', sa.Text(), nullable=False),
    sa.Column('recount_command', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('version = 1 OR correction_reason IS NOT NULL', name=op.f('ck_result_publications_correction_has_reason')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_result_publications_budget_id_budgets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_result_publications_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_publications')),
    sa.UniqueConstraint('budget_id', 'version', name='uq_result_publications_budget_version')
    )
    with op.batch_alter_table('result_publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_publications_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index('uq_result_publications_one_live', ['budget_id'], unique=True, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))

    op.create_table('result_projects',
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('funded', sa.Boolean(), nullable=False),
    sa.Column('score', sa.BigInteger(), nullable=False),
    sa.Column('cost_amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_result_projects_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['publication_id'], ['result_publications.id'], name=op.f('fk_result_projects_publication_id_result_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('publication_id', 'proposal_id', name=op.f('pk_result_projects'))
    )
    with op.batch_alter_table('result_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_projects_proposal_id'), ['proposal_id'], unique=False)



def downgrade():
    with op.batch_alter_table('result_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_projects_proposal_id'))

    op.drop_table('result_projects')
    with op.batch_alter_table('result_publications', schema=None) as batch_op:
        batch_op.drop_index('uq_result_publications_one_live', sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_result_publications_budget_id'))

    op.drop_table('result_publications')
