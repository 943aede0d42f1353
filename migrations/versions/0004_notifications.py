"""notifications: in-app notifications, preferences, e-mail outbox, announcement markers

Hand-checked: four new tables, nothing existing changes.  Enums are portable (VARCHAR + CHECK).
The partial indexes ``ix_notifications_user_unread`` (unread rows only: the header's count) and
``ix_outbox_emails_due`` (pending e-mails only: what the worker claims) work on SQLite (>= 3.8) and
PostgreSQL.  The preferences' primary key is (user, kind): one choice per person and kind.  The
announcement markers are unique per kind and subject, so a dated event is announced once.
Downgrade drops the four tables.

The revision id names the feature, not a number: another branch may add its own "0004" after 0003;
whichever lands second sets its ``down_revision`` to the other (tests/test_migrations.py wants one head).

Revision ID: 0004_notifications
Revises: 0003
Create Date: 2026-12-04 18:23:58.277048
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_notifications'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('coauthor_invited', 'comment_reply', 'proposal_reviewed', 'voting_opened', 'results_published', name='notificationkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('announced_at', sa.DateTime(), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_announcements')),
    sa.UniqueConstraint('kind', 'subject_type', 'subject_id', name=op.f('uq_notification_announcements_kind_subject_type_subject_id'))
    )
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('coauthor_invited', 'comment_reply', 'proposal_reviewed', 'voting_opened', 'results_published', name='notificationkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('in_app', sa.Boolean(), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('coauthor_invited', 'comment_reply', 'proposal_reviewed', 'voting_opened', 'results_published', name='notificationkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_notifications_subject', ['subject_type', 'subject_id'], unique=False)
        batch_op.create_index('ix_notifications_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'created_at'], unique=False, postgresql_where=sa.text('read_at IS NULL'), sqlite_where=sa.text('read_at IS NULL'))

    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('coauthor_invited', 'comment_reply', 'proposal_reviewed', 'voting_opened', 'results_published', name='notificationkind', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='outboxstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status != 'failed' OR last_error IS NOT NULL", name=op.f('ck_outbox_emails_failed_has_error')),
    sa.CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name=op.f('ck_outbox_emails_sent_has_time')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_emails_attempts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_emails_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails'))
    )
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_emails_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_outbox_emails_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_emails_user_id'), ['user_id'], unique=False)




def downgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_emails_user_id'))
        batch_op.drop_index('ix_outbox_emails_status_created')
        batch_op.drop_index('ix_outbox_emails_due', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.drop_table('outbox_emails')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread', postgresql_where=sa.text('read_at IS NULL'), sqlite_where=sa.text('read_at IS NULL'))
        batch_op.drop_index('ix_notifications_user_created')
        batch_op.drop_index('ix_notifications_subject')
        batch_op.drop_index(batch_op.f('ix_notifications_actor_id'))

    op.drop_table('notifications')
    op.drop_table('notification_preferences')
    op.drop_table('notification_announcements')
