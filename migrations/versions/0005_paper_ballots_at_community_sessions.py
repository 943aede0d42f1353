"""paper ballots at community sessions

Hand-checked: the paper tables (sessions with their budgets and volunteers, the cycle's paper
settings, sheet batches and sheets, double-entry entries, the voter register, conflicts, the session
tally sheet); ballots get a serial and a clerk, checked by named constraints, and the partial
unique index ``uq_ballots_live_paper_serial`` (one live ballot per budget and serial, SQLite and
PostgreSQL alike); the ballot channel gains ``kiosk`` (the check constraints of ``ballots.channel``
and ``participations.channel`` are recreated; on SQLite batch mode rebuilds the tables).
Downgrade refuses while kiosk or paper ballots exist (it would have to drop them), then drops it all.

Revision ID: 0005
Revises: 0004_notifications
Create Date: 2026-12-04 18:23:27.608320
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004_notifications'
branch_labels = None
depends_on = None

CHANNELS_WITH_KIOSK = "channel IN ('online', 'paper', 'kiosk')"
CHANNELS_BEFORE = "channel IN ('online', 'paper')"


def upgrade():
    op.create_table('paper_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('close_note', sa.String(length=1000), nullable=False),
    sa.CheckConstraint('(closed_at IS NULL) = (closed_by_id IS NULL)', name=op.f('ck_paper_sessions_closed_by_someone')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_paper_sessions_starts_before_ends')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_paper_sessions_closed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_paper_sessions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_paper_sessions_cycle_id_cycles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_sessions'))
    )
    with op.batch_alter_table('paper_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_sessions_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('paper_settings',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('invalid_policy', sa.Enum('invalid', 'refer', name='invalidpolicy', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('policy_note', sa.String(length=500), nullable=False),
    sa.Column('walk_ins', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_paper_settings_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_paper_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_paper_settings'))
    )
    op.create_table('paper_session_budgets',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_paper_session_budgets_budget_id_budgets')),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_session_budgets_session_id_paper_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'budget_id', name=op.f('pk_paper_session_budgets'))
    )
    with op.batch_alter_table('paper_session_budgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_session_budgets_budget_id'), ['budget_id'], unique=False)

    op.create_table('paper_session_counts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('spoiled', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('received >= 0 AND issued >= 0 AND spoiled >= 0 AND returned >= 0', name=op.f('ck_paper_session_counts_not_negative')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_paper_session_counts_budget_id_budgets')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_paper_session_counts_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_session_counts_session_id_paper_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'budget_id', name=op.f('pk_paper_session_counts'))
    )
    op.create_table('paper_session_volunteers',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_session_volunteers_session_id_paper_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_paper_session_volunteers_user_id_users')),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_paper_session_volunteers'))
    )
    with op.batch_alter_table('paper_session_volunteers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_session_volunteers_user_id'), ['user_id'], unique=False)

    op.create_table('paper_sheet_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('layout', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_paper_sheet_batches_size_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_paper_sheet_batches_budget_id_budgets')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_paper_sheet_batches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_sheet_batches_session_id_paper_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_sheet_batches'))
    )
    with op.batch_alter_table('paper_sheet_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_sheet_batches_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_sheet_batches_session_id'), ['session_id'], unique=False)

    op.create_table('paper_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('voted_before', 'voted_after', name='conflictkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('first_channel', sa.Enum('online', 'paper', 'kiosk', name='first_channel', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('attempted_channel', sa.Enum('online', 'paper', 'kiosk', name='attempted_channel', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('access_code_id', sa.Integer(), nullable=True),
    sa.Column('detected_at', sa.DateTime(), nullable=False),
    sa.Column('detected_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.String(length=500), nullable=False),
    sa.CheckConstraint('(reviewed_at IS NULL) = (reviewed_by_id IS NULL)', name=op.f('ck_paper_conflicts_reviewed_by_someone')),
    sa.CheckConstraint('user_id IS NOT NULL OR access_code_id IS NOT NULL', name=op.f('ck_paper_conflicts_has_voter')),
    sa.ForeignKeyConstraint(['access_code_id'], ['access_codes.id'], name=op.f('fk_paper_conflicts_access_code_id_access_codes')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_paper_conflicts_budget_id_budgets')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_paper_conflicts_cycle_id_cycles')),
    sa.ForeignKeyConstraint(['detected_by_id'], ['users.id'], name=op.f('fk_paper_conflicts_detected_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_paper_conflicts_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_conflicts_session_id_paper_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_paper_conflicts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_conflicts'))
    )
    with op.batch_alter_table('paper_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_conflicts_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_conflicts_session_id'), ['session_id'], unique=False)

    op.create_table('paper_register_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('access_code', 'account', 'walk_in', name='registermethod', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('channel', sa.Enum('online', 'paper', 'kiosk', name='ballotchannel', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('access_code_id', sa.Integer(), nullable=True),
    sa.Column('kiosk_code_id', sa.Integer(), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("(method = 'access_code') = (access_code_id IS NOT NULL)", name=op.f('ck_paper_register_entries_code_has_code')),
    sa.CheckConstraint("(method = 'account') = (user_id IS NOT NULL)", name=op.f('ck_paper_register_entries_account_has_user')),
    sa.CheckConstraint("channel IN ('paper', 'kiosk')", name=op.f('ck_paper_register_entries_paper_or_kiosk')),
    sa.ForeignKeyConstraint(['access_code_id'], ['access_codes.id'], name=op.f('fk_paper_register_entries_access_code_id_access_codes')),
    sa.ForeignKeyConstraint(['kiosk_code_id'], ['access_codes.id'], name=op.f('fk_paper_register_entries_kiosk_code_id_access_codes')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_paper_register_entries_registered_by_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_register_entries_session_id_paper_sessions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_paper_register_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_register_entries')),
    sa.UniqueConstraint('kiosk_code_id', name=op.f('uq_paper_register_entries_kiosk_code_id'))
    )
    with op.batch_alter_table('paper_register_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_register_entries_access_code_id'), ['access_code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_register_entries_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_register_entries_user_id'), ['user_id'], unique=False)

    op.create_table('paper_register_budgets',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_paper_register_budgets_budget_id_budgets')),
    sa.ForeignKeyConstraint(['entry_id'], ['paper_register_entries.id'], name=op.f('fk_paper_register_budgets_entry_id_paper_register_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participation_id'], ['participations.id'], name=op.f('fk_paper_register_budgets_participation_id_participations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('entry_id', 'budget_id', name=op.f('pk_paper_register_budgets')),
    sa.UniqueConstraint('participation_id', name=op.f('uq_paper_register_budgets_participation_id'))
    )
    op.create_table('paper_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('unkeyed', 'keyed_once', 'matched', 'discrepancy', 'referred', 'decided', name='sheetstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('outcome', sa.Enum('counted', 'invalid', 'blank', 'spoiled', name='sheetoutcome', native_enum=False, create_constraint=True, length=12), nullable=True),
    sa.Column('reason', sa.Enum('over_budget', 'too_many', 'too_few', 'rule', 'unreadable', name='invalidreason', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('ballot_id', sa.Integer(), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.CheckConstraint("(ballot_id IS NOT NULL) = (COALESCE(outcome, '') = 'counted')", name=op.f('ck_paper_sheets_counted_has_ballot')),
    sa.CheckConstraint("(outcome IS NOT NULL) = (status IN ('matched', 'decided'))", name=op.f('ck_paper_sheets_final_has_outcome')),
    sa.CheckConstraint("(reason IS NOT NULL) = (COALESCE(outcome, '') = 'invalid')", name=op.f('ck_paper_sheets_invalid_has_reason')),
    sa.CheckConstraint('(settled_at IS NOT NULL) = (outcome IS NOT NULL)', name=op.f('ck_paper_sheets_settled_when_final')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_paper_sheets_ballot_id_ballots')),
    sa.ForeignKeyConstraint(['batch_id'], ['paper_sheet_batches.id'], name=op.f('fk_paper_sheets_batch_id_paper_sheet_batches')),
    sa.ForeignKeyConstraint(['budget_id'], ['budgets.id'], name=op.f('fk_paper_sheets_budget_id_budgets')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_paper_sheets_decided_by_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_sheets_session_id_paper_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_sheets')),
    sa.UniqueConstraint('ballot_id', name=op.f('uq_paper_sheets_ballot_id')),
    sa.UniqueConstraint('serial', name=op.f('uq_paper_sheets_serial'))
    )
    with op.batch_alter_table('paper_sheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_sheets_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_sheets_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_sheets_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_paper_sheets_session_status', ['session_id', 'status'], unique=False)

    op.create_table('paper_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('keyed_at', sa.DateTime(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=True),
    sa.Column('is_decision', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('active', 'undone', 'flagged', name='entrystate', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('flag', sa.Enum('same_volunteer', 'extra', name='entryflag', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('text', sa.String(length=400), nullable=False),
    sa.Column('content', sa.String(length=1000), nullable=False),
    sa.Column('outcome', sa.Enum('counted', 'invalid', 'blank', 'spoiled', name='sheetoutcome', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('reason', sa.Enum('over_budget', 'too_many', 'too_few', 'rule', 'unreadable', name='invalidreason', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.CheckConstraint("(reason IS NOT NULL) = (outcome = 'invalid')", name=op.f('ck_paper_entries_invalid_has_reason')),
    sa.CheckConstraint("(state = 'flagged') = (flag IS NOT NULL)", name=op.f('ck_paper_entries_flagged_has_flag')),
    sa.CheckConstraint("(state = 'undone') = (undone_at IS NOT NULL)", name=op.f('ck_paper_entries_undone_when')),
    sa.CheckConstraint('(slot IS NULL) = (is_decision OR flag IS NOT NULL)', name=op.f('ck_paper_entries_slot_for_keyings')),
    sa.CheckConstraint('slot IS NULL OR slot IN (1, 2)', name=op.f('ck_paper_entries_slot_one_or_two')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_paper_entries_author_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['paper_sessions.id'], name=op.f('fk_paper_entries_session_id_paper_sessions')),
    sa.ForeignKeyConstraint(['sheet_id'], ['paper_sheets.id'], name=op.f('fk_paper_entries_sheet_id_paper_sheets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_entries')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_paper_entries_token_hash'))
    )
    with op.batch_alter_table('paper_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_entries_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_entries_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_entries_sheet_id'), ['sheet_id'], unique=False)
        batch_op.create_index('uq_paper_entries_active_author', ['sheet_id', 'author_id'], unique=True, sqlite_where=sa.text("state = 'active' AND slot IS NOT NULL"), postgresql_where=sa.text("state = 'active' AND slot IS NOT NULL"))
        batch_op.create_index('uq_paper_entries_active_slot', ['sheet_id', 'slot'], unique=True, sqlite_where=sa.text("state = 'active' AND slot IS NOT NULL"), postgresql_where=sa.text("state = 'active' AND slot IS NOT NULL"))

    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ballots_ballotchannel'), type_='check')
        batch_op.add_column(sa.Column('paper_serial', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_ballots_ballotchannel'), CHANNELS_WITH_KIOSK)
        batch_op.create_check_constraint(op.f('ck_ballots_paper_has_serial'),
                                         "(channel = 'paper') = (paper_serial IS NOT NULL)")
        batch_op.create_check_constraint(op.f('ck_ballots_paper_has_clerk'),
                                         "channel <> 'paper' OR recorded_by_id IS NOT NULL")
        batch_op.create_index('uq_ballots_live_paper_serial', ['budget_id', 'paper_serial'], unique=True, sqlite_where=sa.text('paper_serial IS NOT NULL AND superseded_at IS NULL AND voided_at IS NULL'), postgresql_where=sa.text('paper_serial IS NOT NULL AND superseded_at IS NULL AND voided_at IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_ballots_recorded_by_id_users'), 'users', ['recorded_by_id'], ['id'])

    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_participations_ballotchannel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_participations_ballotchannel'), CHANNELS_WITH_KIOSK)



def downgrade():
    left = op.get_bind().execute(sa.text(
        "SELECT (SELECT COUNT(*) FROM ballots WHERE channel <> 'online') + "
        "(SELECT COUNT(*) FROM participations WHERE channel <> 'online')")).scalar()
    if left:
        raise RuntimeError(f"{left} paper or kiosk ballots and participations exist: 0003 cannot store them")
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_participations_ballotchannel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_participations_ballotchannel'), CHANNELS_BEFORE)

    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ballots_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_index('uq_ballots_live_paper_serial', sqlite_where=sa.text('paper_serial IS NOT NULL AND superseded_at IS NULL AND voided_at IS NULL'), postgresql_where=sa.text('paper_serial IS NOT NULL AND superseded_at IS NULL AND voided_at IS NULL'))
        batch_op.drop_constraint(op.f('ck_ballots_paper_has_clerk'), type_='check')
        batch_op.drop_constraint(op.f('ck_ballots_paper_has_serial'), type_='check')
        batch_op.drop_constraint(op.f('ck_ballots_ballotchannel'), type_='check')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('paper_serial')
        batch_op.create_check_constraint(op.f('ck_ballots_ballotchannel'), CHANNELS_BEFORE)

    with op.batch_alter_table('paper_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_paper_entries_active_slot', sqlite_where=sa.text("state = 'active' AND slot IS NOT NULL"), postgresql_where=sa.text("state = 'active' AND slot IS NOT NULL"))
        batch_op.drop_index('uq_paper_entries_active_author', sqlite_where=sa.text("state = 'active' AND slot IS NOT NULL"), postgresql_where=sa.text("state = 'active' AND slot IS NOT NULL"))
        batch_op.drop_index(batch_op.f('ix_paper_entries_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_paper_entries_session_id'))
        batch_op.drop_index(batch_op.f('ix_paper_entries_author_id'))

    op.drop_table('paper_entries')
    with op.batch_alter_table('paper_sheets', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_sheets_session_status')
        batch_op.drop_index(batch_op.f('ix_paper_sheets_session_id'))
        batch_op.drop_index(batch_op.f('ix_paper_sheets_budget_id'))
        batch_op.drop_index(batch_op.f('ix_paper_sheets_batch_id'))

    op.drop_table('paper_sheets')
    op.drop_table('paper_register_budgets')
    with op.batch_alter_table('paper_register_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_register_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_paper_register_entries_session_id'))
        batch_op.drop_index(batch_op.f('ix_paper_register_entries_access_code_id'))

    op.drop_table('paper_register_entries')
    with op.batch_alter_table('paper_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_conflicts_session_id'))
        batch_op.drop_index(batch_op.f('ix_paper_conflicts_cycle_id'))

    op.drop_table('paper_conflicts')
    with op.batch_alter_table('paper_sheet_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_sheet_batches_session_id'))
        batch_op.drop_index(batch_op.f('ix_paper_sheet_batches_budget_id'))

    op.drop_table('paper_sheet_batches')
    with op.batch_alter_table('paper_session_volunteers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_session_volunteers_user_id'))

    op.drop_table('paper_session_volunteers')
    op.drop_table('paper_session_counts')
    with op.batch_alter_table('paper_session_budgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_session_budgets_budget_id'))

    op.drop_table('paper_session_budgets')
    op.drop_table('paper_settings')
    with op.batch_alter_table('paper_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_sessions_cycle_id'))

    op.drop_table('paper_sessions')
