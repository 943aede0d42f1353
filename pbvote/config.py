"""Configuration classes for pbvote, and the logging set-up of its entry points.

Every setting can be given as an environment variable named ``PBVOTE_<SETTING>``; README.md lists
them all.  ``PBVOTE_ENV`` picks the class (``development`` — the default —, ``testing`` or
``production``).  ``create_app(test_config)`` applies a mapping on top, which is how tests configure
the app.

This module lives inside the package (``pbvote.config``), not beside it as a top-level ``config.py``:
installed, a top-level module named ``config`` would land in site-packages, where it clashes with any
other project's ``config``.  There is no file to copy and edit: a deployment sets environment
variables.

Logging is configured by the entry points, never by ``create_app`` (which has no side effects): the
``pbvote`` command (:func:`pbvote.cli.main`) and the server's app factory (:func:`pbvote.wsgi.create_app`)
call :func:`configure_logging`, which reads ``PBVOTE_LOG_LEVEL``.
"""
from __future__ import annotations

import logging
import os

#: The secret key used when none is configured.  Production refuses to start with it.
DEFAULT_SECRET_KEY = "pbvote-development-key-change-me"


class Config:
    """Settings shared by every environment (defaults; see :func:`environment_overrides`)."""

    ENV_NAME = "base"
    SECRET_KEY = DEFAULT_SECRET_KEY
    # None means: an SQLite file ``pbvote.sqlite`` in the instance folder (see pbvote.db).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: Test each pooled connection with a round trip before a request uses it (a connection the
    #: server dropped — restart, fail-over, idle timeout — is replaced instead of failing the request).
    DATABASE_PRE_PING = True
    #: ... but only connections that sat unused in the pool for at least this long (seconds): a
    #: connection a busy worker used a moment ago is alive, and the test would be one more database
    #: round trip per request.  0 tests on every checkout.
    DATABASE_PRE_PING_IDLE_SECONDS = 1.0
    SQLITE_BUSY_TIMEOUT_MS = 15000

    # Sessions and cookies.
    SESSION_COOKIE_NAME = "pbvote_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_NAME = "pbvote_remember"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

    # Forms.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024

    # Rate limits (Flask-Limiter).  memory:// is per process; use redis:// with several worker
    # processes or servers, so that they share the counters.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    # No X-RateLimit-* headers on every response: computing them costs a second storage round trip
    # per limited request (measured on the cast path); a 429 still says Retry-After (pbvote.errors).
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_STRATEGY = "sliding-window-counter"
    PBVOTE_SIGNIN_LIMIT_PER_ADDRESS = "30 per 10 minutes"
    #: Failed sign-ins on one account from one address; then that address is refused for it.
    PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS = "5 per 10 minutes"
    #: Failed sign-ins on one account from all addresses (distributed guessing); then addresses that
    #: have failed on it are refused, while one that has not been failing still signs in.
    PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT = "100 per hour"
    PBVOTE_SIGNUP_LIMIT = "10 per hour"
    #: "Forgot your password?": requests per address (each sends an e-mail), and how long a link works.
    PBVOTE_PASSWORD_RESET_LIMIT = "5 per 10 minutes"
    PBVOTE_PASSWORD_RESET_MINUTES = 60
    PBVOTE_COMMENT_LIMIT = "10 per minute"
    #: Ballot submissions per voter (re-votes and retries included).
    PBVOTE_CAST_LIMIT = "20 per 10 minutes"
    PBVOTE_MAX_IMAGE_BYTES = 5 * 1024 * 1024
    #: Wrong access codes per address (good ones do not count, so a kiosk can take many voters).
    PBVOTE_ACCESS_CODE_LIMIT = "10 per 10 minutes"

    # Language and place.
    BABEL_DEFAULT_LOCALE = "en"
    #: The site's time zone (``PBVOTE_TIMEZONE``, an IANA name): times outside a cycle, and those of
    #: a cycle without a zone of its own (``Cycle.timezone``).
    BABEL_DEFAULT_TIMEZONE = "UTC"
    PBVOTE_LANGUAGES = ("en", "pl")
    PBVOTE_SITE_NAME = "pbvote"

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PBVOTE_TRUSTED_PROXIES = 0
    PBVOTE_UPLOAD_DIR: str | None = None  # None: <instance>/uploads
    #: The default of PBVOTE_LOG_LEVEL, which the entry points read (:func:`configure_logging`).
    LOG_LEVEL = "INFO"

    # Notifications and e-mail (pbvote.notifications).  The site's address as people reach it, for
    # the links in e-mails (without it they are relative, and the log says so).
    PBVOTE_BASE_URL: str | None = None
    #: The SMTP server the mail worker sends through; none: each e-mail is written to the log.
    PBVOTE_MAIL_SERVER: str | None = None
    #: None: 25, 587 or 465 according to PBVOTE_MAIL_SECURITY.
    PBVOTE_MAIL_PORT: int | None = None
    PBVOTE_MAIL_USERNAME: str | None = None
    PBVOTE_MAIL_PASSWORD: str | None = None
    #: none, starttls or ssl.
    PBVOTE_MAIL_SECURITY = "none"
    #: The From address; none: noreply@ the host of PBVOTE_BASE_URL (or localhost).
    PBVOTE_MAIL_SENDER: str | None = None
    #: Seconds the worker waits for the mail server at each step.
    PBVOTE_MAIL_TIMEOUT = 30.0
    #: Tries per e-mail before the worker gives up on it (kept, with its error, for staff).
    PBVOTE_MAIL_MAX_ATTEMPTS = 10

    # Maps of proposals (pbvote.maps).  A tile URL template of the tile server the operator chose
    # (https://tile.example.org/{z}/{x}/{y}.png); empty: no map is drawn, the places are listed.
    PBVOTE_MAP_TILES = ""
    #: The credit the tile provider requires, shown on the map as plain text.
    PBVOTE_MAP_ATTRIBUTION = ""


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "pbvote-testing-key"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


