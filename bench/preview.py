"""Benchmark the staff preview of a real election on SQLite and PostgreSQL, runs alternated.

    python bench/preview.py                      # Łódź 2022, a new SQLite file and database pbvote_bench
    python bench/preview.py --runs 9 --database postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench
    python bench/preview.py --profile            # cProfile of one cold preview per database, top 25
    python bench/preview.py --file /work/shared/pabulib/Poland_Warszawa_2026.pb --no-postgresql
    python bench/preview.py --against /tmp/before    # before/after: another source tree, runs alternated

Imports the file once into each database (``pbvote import-pabulib``'s service), then times
:func:`pbvote.results.services.preview_budget` end to end, the budget's own rule and greedy,
knapsack, MES + add1 and Phragmén side by side, ``--runs`` times per database with the databases
alternated run by run (the machine is shared: a burst of other load then hits both, not one).
Every run starts cold: the session is emptied and the cache of counted elections
(:mod:`pbvote.results.counting`) is cleared, so each run reads the ballots from the database.
A last line shows a warm run (the election served from the cache, as after the first preview
of a closed vote).

Prints, per database, best and median of wall-clock and CPU seconds (CPU is what other load does
not inflate) for the whole preview and for its parts: loading the ballots (the one SELECT and
its rows), building the engine's :class:`~pbvote.tally.Election`, compiling the profile, and each
rule.  Issue 15's target: the whole preview under 1 s on both databases.

``--against TREE`` compares two versions of the code on the same databases: TREE is another
source tree of pbvote (``git archive <commit> | tar -x -C TREE``, with the MES kernel's ``.so``
copied or built in it).  One worker process per version and database times whole cold previews,
called in turn, version after version, database after database; each worker prints which
``pbvote`` it imported.

The databases named are emptied (``drop_all``/``create_all``) first.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import pstats
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = Path("/work/shared/pabulib/Poland_Lodz_2022.pb")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench"


class Clock:
    """Wall and CPU seconds of named parts, summed over a run."""

    def __init__(self):
        self.parts: dict[str, tuple[float, float]] = {}

    @contextmanager
    def part(self, name: str):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            w, c = self.parts.get(name, (0.0, 0.0))
            self.parts[name] = (w + time.perf_counter() - wall, c + time.process_time() - cpu)


def instrument(clock: Clock):
    """Wrap the preview's steps so that each run reports where its time went."""
    from pbvote import tally
    from pbvote.results import counting, services

    originals = []

    def wrap(module, name, label):
        original = getattr(module, name)

        def timed(*args, **kwargs):
            key = label(*args, **kwargs) if callable(label) else label
            with clock.part(key):
                return original(*args, **kwargs)

        setattr(module, name, timed)
        originals.append((module, name, original))

    wrap(services, "counted_election", "Election ready (all of the below)")
    wrap(counting, "countable_ballots_fingerprint", "  fingerprint of the ballots")
    original_contents = counting.countable_ballot_contents
    counting.countable_ballot_contents = lambda budget: iter(list(original_contents(budget)))
    originals.append((counting, "countable_ballot_contents", original_contents))
    wrap(counting, "countable_ballot_contents", "  load ballots (SELECT, rows parsed)")
    wrap(counting, "engine_ballots", "  engine ballots (load included)")
    wrap(services.tally, "compile_profile", "  compile the profile")
    wrap(services.tally, "run_rule", lambda election, rule, **params: f"rule {rule}"
         + (f" ({params['completion']})" if params.get("completion") else ""))
    assert services.tally is tally

    def restore():
        for module, name, original in reversed(originals):
            setattr(module, name, original)

    return restore


def import_into(app, path: Path) -> int:
    from pbvote.extensions import db
    from pbvote.results.importer import import_pabulib

    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        imported = import_pabulib(path)
        db.session.commit()
        print(f"  imported into {db.engine.dialect.name}: {imported.ballots:,} ballots, "
              f"{len(imported.publication.projects)} projects in {time.perf_counter() - started:.1f} s")
        return imported.budget.id


def one_run(app, budget_id: int, *, cold: bool = True, profile: cProfile.Profile | None = None):
    from pbvote.cycles.models import Budget
    from pbvote.extensions import db
    from pbvote.results import counting, services

    clock = Clock()
    with app.app_context(), app.test_request_context("/"):
        db.session.expire_all()
        if cold:
            counting.clear_cache()
        budget = db.session.get(Budget, budget_id)
        budget.cycle  # the budget and its cycle are loaded by the page already; not the preview's cost
        restore = instrument(clock)
        try:
            if profile:
                profile.enable()
            with clock.part("preview (total)"):
                previews = services.preview_budget(budget)
            if profile:
                profile.disable()
        finally:
            restore()
        db.session.rollback()
    return previews, clock.parts


def summary(name: str, runs: list[dict]) -> None:
    keys = list(runs[0])
    for run in runs[1:]:
        keys += [k for k in run if k not in keys]
    print(f"  {name}: {len(runs)} cold runs, seconds        wall best  median    CPU best  median")
    order = ["preview (total)", "Election ready (all of the below)"]
    for key in sorted(keys, key=lambda k: (order.index(k) if k in order else 2, k.startswith("rule"), keys.index(k))):
        walls = [run.get(key, (0.0, 0.0))[0] for run in runs]
        cpus = [run.get(key, (0.0, 0.0))[1] for run in runs]
        print(f"    {key:<40} {min(walls):8.3f} {statistics.median(walls):7.3f}"
              f"   {min(cpus):8.3f} {statistics.median(cpus):7.3f}")


