"""pbvote: participatory budgeting for councils and residents."""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from pbvote import config as pbvote_config
from pbvote import maps

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the pbvote Flask application.

    Configuration comes from the class chosen by ``PBVOTE_ENV`` (or ``test_config["ENV_NAME"]``),
    then ``PBVOTE_*`` environment variables, then ``test_config``.  Creating the app has no side
    effects: nothing is written, no connection is opened until a request or command needs it, and
    logging is left alone (the ``pbvote`` command and :mod:`pbvote.wsgi` set it up:
    :func:`pbvote.config.configure_logging`).
    """
    app = Flask(__name__, instance_relative_config=True)
    env_name = (test_config or {}).get("ENV_NAME") or ("testing" if (test_config or {}).get("TESTING") else None)
    app.config.from_object(pbvote_config.config_class(env_name))
    app.config.update(pbvote_config.environment_overrides())
    if test_config:
        app.config.update(test_config)

    from pbvote.db import default_sqlite_url

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = default_sqlite_url(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        # With an idle threshold, pbvote.db tests only connections idle that long (on checkout).
        "pool_pre_ping": bool(app.config["DATABASE_PRE_PING"]) and not app.config["DATABASE_PRE_PING_IDLE_SECONDS"] > 0,
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }
    if not app.config.get("PBVOTE_UPLOAD_DIR"):
        app.config["PBVOTE_UPLOAD_DIR"] = os.path.join(app.instance_path, "uploads")
    check_production_config(app)
    app.config["PBVOTE_MAP_TILES"] = maps.check_tile_template(app.config.get("PBVOTE_MAP_TILES"))
    csp = content_security_policy(app.config["PBVOTE_MAP_TILES"])

    if app.config["PBVOTE_TRUSTED_PROXIES"]:
        count = app.config["PBVOTE_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    from pbvote.bounds import register_converters
    from pbvote.nul_guard import register_nul_guard

    register_nul_guard(app)  # first of the before-request functions: before the CSRF check
    register_extensions(app)
    register_converters(app)  # <id:...> in routes
    register_blueprints(app)

    from pbvote.errors import register_error_handlers
    from pbvote.templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", csp)
        if request.endpoint and request.endpoint != "static" and response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from pbvote import unit_of_work

    # Registered last, so it runs first of the after-request functions: a commit the database
    # refuses replaces the response before the headers above are added to it.
    unit_of_work.init_app(app)
    return app


def content_security_policy(map_tiles: str = "") -> str:
    """The Content-Security-Policy of every page: everything from the site itself, and the map
    tiles from the tile server of ``PBVOTE_MAP_TILES`` when it is another host (:mod:`pbvote.maps`)."""
    tiles = maps.tile_image_source(map_tiles) if map_tiles else None
    return (
        f"default-src 'self'; img-src 'self' data:{' ' + tiles if tiles else ''}; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def check_production_config(app: Flask) -> None:
    """Refuse to run in production with settings that are only safe on a developer's machine."""
    if app.config.get("ENV_NAME") != "production":
        return
    if app.config.get("SECRET_KEY") in (None, "", pbvote_config.DEFAULT_SECRET_KEY):
        raise RuntimeError(
            "PBVOTE_SECRET_KEY must be set to a long random value in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )


def register_extensions(app: Flask) -> None:
    from pbvote import models  # noqa: F401  (the whole schema on db.metadata)
    from pbvote.notifications.setup import init_app as init_notifications
    from pbvote.proposals.setup import init_app as init_proposals
    from pbvote.ballots.setup import init_app as init_ballots
    from pbvote.auth.session import init_login
    from pbvote.db import configure_engine_events
    from pbvote.extensions import babel, csrf, db, limiter
    from pbvote.i18n import select_locale

    db.init_app(app)
    with app.app_context():
        configure_engine_events(app, db.engine)
        dialect_name = db.engine.dialect.name
    init_notifications(app)
    init_proposals(app)
    init_ballots(app, dialect_name)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_login(app)


def register_blueprints(app: Flask) -> None:
    from pbvote.auth.views import bp as auth_bp
    from pbvote.ballots.paper.staff_views import bp as paper_staff_bp
    from pbvote.ballots.paper.views import bp as paper_bp
    from pbvote.ballots.views import bp as ballots_bp
    from pbvote.cycles.views import staff_bp as cycles_staff_bp
    from pbvote.notifications.views import bp as notifications_bp
    from pbvote.proposals.group_views import bp as proposal_groups_bp
    from pbvote.proposals.views import bp as proposals_bp
    from pbvote.results.api import bp as api_bp
    from pbvote.results.implementation.public import bp as implementation_public_bp
    from pbvote.results.implementation.views import bp as implementation_bp
    from pbvote.results.public import bp as results_public_bp
    from pbvote.results.views import bp as results_bp
    from pbvote.views import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(cycles_staff_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(proposal_groups_bp)
    app.register_blueprint(ballots_bp)
    app.register_blueprint(paper_bp)
    app.register_blueprint(paper_staff_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(results_public_bp)
    app.register_blueprint(implementation_bp)
    app.register_blueprint(implementation_public_bp)
    app.register_blueprint(api_bp)
