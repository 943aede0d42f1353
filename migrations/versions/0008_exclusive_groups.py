"""proposals: groups of mutually exclusive projects per budget, and their members

Hand-checked: a proposal is in at most one group (the membership's primary key is the proposal);
a group's name is unique within its budget; groups go with their budget, members with their group
or proposal.  Self-contained: ``down_revision`` is the head when it was written
(``results_publications``); the lead re-chains it at merge.

Revision ID: 0008_exclusive_groups
Revises: 0007_implementation
Create Date: 2026-12-04 21:09:50.091342
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_exclusive_groups'
down_revision = '0007_implementation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exclusive_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_exclusive_groups_budget_id_budgets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exclusive_groups_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exclusive_groups')),
    sa.UniqueConstraint('budget_id', 'name', name='uq_exclusive_groups_budget_name')
    )
    with op.batch_alter_table('exclusive_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exclusive_groups_budget_id'), ['budget_id'], unique=False)

    op.create_table('exclusive_group_members',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_exclusive_group_members_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['exclusive_groups.id'], name=op.f('fk_exclusive_group_members_group_id_exclusive_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_exclusive_group_members_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', name=op.f('pk_exclusive_group_members'))
    )
    with op.batch_alter_table('exclusive_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exclusive_group_members_group_id'), ['group_id'], unique=False)



def downgrade():
    with op.batch_alter_table('exclusive_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exclusive_group_members_group_id'))

    op.drop_table('exclusive_group_members')
    with op.batch_alter_table('exclusive_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exclusive_groups_budget_id'))

    op.drop_table('exclusive_groups')
