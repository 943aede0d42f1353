"""Full-text search of proposals, the same on SQLite and PostgreSQL.

What a search finds (``docs/architecture.md``, README):

* Words, not substrings: "tree" finds "tree" and "Tree-lined" but not "street".  Every word of the
  query must occur in the title or the description; the last word also matches as the start of a
  longer word ("tre" finds "trees"), so that a search typed halfway still finds something.
* Case, accents and diacritics do not matter: "Łódź" and "lodz" find each other, "Straße" and
  "strasse" too.
* Proposals whose title holds every word come first, then the list's own order.
* Whatever is typed is only text: quotes, ``*``, ``AND``/``OR``/``NEAR`` and other operators of
  either database's query language are not operators here, and never an error.

How: both databases search the same words, made by :func:`normalise` in Python and stored with the
proposal (``search_title``, ``search_body``, set on every insert and update of the ORM).  The text
is decomposed (NFKD), its combining marks dropped, the letters with strokes that Unicode does not
decompose (ł, ø, đ, ħ, ŧ) mapped to their base letter, case-folded, and cut into runs of letters and
digits; a run longer than :data:`MAX_WORD` characters is left out (PostgreSQL cannot index it).
The databases only split the stored text at its spaces, so they cannot disagree (FTS5's
``unicode61`` tokenizer splits at anything but letters and digits, which is only the spaces here,
for the letters its Unicode tables know):

* SQLite: an FTS5 table ``proposals_fts`` (external content: the two columns of ``proposals``),
  kept in step by three triggers; a query is the words each in double quotes (FTS5's plain
  strings), the last one followed by ``*``.
* PostgreSQL: a GIN index on ``array_to_tsvector`` of the stored words (no parser, no
  dictionary); a query is a ``tsquery`` of the words joined by ``&``, the last one with ``:*``.

Both are created with the table (SQLAlchemy DDL events, so ``create_all`` in the tests has them)
and by the migration ``0010_cycle_timezone_search``, which also fills the words of existing rows.
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from sqlalchemy import DDL, event

#: Words longer than this are left out of the index and of queries (on both databases).
MAX_WORD = 60
#: Words of a query beyond this many are ignored.
MAX_QUERY_WORDS = 8
#: Letters NFKD leaves whole: mapped to the letter people type without the stroke.
_STROKES = str.maketrans({"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ħ": "h", "Ħ": "h",
                          "ŧ": "t", "Ŧ": "t", "ı": "i"})
_WORD = re.compile(r"[^\W_]+")

FTS_TABLE = "proposals_fts"
#: The SQLite objects of the index, which the models do not describe (Alembic's comparison skips
#: them: :func:`include_name`).  FTS5 keeps the index in shadow tables named after the table.
SQLITE_OBJECTS = (FTS_TABLE, "proposals_fts_insert", "proposals_fts_delete", "proposals_fts_update")

SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_title, search_body, "
    "content='proposals', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    f"CREATE TRIGGER IF NOT EXISTS proposals_fts_insert AFTER INSERT ON proposals BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body); END",
    f"CREATE TRIGGER IF NOT EXISTS proposals_fts_delete AFTER DELETE ON proposals BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    f"CREATE TRIGGER IF NOT EXISTS proposals_fts_update AFTER UPDATE OF search_title, search_body ON proposals BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body); END",
)
#: Fills the index from the table (after the migration has filled the columns).
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS proposals_fts_update",
    "DROP TRIGGER IF EXISTS proposals_fts_delete",
    "DROP TRIGGER IF EXISTS proposals_fts_insert",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)


def normalise(text: str | None) -> str:
    """The words of ``text`` as search sees them, separated by single spaces: "Łódź, Tree-lined
    STREET!" → "lodz tree lined street"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_STROKES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    bare = unicodedata.normalize("NFKC", bare).translate(_STROKES)
    return " ".join(word for word in _WORD.findall(bare) if len(word) <= MAX_WORD)


def query_words(text: str | None) -> list[str]:
    """The words a search looks for: the first :data:`MAX_QUERY_WORDS` of the normalised query."""
    return normalise((text or "")[:400]).split()[:MAX_QUERY_WORDS]


def fts5_query(words: list[str]) -> str:
    """An FTS5 query: every word (only letters and digits: safe in double quotes), the last a prefix."""
    return " ".join(f'"{word}"' for word in words) + "*"


def tsquery_text(words: list[str]) -> str:
    """A ``tsquery`` of the words: every one (quoted lexemes, no parser), the last a prefix."""
    return " & ".join(f"'{word}'" for word in words) + ":*"


def search_vector(column):
    """``array_to_tsvector`` of the words in ``column`` (PostgreSQL): what the GIN index holds."""
    return sa.func.array_to_tsvector(sa.func.string_to_array(column, sa.literal_column("' '")))


def document_text(title_column, body_column):
    """The stored words of title and description, in one text (PostgreSQL; never two spaces)."""
    return sa.func.btrim(title_column.op("||")(sa.literal_column("' '")).op("||")(body_column))


def install_sqlite_ddl(table: sa.Table) -> None:
    """Create the FTS5 table and its triggers with ``table`` on SQLite, and drop them with it."""
    for statement in SQLITE_CREATE:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in SQLITE_DROP:
        event.listen(table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's comparison: leave out the SQLite search objects (and FTS5's shadow tables)."""
    return not (type_ == "table" and name and name.startswith(FTS_TABLE))
