"""online voting: ballots, choices, participations, access codes

Hand-checked: one table of ballots for every channel (online now, paper next); the partial unique
index ``uq_ballots_live_participation`` allows one live ballot per participation and works on
SQLite (>= 3.8) and PostgreSQL; enums are portable (VARCHAR + CHECK).  Downgrade drops the tables
in reverse dependency order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:00:29.244355
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('access_code_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(budget_id IS NULL) <> (district_id IS NULL)', name=op.f('ck_access_code_batches_budget_or_district')),
    sa.CheckConstraint('size > 0', name=op.f('ck_access_code_batches_size_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_access_code_batches_budget_id_budgets')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_access_code_batches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_access_code_batches_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_access_code_batches_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_code_batches'))
    )
    with op.batch_alter_table('access_code_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_code_batches_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_code_batches_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_code_batches_district_id'), ['district_id'], unique=False)

    op.create_table('access_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('lookup', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(), nullable=True),
    sa.Column('redeemed_by_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('voided_at IS NULL OR void_reason IS NOT NULL', name=op.f('ck_access_codes_void_has_reason')),
    sa.ForeignKeyConstraint(['batch_id'], ['access_code_batches.id'], name=op.f('fk_access_codes_batch_id_access_code_batches')),
    sa.ForeignKeyConstraint(['redeemed_by_id'], ['users.id'], name=op.f('fk_access_codes_redeemed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_access_codes_voided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_access_codes_code_hash'))
    )
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_codes_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_codes_lookup'), ['lookup'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_codes_redeemed_by_id'), ['redeemed_by_id'], unique=False)

    op.create_table('participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('access_code_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('online', 'paper', name='ballotchannel', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('user_id IS NOT NULL OR access_code_id IS NOT NULL', name=op.f('ck_participations_has_voter')),
    sa.ForeignKeyConstraint(['access_code_id'], ['access_codes.id'], name=op.f('fk_participations_access_code_id_access_codes')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_participations_budget_id_budgets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
    sa.UniqueConstraint('budget_id', 'access_code_id', name=op.f('uq_participations_budget_id_access_code_id')),
    sa.UniqueConstraint('budget_id', 'user_id', name=op.f('uq_participations_budget_id_user_id'))
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index('ix_participations_access_code_id', ['access_code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participations_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index('ix_participations_user_id', ['user_id'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', name='ballotchannel', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('cast_at', sa.DateTime(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=True),
    sa.Column('tracking_hash', sa.String(length=64), nullable=True),
    sa.Column('submission_hash', sa.String(length=64), nullable=True),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("channel <> 'online' OR tracking_hash IS NOT NULL", name=op.f('ck_ballots_online_has_tracking')),
    sa.CheckConstraint('voided_at IS NULL OR void_reason IS NOT NULL', name=op.f('ck_ballots_void_has_reason')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_ballots_budget_id_budgets')),
    sa.ForeignKeyConstraint(['participation_id'], ['participations.id'], name=op.f('fk_ballots_participation_id_participations')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['ballots.id'], name=op.f('fk_ballots_supersedes_id_ballots')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_ballots_voided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('submission_hash', name=op.f('uq_ballots_submission_hash')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_ballots_supersedes_id')),
    sa.UniqueConstraint('tracking_hash', name=op.f('uq_ballots_tracking_hash'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index('uq_ballots_live_participation', ['participation_id'], unique=True, sqlite_where=sa.text('superseded_at IS NULL AND voided_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL AND voided_at IS NULL'))

    op.create_table('ballot_choices',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.CheckConstraint('points IS NULL OR points > 0', name=op.f('ck_ballot_choices_points_positive')),
    sa.CheckConstraint('rank IS NULL OR rank >= 1', name=op.f('ck_ballot_choices_rank_positive')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_ballot_choices_ballot_id_ballots')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_ballot_choices_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('ballot_id', 'proposal_id', name=op.f('pk_ballot_choices')),
    sa.UniqueConstraint('ballot_id', 'rank', name=op.f('uq_ballot_choices_ballot_id_rank'))
    )
    with op.batch_alter_table('ballot_choices', schema=None) as batch_op:
        batch_op.create_index('ix_ballot_choices_proposal_id', ['proposal_id'], unique=False)



def downgrade():
    with op.batch_alter_table('ballot_choices', schema=None) as batch_op:
        batch_op.drop_index('ix_ballot_choices_proposal_id')

    op.drop_table('ballot_choices')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('uq_ballots_live_participation', sqlite_where=sa.text('superseded_at IS NULL AND voided_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL AND voided_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_ballots_budget_id'))

    op.drop_table('ballots')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index('ix_participations_user_id')
        batch_op.drop_index(batch_op.f('ix_participations_budget_id'))
        batch_op.drop_index('ix_participations_access_code_id')

    op.drop_table('participations')
    with op.batch_alter_table('access_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_codes_redeemed_by_id'))
        batch_op.drop_index(batch_op.f('ix_access_codes_lookup'))
        batch_op.drop_index(batch_op.f('ix_access_codes_batch_id'))

    op.drop_table('access_codes')
    with op.batch_alter_table('access_code_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_code_batches_district_id'))
        batch_op.drop_index(batch_op.f('ix_access_code_batches_cycle_id'))
        batch_op.drop_index(batch_op.f('ix_access_code_batches_budget_id'))

    op.drop_table('access_code_batches')
