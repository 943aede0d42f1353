"""The ``pbvote`` command: a Flask command group (so ``pbvote run``, ``shell`` and ``routes`` work too).

Commands: ``up`` (migrate, load the demo city into an empty database, serve, with a mail worker),
``worker`` (the mail worker: dated announcements and the e-mail outbox), ``demo``, ``create-user``,
``db ...`` (Alembic), ``i18n ...`` (translations: update, compile, check), ``import-pabulib`` (a real election as a closed, published cycle), ``tally``
(the tally engine on a pabulib file; needs no database).  Bad arguments end with a one-line message
and exit status 2, never a traceback.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from pbvote import create_app
from pbvote.config import configure_logging

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class BadInput(click.ClickException):
    """Input the command cannot use (a missing or unreadable file): one line, exit status 2."""

    exit_code = 2


class NotWritableError(click.ClickException):
    """A directory pbvote must write to cannot be written: one line, exit status 2."""

    exit_code = 2


def ensure_writable() -> None:
    """Stop a command that writes (migrations, the demo, an import, …) with one line naming the first
    directory it cannot write, instead of a traceback from deep inside SQLite or Alembic."""
    from pbvote.writable import first_not_writable

    problem = first_not_writable(current_app)
    if problem is not None:
        raise NotWritableError(problem.message())


def _create_app(*_args, **_kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def cli():
    """pbvote: participatory budgeting — propose, discuss, vote, count exactly."""


# -- database ---------------------------------------------------------------------------------


def alembic_config(connection=None):
    from alembic.config import Config

    if not (MIGRATIONS_DIR / "alembic.ini").exists():
        raise click.ClickException(f"migrations not found at {MIGRATIONS_DIR} (install pbvote from a source checkout)")
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_database(revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(), revision)


@cli.group("db")
def db_group():
    """Database schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision):
    """Upgrade the database schema to REVISION (default: the newest)."""
    ensure_writable()
    upgrade_database(revision)
    click.echo(f"Database upgraded to {revision}.")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@with_appcontext
def db_downgrade(revision):
    """Downgrade the database schema to REVISION (default: one step; 'base' removes everything)."""
    from alembic import command

    ensure_writable()
    command.downgrade(alembic_config(), revision)
    click.echo(f"Database downgraded to {revision}.")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--autogenerate/--empty", default=True, help="Compare the models with the database.")
@click.option("--rev-id", default=None, help="Revision id (default: random).")
@with_appcontext
def db_revision(message, autogenerate, rev_id):
    """Create a new migration file in migrations/versions/."""
    from alembic import command

    command.revision(alembic_config(), message=message, autogenerate=autogenerate, rev_id=rev_id)


@db_group.command("current")
@with_appcontext
def db_current():
    """Show the revision the database is at."""
    from alembic import command

    command.current(alembic_config(), verbose=False)


@db_group.command("heads")
@with_appcontext
def db_heads():
    """Show the newest revision(s)."""
    from alembic import command

    command.heads(alembic_config())


@db_group.command("history")
@with_appcontext
def db_history():
    """List the migrations."""
    from alembic import command

    command.history(alembic_config())


# -- accounts and demo ------------------------------------------------------------------------


@cli.command("create-user")
@click.option("--email", required=True, help="The e-mail address to sign in with.")
@click.option("--role", type=click.Choice(["resident", "volunteer", "moderator", "reviewer", "staff", "admin"]), default="resident", show_default=True)
@click.option("--name", "display_name", help="Display name (default: the part of the e-mail before @).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted for when not given.")
@with_appcontext
def create_user_command(email, role, display_name, password):
    """Create an account with a role (for example the first administrator)."""
    from pbvote.auth.services import create_user
    from pbvote.errors import DomainError
    from pbvote.extensions import db

    ensure_writable()
    try:
        user = create_user(email=email, display_name=display_name or email.split("@")[0], password=password, role=role,
                           email_confirmed=True)
    except DomainError as error:
        db.session.rollback()
        raise click.UsageError(error.message) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@cli.command("demo")
