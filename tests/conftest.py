"""Shared fixtures: an app per test on a fresh database, a client, and factories for scenarios.

Browser tests (tests/e2e/) use the fixtures at the end: the app served on a real port, driven by
Playwright in Debian's headless Chromium — never a downloaded browser: we launch ``/usr/bin/chromium``
(override with ``PBVOTE_CHROMIUM``).  Without it they are skipped with a clear reason, unless
``PBVOTE_REQUIRE_BROWSER=1`` (set by CI) turns a missing browser into a failure.  Screenshots go to
``test-artifacts/``.

The suite runs on SQLite by default (a database file per test, copied from a template built once)
and on PostgreSQL when ``PBVOTE_TEST_DATABASE_URL`` is set (tables built once per run, emptied after
every test).  Tests build the schema with ``create_all`` — the migrations are tested separately.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from pbvote import create_app
from pbvote.auth.models import Role, User
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import BallotType, Budget, Category, Cycle, Phase, PhaseKind
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.timeutil import utcnow

PG_URL = os.environ.get("PBVOTE_TEST_DATABASE_URL") or None
#: ``PBVOTE_REQUIRE_POSTGRES=1`` (set by CI): the run must be on PostgreSQL and reach it; a test that
#: needs PostgreSQL fails instead of skipping, so the production database is never left untested.
REQUIRE_POSTGRES = os.environ.get("PBVOTE_REQUIRE_POSTGRES") == "1"


def skip_without_postgres(reason: str = "PostgreSQL not configured (set PBVOTE_TEST_DATABASE_URL)") -> None:
    """Skip a test that needs PostgreSQL on a run without it, or fail it where PostgreSQL is required."""
    if REQUIRE_POSTGRES:
        pytest.fail(f"PBVOTE_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def pytest_sessionstart(session):
    """With ``PBVOTE_REQUIRE_POSTGRES=1`` the run stops at once unless PostgreSQL answers."""
    if not REQUIRE_POSTGRES:
        return
    if not PG_URL:
        raise pytest.UsageError("PBVOTE_REQUIRE_POSTGRES=1 needs PBVOTE_TEST_DATABASE_URL (a PostgreSQL database)")
    engine = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                raise pytest.UsageError(f"PBVOTE_REQUIRE_POSTGRES=1 but PBVOTE_TEST_DATABASE_URL is {connection.dialect.name}")
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as error:
        raise pytest.UsageError(f"PBVOTE_REQUIRE_POSTGRES=1 but PostgreSQL does not answer: {error.orig}") from error
    finally:
        engine.dispose()
PASSWORD = "correct horse battery"
_counter = count(1)
_password_hash: str | None = None


def password_hash() -> str:
    """One scrypt hash of :data:`PASSWORD`, computed once (hashing is slow on purpose)."""
    global _password_hash
    if _password_hash is None:
        probe = User()
        probe.set_password(PASSWORD)
        _password_hash = probe.password_hash
    return _password_hash


def _base_config(url: str) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret", "SERVER_NAME": None}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """An SQLite file with the full schema, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    app = create_app(_base_config(f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema():
    """Create the schema once in the PostgreSQL test database (dropping what a previous run left)."""
    if not PG_URL:
        return None
    app = create_app(_base_config(PG_URL))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return PG_URL


def truncate_all(app) -> None:
    with app.app_context():
        db.session.remove()
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(request, tmp_path):
    if PG_URL:
        request.getfixturevalue("pg_schema")
        return PG_URL
    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "test.sqlite"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config():
    """Override in a test module (or parametrize) to change the app's configuration."""
    return {}


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The ``app`` fixture keeps an app context pushed for the test's own code; without this, requests
    would share it — and with it ``g`` (Flask-Login's cached user) and the database session.
    """

    def open(self, *args, **kwargs):
        # End the test's own transaction first: it must neither hold a lock the request needs nor
        # keep reading an old snapshot afterwards (its objects are expired and reload).
        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, app_config, tmp_path):
    config = _base_config(database_url)
    config["PBVOTE_UPLOAD_DIR"] = str(tmp_path / "uploads")
    config.update(app_config)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        g.sqlite_deferred = True  # the test's own reads never take SQLite's write lock
        yield app
        db.session.remove()
    if PG_URL:
        truncate_all(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- forms and sign-in ------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/sign-in") -> str:
    """A CSRF token valid for every form of the client's session (read from a page's form)."""
    response = client.get(path)
    if response.status_code in (301, 302, 303):  # e.g. /sign-in when already signed in
        response = client.get("/")  # every page of a signed-in user has the sign-out form
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, token_page: str = "/sign-in", **kwargs):
    """POST ``data`` to ``path`` as a browser would, with a valid CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_page))
    return client.post(path, data=data, **kwargs)


