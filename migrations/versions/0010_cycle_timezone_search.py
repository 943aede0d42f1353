"""cycle time zones; proposal search the same on SQLite (FTS5) and PostgreSQL (GIN)

* ``cycles.timezone``: the IANA zone a cycle's dates are entered and shown in (NULL: the site's).
  Stored times stay naive UTC, so nothing else changes.
* ``proposals.search_title`` and ``search_body``: the words of title and description as
  ``pbvote.proposals.search.normalise`` makes them, filled here for existing rows (the ORM keeps
  them from now on).
* PostgreSQL: ``ix_proposals_search`` becomes a GIN index on ``array_to_tsvector`` of those words
  (it was ``to_tsvector('simple', title || ' ' || body)``, whose parser split words differently).
* SQLite: the FTS5 table ``proposals_fts`` (external content on those two columns) and its three
  triggers, the same statements the models' DDL events run under ``create_all``; filled with
  FTS5's ``rebuild``.  A later migration that rebuilds ``proposals`` in batch mode on SQLite drops
  the triggers with the old table: it must run ``pbvote.proposals.search.SQLITE_CREATE`` again.

Self-contained apart from the search module's statements and normaliser (the same ones the app
uses, so the words stored here are the words queries look for).  Written after
``results_publications``; the lead re-chains ``down_revision`` at merge.

Revision ID: 0010_cycle_timezone_search
Revises: 0009_user_locale
"""
from alembic import op
import sqlalchemy as sa

from pbvote.proposals import search


revision = '0010_cycle_timezone_search'
down_revision = '0009_user_locale'
branch_labels = None
depends_on = None

NEW_SEARCH_INDEX = (
    "CREATE INDEX ix_proposals_search ON proposals USING gin "
    "(array_to_tsvector(string_to_array(btrim((search_title || ' ') || search_body), ' ')))"
)
OLD_SEARCH_INDEX = (
    "CREATE INDEX ix_proposals_search ON proposals USING gin "
    "(to_tsvector('simple', (coalesce(title, '') || ' ') || coalesce(body, '')))"
)


def upgrade():
    bind = op.get_bind()
    op.add_column('cycles', sa.Column('timezone', sa.String(length=64), nullable=True))
    op.add_column('proposals', sa.Column('search_title', sa.Text(), server_default='', nullable=False))
    op.add_column('proposals', sa.Column('search_body', sa.Text(), server_default='', nullable=False))

    proposals = sa.table('proposals', sa.column('id'), sa.column('title'), sa.column('body'),
                         sa.column('search_title'), sa.column('search_body'))
    rows = bind.execute(sa.select(proposals.c.id, proposals.c.title, proposals.c.body)).all()
    update = (sa.update(proposals).where(proposals.c.id == sa.bindparam('pid'))
              .values(search_title=sa.bindparam('st'), search_body=sa.bindparam('sb')))
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        bind.execute(update, [{'pid': pid, 'st': search.normalise(title), 'sb': search.normalise(body)}
                              for pid, title, body in chunk])

    if bind.dialect.name == 'postgresql':
        op.drop_index('ix_proposals_search', table_name='proposals')
        op.execute(NEW_SEARCH_INDEX)
    elif bind.dialect.name == 'sqlite':
        for statement in search.SQLITE_CREATE:
            op.execute(statement)
        op.execute(search.SQLITE_REBUILD)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.drop_index('ix_proposals_search', table_name='proposals')
        op.execute(OLD_SEARCH_INDEX)
    elif bind.dialect.name == 'sqlite':
        for statement in search.SQLITE_DROP:
            op.execute(statement)
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('search_body')
        batch_op.drop_column('search_title')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_column('timezone')