#: Environment variable (without the PBVOTE_ prefix) -> (config key, parser).
ENVIRONMENT = {
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "DATABASE_PRE_PING": ("DATABASE_PRE_PING", "bool"),
    "DATABASE_PRE_PING_IDLE_SECONDS": ("DATABASE_PRE_PING_IDLE_SECONDS", float),
    "SQLITE_BUSY_TIMEOUT_MS": ("SQLITE_BUSY_TIMEOUT_MS", int),
    "SECURE_COOKIES": ("SESSION_COOKIE_SECURE", "bool"),
    "MAX_UPLOAD_BYTES": ("MAX_CONTENT_LENGTH", int),
    "RATELIMIT_STORAGE_URL": ("RATELIMIT_STORAGE_URI", str),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", "bool"),
    "RATELIMIT_KEY_PREFIX": ("RATELIMIT_KEY_PREFIX", str),
    "SIGNIN_LIMIT_PER_ADDRESS": ("PBVOTE_SIGNIN_LIMIT_PER_ADDRESS", str),
    "SIGNIN_LIMIT_PER_ACCOUNT": ("PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT", str),
    "SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS": ("PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", str),
    "SIGNUP_LIMIT": ("PBVOTE_SIGNUP_LIMIT", str),
    "PASSWORD_RESET_LIMIT": ("PBVOTE_PASSWORD_RESET_LIMIT", str),
    "PASSWORD_RESET_MINUTES": ("PBVOTE_PASSWORD_RESET_MINUTES", int),
    "COMMENT_LIMIT": ("PBVOTE_COMMENT_LIMIT", str),
    "CAST_LIMIT": ("PBVOTE_CAST_LIMIT", str),
    "MAX_IMAGE_BYTES": ("PBVOTE_MAX_IMAGE_BYTES", int),
    "ACCESS_CODE_LIMIT": ("PBVOTE_ACCESS_CODE_LIMIT", str),
    "DEFAULT_LOCALE": ("BABEL_DEFAULT_LOCALE", str),
    "LANGUAGES": ("PBVOTE_LANGUAGES", "list"),
    "TIMEZONE": ("BABEL_DEFAULT_TIMEZONE", str),
    "SITE_NAME": ("PBVOTE_SITE_NAME", str),
    "TRUSTED_PROXIES": ("PBVOTE_TRUSTED_PROXIES", int),
    "UPLOAD_DIR": ("PBVOTE_UPLOAD_DIR", str),
    "LOG_LEVEL": ("LOG_LEVEL", str),
    "BASE_URL": ("PBVOTE_BASE_URL", str),
    "MAIL_SERVER": ("PBVOTE_MAIL_SERVER", str),
    "MAIL_PORT": ("PBVOTE_MAIL_PORT", int),
    "MAIL_USERNAME": ("PBVOTE_MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("PBVOTE_MAIL_PASSWORD", str),
    "MAIL_SECURITY": ("PBVOTE_MAIL_SECURITY", str),
    "MAIL_SENDER": ("PBVOTE_MAIL_SENDER", str),
    "MAIL_TIMEOUT": ("PBVOTE_MAIL_TIMEOUT", float),
    "MAIL_MAX_ATTEMPTS": ("PBVOTE_MAIL_MAX_ATTEMPTS", int),
    "MAP_TILES": ("PBVOTE_MAP_TILES", str),
    "MAP_ATTRIBUTION": ("PBVOTE_MAP_ATTRIBUTION", str),
}


def environment_overrides(environ=None) -> dict:
    """Settings given as ``PBVOTE_*`` environment variables, read now (not at import time)."""
    environ = os.environ if environ is None else environ
    out: dict = {}
    for name, (key, parse) in ENVIRONMENT.items():
        raw = environ.get(f"PBVOTE_{name}")
        if raw in (None, ""):
            continue
        if parse == "bool":
            value = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif parse == "list":
            value = tuple(part.strip() for part in raw.split(",") if part.strip())
        else:
            try:
                value = parse(raw)
            except ValueError:
                raise ValueError(f"PBVOTE_{name} must be a number, not {raw!r}") from None
        out[key] = value
        if key == "SESSION_COOKIE_SECURE":
            out["REMEMBER_COOKIE_SECURE"] = value
    return out


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None = None) -> type[Config]:
    """The configuration class for ``name`` (default: ``PBVOTE_ENV`` or development)."""
    name = (name or os.environ.get("PBVOTE_ENV") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(
            f"PBVOTE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}"
        ) from None



def log_level(environ=None) -> str:
    """The logging level named by ``PBVOTE_LOG_LEVEL`` (default :attr:`Config.LOG_LEVEL`), upper-case."""
    environ = os.environ if environ is None else environ
    return (environ.get("PBVOTE_LOG_LEVEL") or Config.LOG_LEVEL).strip().upper()


def configure_logging(environ=None) -> None:
    """Send log records of level ``PBVOTE_LOG_LEVEL`` and above to standard error (a handler on the
    root logger, unless one is there already), and quieten Alembic's per-migration lines.

    For the entry points (the ``pbvote`` command, the server's workers); ``create_app`` does not
    touch logging.  Raises ValueError naming the variable when the level is not one of logging's.
    """
    level = log_level(environ)
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"PBVOTE_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not {level!r}")
    logging.basicConfig(level=level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