def sign_in(client, user: User, password: str = PASSWORD):
    response = post_form(client, "/sign-in", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in as ``user``."""

    def do_login(user: User, password: str = PASSWORD):
        return sign_in(client, user, password)

    return do_login


# -- factories --------------------------------------------------------------------------------


@pytest.fixture
def make_district(app):
    def make(name: str | None = None) -> District:
        n = next(_counter)
        district = District(slug=f"district-{n}", name=name or f"District {n}")
        db.session.add(district)
        db.session.commit()
        return district

    return make


@pytest.fixture
def make_user(app):
    """``make_user(role="staff", district=..., verified=True)`` → a committed account (its e-mail
    address confirmed unless ``email_confirmed=False``)."""

    def make(role: Role | str = Role.RESIDENT, *, email: str | None = None, name: str | None = None,
             district: District | None = None, verified: bool = False, birth_year: int | None = None,
             email_confirmed: bool = True) -> User:
        n = next(_counter)
        user = User(
            email=email or f"user{n}@example.org",
            display_name=name or f"User {n}",
            role=Role(role),
            password_hash=password_hash(),
            home_district=district,
            verified_at=utcnow() if verified else None,
            email_confirmed_at=utcnow() if email_confirmed else None,
            birth_year=birth_year,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


PHASE_WINDOWS = {
    # which phase is running now -> offsets (days) of each phase relative to now
    "submission": 0,
    "review": 1,
    "voting": 2,
    "results": 3,
    "implementation": 4,
}


@pytest.fixture
def make_cycle(app):
    """``make_cycle(phase="voting", budgets=[{"name": ..., "total_amount": ...}], **cycle_fields)``.

    Creates a published cycle whose phase ``phase`` is running now (earlier phases done, later ones
    upcoming), a city-wide budget (unless ``budgets`` says otherwise) and two categories.
    """

    def make(phase: str = "submission", *, budgets: list[dict] | None = None, published: bool = True, **fields) -> Cycle:
        n = next(_counter)
        now = utcnow()
        current = PHASE_WINDOWS[phase]
        cycle = Cycle(slug=f"cycle-{n}", name=f"Cycle {n}", description="A test cycle.", is_published=published, **fields)
        day = timedelta(days=1)
        phases = []
        for index, kind in enumerate(PhaseKind):
            start = now + (index - current) * 10 * day - 5 * day
            phases.append(Phase(kind=kind, starts_at=start, ends_at=start + 10 * day))
        cycle.phases = phases
        cycle.categories = [Category(name="Green spaces"), Category(name="Mobility")]
        specs = budgets if budgets is not None else [{"name": "City-wide", "total_amount": 100_000_00}]
        cycle.budgets = [
            Budget(**{"ballot_type": BallotType.APPROVAL, "tally_rule": "greedy", "tally_params": {}, "position": i, **spec})
            for i, spec in enumerate(specs)
        ]
        db.session.add(cycle)
        db.session.commit()
        return cycle

    return make


@pytest.fixture
def make_proposal(app, make_user):
    """``make_proposal(cycle, status="feasible", cost=10_000_00, author=..., budget=...)``."""

    def make(cycle: Cycle, *, status: ProposalStatus | str = ProposalStatus.FEASIBLE, cost: int = 10_000_00,
             author: User | None = None, budget: Budget | None = None, title: str | None = None, **fields) -> Proposal:
        n = next(_counter)
        status = ProposalStatus(status)
        proposal = Proposal(
            cycle=cycle,
            budget=budget or cycle.budgets[0],
            category=cycle.categories[0] if cycle.categories else None,
            author=author or make_user(),
            title=title or f"Proposal {n}",
            body=f"Description of proposal {n}.",
            estimated_amount=cost,
            final_amount=cost if status == ProposalStatus.FEASIBLE else None,
            status=status,
            submitted_at=None if status == ProposalStatus.DRAFT else utcnow(),
            **fields,
        )
        db.session.add(proposal)
        db.session.commit()
        return proposal

    return make


@pytest.fixture
def request_context(app):
    """A request's context (its locale, a client address) for services called by the test itself."""
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        yield


@pytest.fixture
def voting_budget(make_cycle, make_proposal):
    """``voting_budget(ballot_type="knapsack", costs=[...], **budget_fields, cycle={...})`` →
    (budget, [proposals]) in a cycle whose voting phase is open."""

    def make(ballot_type: BallotType | str = BallotType.APPROVAL, costs=(30_000_00, 40_000_00, 50_000_00, 20_000_00),
             phase: str = "voting", cycle: dict | None = None, **budget_fields):
        spec = {"name": "City-wide", "total_amount": 100_000_00, "ballot_type": BallotType(ballot_type), "min_choices": 1}
        spec.update(budget_fields)
        c = make_cycle(phase, budgets=[spec], **(cycle or {}))
        budget = c.budgets[0]
        proposals = [make_proposal(c, cost=cost, budget=budget) for cost in costs]
        return budget, proposals

    return make


@pytest.fixture
def cast(app):
    """``cast(voter_user_or_code, budget, [ids or Choice], token=None)`` → CastResult, committed."""

    def do_cast(who, budget, choices, token: str | None = None, **kwargs):
        voter = who if isinstance(who, Voter) else Voter(user=who) if hasattr(who, "email") else Voter(code=who)
        picked = [c if isinstance(c, Choice) else Choice(getattr(c, "id", c)) for c in choices]
        result = ballot_services.cast_ballot(voter, budget, picked, token or ballot_services.new_submission_token(), **kwargs)
        db.session.commit()
        return result

    return do_cast


@pytest.fixture
def code_for(app, make_user):
    """``code_for(budget_or_district, cycle)`` → (AccessCode, clear code)."""

    def make(cycle, *, budget=None, district=None):
        staff = make_user("staff")
        _batch, codes = ballot_services.generate_access_codes(staff, cycle, count=1, budget=budget, district=district)
        db.session.commit()
        return ballot_services.find_access_code(codes[0]), codes[0]

    return make


def count_rows(model, *where) -> int:
    statement = sa.select(sa.func.count()).select_from(model)
    if where:
        statement = statement.where(*where)
    return db.session.scalar(statement)


# -- browser tests ----------------------------------------------------------------------------

CHROMIUM = os.environ.get("PBVOTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

def _browser_missing_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("PBVOTE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free loopback port in a background thread; yields the base URL."""
    from pbvote.extensions import limiter

    limiter.enabled = False  # a browser test signs in many times from one address
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page (phone-sized with ``@pytest.mark.phone``)."""
    phone = request.node.get_closest_marker("phone") is not None
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, java_script_enabled=request.node.get_closest_marker("nojs") is None)
    page = context.new_page()
    page.set_default_timeout(15_000)
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # assertions wait for the page (a loaded machine is slow), never sleep
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """``screenshot("step")`` saves test-artifacts/<test>-<step>.png."""

    def shoot(step: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


def pytest_collection_modifyitems(config, items):
    """Mark browser tests (so ``-m "not e2e"`` gives a quick run) and PostgreSQL runs."""
    for item in items:
        if "/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