def worker(url: str, budget_id: int) -> None:
    """One version's cold previews on demand: a line on stdin, one run, its figures on stdout."""
    import pbvote
    from pbvote import create_app
    from pbvote.cycles.models import Budget
    from pbvote.extensions import db
    from pbvote.results import services

    try:
        from pbvote.results.counting import clear_cache
    except ImportError:  # a version without the cache
        clear_cache = None
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    print(json.dumps({"pbvote": str(Path(pbvote.__file__).parent)}), flush=True)
    for _line in sys.stdin:
        with app.app_context(), app.test_request_context("/"):
            if clear_cache:
                clear_cache()
            budget = db.session.get(Budget, budget_id)
            budget.cycle
            wall, cpu = time.perf_counter(), time.process_time()
            previews = services.preview_budget(budget)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            db.session.rollback()
        funded = [sorted(p.outcome.selected) if p.outcome else None for p in previews]
        print(json.dumps({"wall": wall, "cpu": cpu, "funded": funded}), flush=True)


def compare(apps: dict, urls: dict, against: Path, runs: int) -> None:
    """Cold previews of this tree and of ``against``, alternated, per database."""
    trees = {"before": against.resolve(), "after": HERE.parent}
    workers = {}
    for db_name, (_app, budget_id) in apps.items():
        for version, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": str(tree)}
            process = subprocess.Popen(
                [sys.executable, str(HERE / "preview.py"), "--worker", urls[db_name], str(budget_id)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(tree))
            imported = json.loads(process.stdout.readline())["pbvote"]
            print(f"  {version} on {db_name}: pbvote from {imported}")
            workers[(db_name, version)] = process
    figures: dict = {key: [] for key in workers}
    funded: dict = {}
    for round_ in range(runs + 1):  # the first round warms each worker up and is not counted
        for key, process in workers.items():
            process.stdin.write("run\n")
            process.stdin.flush()
            run = json.loads(process.stdout.readline())
            if round_:
                figures[key].append((run["wall"], run["cpu"]))
            funded[key] = run["funded"]
    for process in workers.values():
        process.stdin.close()
        process.wait()
    print(f"  whole cold preview, {runs} alternated runs each   wall best  median    CPU best  median")
    for (db_name, version), values in figures.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(f"    {db_name:<11} {version:<7} {min(walls):21.3f} {statistics.median(walls):7.3f}"
              f"   {min(cpus):8.3f} {statistics.median(cpus):7.3f}")
    same = len({json.dumps(value) for value in funded.values()}) == 1
    print(f"  funded sets equal across versions and databases: {'yes' if same else 'NO'}")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it does not exist yet (the server's
    ``postgres`` database is used to create it); stop with one line when the server cannot be reached."""
    import sqlalchemy as sa

    target = sa.engine.make_url(url)
    engine = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": target.database})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    except sa.exc.OperationalError as error:
        raise SystemExit(f"bench/preview.py: PostgreSQL at {target.render_as_string(hide_password=True)} "
                         f"cannot be reached ({error.orig}); use --no-postgresql for SQLite only") from None


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--database", default=DEFAULT_PG, help=f"PostgreSQL URL (default {DEFAULT_PG})")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    parser.add_argument("--runs", type=int, default=7, help="cold runs per database (default 7)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one cold run per database")
    parser.add_argument("--against", type=Path, help="another source tree of pbvote to compare with (before/after)")
    args = parser.parse_args()

    from pbvote import create_app

    urls = {"SQLite": f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"}
    if not args.no_postgresql:
        ensure_database(args.database)
        urls["PostgreSQL"] = args.database
    print(f"{args.file.name}")
    apps = {}
    for name, url in urls.items():
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
        apps[name] = (app, import_into(app, args.file))

    if args.against:
        compare(apps, urls, args.against, args.runs)
        return

    if args.profile:
        for name, (app, budget_id) in apps.items():
            one_run(app, budget_id)  # connections and caches of the libraries warmed
            profile = cProfile.Profile()
            one_run(app, budget_id, profile=profile)
            print(f"\n  cProfile of one cold preview on {name}:")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return

    for name, (app, budget_id) in apps.items():  # one untimed run each: connection pool, imports
        one_run(app, budget_id)
    results: dict[str, list[dict]] = {name: [] for name in apps}
    outcomes = {}
    for _ in range(args.runs):
        for name, (app, budget_id) in apps.items():  # alternated
            previews, parts = one_run(app, budget_id)
            results[name].append(parts)
            outcomes[name] = [(p.rule, p.outcome.selected if p.outcome else p.error) for p in previews]
    for name, runs in results.items():
        summary(name, runs)
        _, warm = one_run(apps[name][0], apps[name][1], cold=False)
        print(f"    {'warm (Election from the cache)':<40} {warm['preview (total)'][0]:8.3f}"
              f"{'':8}   {warm['preview (total)'][1]:8.3f}")
    if len(outcomes) > 1:
        same = len({repr(o) for o in outcomes.values()}) == 1
        print(f"  outcomes equal on every database: {'yes' if same else 'NO'}")
    for rule, selected in next(iter(outcomes.values())):
        print(f"    {rule:<18} {len(selected) if isinstance(selected, tuple) else selected} funded")


if __name__ == "__main__":
    main()