@with_appcontext
def demo_command():
    """Load the demo city (districts, a budget cycle, proposals and demo accounts)."""
    from pbvote.demo import load_demo, print_demo_sign_ins

    ensure_writable()
    loaded = load_demo()
    if loaded:
        click.echo("Demo city loaded.")
    else:
        click.echo("The demo city is already loaded.")
    print_demo_sign_ins(click.echo)


@cli.command("import-pabulib")
@click.argument("file", metavar="FILE.pb", type=click.Path(dir_okay=False))
@with_appcontext
def import_pabulib_command(file):
    """Import a real election from a pabulib FILE.pb as a closed, published cycle.

    Creates the cycle, its budget, every project and every ballot, publishes the result under the
    file's rule (greedy when it names none, and says so) and prints, as its last line, the path of
    the public results page.
    """
    from flask import url_for

    from pbvote.errors import DomainError
    from pbvote.extensions import db
    from pbvote.results.importer import import_pabulib

    if not Path(file).is_file():
        raise BadInput(f"no such file: {file}")
    ensure_writable()
    try:
        with current_app.test_request_context("/"):
            imported = import_pabulib(file)
            db.session.commit()
            path = url_for("results_public.show", slug=imported.cycle.slug, budget_id=imported.budget.id)
    except DomainError as error:
        db.session.rollback()
        raise BadInput(error.message) from None
    publication = imported.publication
    click.echo(f"Imported {imported.cycle.name}: {len(publication.projects)} projects, {imported.ballots} ballots.")
    funded = sum(p.funded for p in publication.projects)
    click.echo(f"Published under {publication.rule} "
               f"({', '.join(f'{k}={v}' for k, v in publication.parameters.items())}); "
               f"{funded} project{'' if funded == 1 else 's'} funded.")
    if publication.note:
        click.echo(publication.note)
    click.echo(f"Recount: {publication.recount_command}")
    click.echo(path)


@cli.command("seal-ballots")
@with_appcontext
def seal_ballots_command():
    """Forget voter-ballot links of every cycle whose voting has closed (run it from cron).

    Re-voting needs the link while voting is open; afterwards only the fact that someone voted is
    kept.  Safe to run at any time and as often as you like.
    """
    from pbvote.ballots.services import seal_closed_cycles
    from pbvote.extensions import db
    from pbvote.timeutil import utcnow

    sealed = seal_closed_cycles(utcnow())
    for cycle, count in sealed:
        if count:
            click.echo(f"{cycle.slug}: {count} ballots unlinked from their voters.")
    db.session.commit()
    click.echo(f"Sealed {sum(count for _cycle, count in sealed)} ballots in {len(sealed)} closed cycle(s).")


# -- mail worker ------------------------------------------------------------------------------


def mail_settings():
    """The ``PBVOTE_MAIL_*`` settings, or a one-line error (exit status 2) when they cannot work."""
    from pbvote.notifications.mail import MailConfigError, MailSettings

    try:
        return MailSettings.from_config(current_app.config)
    except MailConfigError as error:
        raise click.UsageError(str(error)) from None


@cli.command("worker")
@click.option("--once", is_flag=True, help="Run one pass (announcements, then the e-mails due) and exit.")
@click.option("--interval", default=15.0, show_default=True, type=click.FloatRange(0.5, 3600),
              help="Seconds between passes.")
@click.option("--stop-with-parent", is_flag=True, hidden=True,
              help="Stop when the process that started this one ends (pbvote up).")
