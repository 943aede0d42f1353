"""The app factory and configuration."""
from __future__ import annotations

import os

import pytest

from pbvote import config, create_app


def test_create_app_has_no_side_effects(tmp_path):
    db_file = tmp_path / "sub" / "pbvote.sqlite"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"})
    assert app.config["TESTING"]
    assert not db_file.parent.exists()  # nothing written until the database is used


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("PBVOTE_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(app.instance_path, "pbvote.sqlite")


def test_environment_variables_override_defaults(monkeypatch):
    monkeypatch.setenv("PBVOTE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PBVOTE_SECURE_COOKIES", "yes")
    monkeypatch.setenv("PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT", "3 per hour")
    monkeypatch.setenv("PBVOTE_LANGUAGES", "en, de")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT"] == "3 per hour"
    assert app.config["PBVOTE_LANGUAGES"] == ("en", "de")


def test_bad_numeric_environment_variable_is_reported(monkeypatch):
    monkeypatch.setenv("PBVOTE_TRUSTED_PROXIES", "two")
    with pytest.raises(ValueError, match="PBVOTE_TRUSTED_PROXIES must be a number"):
        create_app({"TESTING": True})


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("PBVOTE_ENV", "staging")
    with pytest.raises(ValueError, match="PBVOTE_ENV must be one of"):
        create_app()


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.delenv("PBVOTE_SECRET_KEY", raising=False)
    monkeypatch.setenv("PBVOTE_ENV", "production")
    with pytest.raises(RuntimeError, match="PBVOTE_SECRET_KEY"):
        create_app()


def test_production_with_a_secret_key_has_secure_cookies(monkeypatch):
    monkeypatch.setenv("PBVOTE_ENV", "production")
    monkeypatch.setenv("PBVOTE_SECRET_KEY", "x" * 48)
    app = create_app()
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_every_environment_variable_is_documented_in_the_readme():
    from pathlib import Path

    text = (Path(config.__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [f"PBVOTE_{name}" for name in config.ENVIRONMENT if f"PBVOTE_{name}" not in text]
    assert missing == []
    assert "PBVOTE_ENV" in text and "PBVOTE_TEST_DATABASE_URL" in text


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(app):
    from pbvote.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"]


def test_sqlite_enforces_foreign_keys(app, make_user):
    import sqlalchemy as sa

    from pbvote.extensions import db

    user = make_user()
    user.home_district_id = 424242
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]




def test_create_app_leaves_logging_alone(monkeypatch):
    import logging

    calls = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: calls.append(kwargs))
    create_app({"TESTING": True})
    assert calls == []


def _python(code: str, **env) -> "subprocess.CompletedProcess":
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})


@pytest.mark.parametrize("entry_point", [
    "from pbvote.config import configure_logging; configure_logging()",
    "from pbvote.wsgi import create_app; create_app()",
])
def test_the_entry_points_log_at_pbvote_log_level(entry_point, tmp_path):
    code = (f"import logging; {entry_point}; root = logging.getLogger(); "
            "print(logging.getLevelName(root.level), len(root.handlers)); logging.getLogger('pbvote.x').info('seen')")
    run = _python(code, PBVOTE_LOG_LEVEL="info", PBVOTE_DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["INFO", "1"] and "seen" in run.stderr


def test_the_pbvote_command_refuses_an_unknown_log_level_in_one_line():
    run = _python("from pbvote.cli import main; main(['--help'])", PBVOTE_LOG_LEVEL="chatty")
    assert run.returncode == 2
    assert run.stderr.strip() == ("pbvote: error: PBVOTE_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, "
                                  "CRITICAL, not 'CHATTY'")


def test_the_configuration_is_part_of_the_package_not_a_top_level_module():
    import importlib.util

    assert config.__name__ == "pbvote.config"
    assert importlib.util.find_spec("config") is None  # nothing named "config" is installed beside pbvote
