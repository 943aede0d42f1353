"""Before ``pbvote up`` starts: check that the directories pbvote writes to can be written.

Without this check an instance folder, SQLite directory or upload directory that cannot be written
ends ``pbvote up`` with a long traceback from deep inside SQLite, Alembic or ``os.makedirs`` (or,
for uploads, with a 500 at the first picture a resident adds).  Here each directory is created if
missing and tested with ``os.access``, which asks the kernel the question it will answer on the
write: file permissions for the user running pbvote, read-only mounts (``EROFS``) for everyone,
root included.  The first directory that fails is named in one line, with what it is for.

What is checked (:func:`directories_to_write`): the directory of the SQLite database file (the
instance folder by default; not for PostgreSQL, an in-memory or a ``file:`` URI database), the
database file itself if it exists, and the upload directory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask


@dataclass(frozen=True)
class NotWritable:
    """A directory (or file) pbvote must write to, what it is for, and why it cannot."""

    path: str
    purpose: str
    reason: str

    def message(self) -> str:
        return (f"{self.path} must be writable by the user running pbvote ({self.purpose}): {self.reason}. "
                "Make it writable, or point pbvote elsewhere (see README: Configuration).")


def sqlite_database_file(url: str) -> str | None:
    """The file of an SQLite URL, or ``None`` for other databases, ``:memory:`` and ``file:`` URIs."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def directories_to_write(app: Flask) -> list[tuple[str, str]]:
    """``(directory, what it holds)`` for every directory pbvote writes to with ``app``'s settings."""
    found = []
    database = sqlite_database_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        directory = os.path.dirname(database)
        in_instance = directory == os.path.abspath(app.instance_path)
        found.append((directory, "the instance folder, which holds the SQLite database" if in_instance
                      else "the directory of the SQLite database, PBVOTE_DATABASE_URL"))
    found.append((os.path.abspath(app.config["PBVOTE_UPLOAD_DIR"]), "uploaded pictures, PBVOTE_UPLOAD_DIR"))
    return found


def _reason(error: OSError) -> str:
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        return "it, or a directory above it, is a file"
    return error.strerror or str(error)


def check_directory(path: str, purpose: str) -> NotWritable | None:
    """Create ``path`` if it is missing; a :class:`NotWritable` if it cannot be made or written."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        return NotWritable(path, purpose, _reason(error))
    if not os.path.isdir(path):
        return NotWritable(path, purpose, "it is a file, not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        return NotWritable(path, purpose, "permission denied or a read-only file system")
    return None


def first_not_writable(app: Flask) -> NotWritable | None:
    """The first directory (or existing SQLite file) ``app`` needs to write and cannot, or ``None``."""
    for path, purpose in directories_to_write(app):
        problem = check_directory(path, purpose)
        if problem is not None:
            return problem
    database = sqlite_database_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is not None and os.path.exists(database) and not os.access(database, os.W_OK):
        return NotWritable(database, "the SQLite database, PBVOTE_DATABASE_URL", "permission denied or a read-only file system")
    return None