@with_appcontext
def worker_command(once, interval, stop_with_parent):
    """Send the e-mail outbox and announce dated events (voting opening).

    E-mails go through the SMTP server of PBVOTE_MAIL_SERVER (with PBVOTE_MAIL_PORT,
    PBVOTE_MAIL_SECURITY, PBVOTE_MAIL_USERNAME, PBVOTE_MAIL_PASSWORD, PBVOTE_MAIL_SENDER); without
    one, each e-mail is written to the log and counts as sent.  An e-mail the server does not
    accept is tried again later (1, 2, 4 ... minutes) and given up after PBVOTE_MAIL_MAX_ATTEMPTS
    attempts, kept for staff at /staff/outbox.  Several workers may run at once.
    """
    from pbvote.notifications.worker import run_forever, run_pass

    settings = mail_settings()
    click.echo(f"Mail worker: e-mail goes to {settings.describe()}.")
    if once:
        click.echo(f"Mail worker: {run_pass(settings).describe()}.")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"Mail worker: a pass every {interval:g} s (Ctrl+C to stop).")
    sys.stdout.flush()
    try:
        run_forever(settings, interval, stop, parent_pid=os.getppid() if stop_with_parent else None)
    except KeyboardInterrupt:
        pass
    click.echo("Mail worker stopped.")


def start_worker() -> subprocess.Popen:
    """``pbvote worker`` in a process of its own, with this process's environment (its settings),
    stopping by itself should this process die without stopping it."""
    return subprocess.Popen(
        [sys.executable, "-c", "from pbvote.cli import main; main()", "worker", "--stop-with-parent"],
        env=os.environ.copy(),
    )


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:  # pragma: no cover - a worker stuck on the mail server
        process.kill()
        process.wait()


@cli.command("up")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Threads per process that run requests (more processes beat more threads: see README).")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Load the demo city into an empty database.")
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Run a mail worker beside the server (see: pbvote worker --help).")
@with_appcontext
def up_command(host, port, workers, threads, demo, with_worker):
    """Upgrade the database, load the demo city if it is empty, and serve pbvote (granian) with a
    mail worker beside it (stopped with the server).

    Stops first, with one line naming it, if a directory pbvote writes to (the SQLite database's,
    the upload directory) cannot be written.
    """
    from pbvote.auth.models import User
    from pbvote.demo import load_demo, print_demo_sign_ins
    from pbvote.extensions import db
    ensure_writable()
    display_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    url = f"http://{display_host}:{port}/"
    if not current_app.config.get("PBVOTE_BASE_URL") and current_app.config.get("ENV_NAME") != "production":
        # On a developer's machine the links in e-mails (written to the log) point at this server;
        # the server's processes and the mail worker read it from the environment.
        os.environ["PBVOTE_BASE_URL"] = current_app.config["PBVOTE_BASE_URL"] = url.rstrip("/")
    settings = mail_settings() if with_worker else None
    upgrade_database()
    empty = db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    production = current_app.config.get("ENV_NAME") == "production"
    if demo and empty and not production:
        load_demo()
        click.echo("Loaded the demo city into the empty database.")
    lines: list[str] = []
    if not production:
        # Read now, before the connections are closed: the demo's sign-ins and unused codes only
        # when the demo is there; otherwise how to load it.
        print_demo_sign_ins(lines.append)
    db.session.remove()
    db.engine.dispose()  # never share connections with the server's worker processes

    click.echo("")
    click.echo(f"pbvote is running at {url}  (Ctrl+C to stop)")
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    for line in lines:
        click.echo(line)
    worker = start_worker() if with_worker else None
    if worker is not None:
        click.echo(f"Mail worker: running (process {worker.pid}); e-mail goes to {settings.describe()}.")
    else:
        click.echo("Mail worker: not started (--no-worker); run `pbvote worker` for e-mail and announcements.")
    sys.stdout.flush()
    try:
        serve(host, port, workers, threads)
    finally:
        if worker is not None:
            stop_worker(worker)


def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve pbvote with granian (a production HTTP server written in Rust), in the foreground.

    Each worker process builds its own app with :func:`pbvote.wsgi.create_app` (logging set up,
    then ``create_app()``) from the same ``PBVOTE_*`` environment this command read.  granian parses HTTP and keeps connections alive outside Python,
    which on a bare endpoint here took half the server CPU per request of gunicorn's sync workers.
    """
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "pbvote.wsgi:create_app",
        factory=True,
        interface=Interfaces.WSGI,
        address=host,
        port=port,
        workers=workers,
        blocking_threads=threads,
        backlog=2048,
        log_access=True,
        respawn_failed_workers=True,
    ).serve()


# -- translations -----------------------------------------------------------------------------


@cli.group("i18n")
def i18n_group():
    """Translations: extract the messages, update and compile each language, check completeness
    (run in a source checkout; see docs/translating.md)."""


def _catalog_languages(chosen: tuple[str, ...]) -> list[str]:
    from pbvote import i18n_catalog

    known = i18n_catalog.languages()
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise click.UsageError(f"no catalogue for {', '.join(unknown)} (start one: pbvote i18n init LANGUAGE)")
    return list(chosen) or known


@i18n_group.command("init")
@click.argument("language")
def i18n_init(language):
    """Start the catalogue of a new LANGUAGE (a code such as "de")."""
    from babel import Locale, UnknownLocaleError

    from pbvote import i18n_catalog

    try:
        Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        raise click.UsageError(f"{language!r} is not a language code Babel knows") from None
    if i18n_catalog.po_path(language).exists():
        raise click.UsageError(f"{i18n_catalog.po_path(language)} exists already (use: pbvote i18n update)")
    path = i18n_catalog.init(language)
    i18n_catalog.compile_language(language)
    click.echo(f"Started {path}: translate it, then run pbvote i18n update and add {language} to PBVOTE_LANGUAGES.")


@i18n_group.command("update")
@click.argument("languages", nargs=-1)
def i18n_update(languages):
    """Extract the messages from the source, update each language's .po (new messages added
    untranslated, removed ones dropped) and compile its .mo; then report what is left to translate."""
    from pbvote import i18n_catalog

    chosen = _catalog_languages(languages)
    template = i18n_catalog.extract()
    for language in chosen:
        i18n_catalog.update(language, template)
        i18n_catalog.compile_language(language)
        problems = i18n_catalog.check(language, template)
        click.echo(f"{language}: {sum(1 for m in template if m.id)} messages, {len(problems)} to translate or fix "
                   f"({i18n_catalog.display_path(i18n_catalog.po_path(language))})")


@i18n_group.command("compile")
@click.argument("languages", nargs=-1)
def i18n_compile(languages):
    """Compile each language's .po into the .mo the site reads."""
    from pbvote import i18n_catalog

    for language in _catalog_languages(languages):
        click.echo(f"{language}: {i18n_catalog.compile_language(language)}")


@i18n_group.command("check")
@click.argument("languages", nargs=-1)
def i18n_check(languages):
    """List every message that a language lacks, leaves untranslated or fuzzy, or whose placeholders
    its translation changes, and whether its .mo is current; exit status 1 if anything is."""
    from pbvote import i18n_catalog

    template = i18n_catalog.extract()
    failed = False
    for language in _catalog_languages(languages):
        problems = i18n_catalog.check(language, template)
        for problem in problems:
            click.echo(f"{language}: {problem}")
        if not i18n_catalog.mo_is_current(language):
            problems.append(None)
            click.echo(f"{language}: the .mo is not what the .po compiles to (run: pbvote i18n compile {language})")
        click.echo(f"{language}: {'complete' if not problems else f'{len(problems)} problems'}")
        failed = failed or bool(problems)
    if failed:
        raise click.exceptions.Exit(1)


def register_optional_commands() -> None:
    """Commands from packages that need no app (the tally engine's CLI)."""
    try:
        from pbvote.tally_cli import tally_command
    except ImportError:  # pragma: no cover - the tally engine ships with pbvote
        return
    cli.add_command(tally_command, "tally")


register_optional_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pbvote`` console script: logging at ``PBVOTE_LOG_LEVEL``
    (:func:`pbvote.config.configure_logging`), then the command."""
    os.environ.setdefault("FLASK_RUN_FROM_CLI", "false")
    try:
        configure_logging()
    except ValueError as error:
        click.echo(f"pbvote: error: {error}", err=True)
        sys.exit(2)
    try:
        code = cli.main(args=argv, prog_name="pbvote", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.UsageError as error:
        hint = f" (see: {error.ctx.command_path} --help)" if error.ctx is not None else ""
        click.echo(f"pbvote: error: {error.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as error:
        click.echo(f"pbvote: error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
