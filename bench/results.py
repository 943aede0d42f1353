"""Benchmark the results domain on a real election: import it, then preview it under every rule.

    python bench/results.py                                   # Łódź 2022 on a fresh SQLite file
    python bench/results.py --database postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench
    python bench/results.py --file ../shared/pabulib/Poland_Warszawa_2026.pb --repeat 5

Prints the import time (``pbvote import-pabulib``'s service: cycle, projects, every ballot, the
published result) and the staff preview's time (the engine's input read from the database as
plain rows, then the budget's own rule and greedy, knapsack, MES + add1 and Phragmén side by side),
best of ``--repeat`` runs, with wall-clock and CPU seconds (CPU is what other load on a shared
machine does not inflate).  Targets of issue 15: import under 60 s, preview under 1 s.

The database named by ``--database`` is emptied (``drop_all``/``create_all``) first.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = HERE.parent.parent / "shared" / "pabulib" / "Poland_Lodz_2022.pb"


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE if DEFAULT_FILE.is_file()
                        else Path("/work/shared/pabulib/Poland_Lodz_2022.pb"))
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"

    from pbvote import create_app
    from pbvote.extensions import db
    from pbvote.results import services
    from pbvote.results.importer import import_pabulib

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        with app.test_request_context("/"):
            imported, wall, cpu = timed(lambda: (import_pabulib(args.file), db.session.commit())[0])
            print(f"{args.file.name} on {db.engine.dialect.name}: {imported.ballots:,} ballots, "
                  f"{len(imported.publication.projects)} projects")
            print(f"import (ballots, projects, published result): {wall:7.2f} s wall {cpu:7.2f} s CPU")
            budget = imported.budget
            best = None
            for _ in range(args.repeat):
                db.session.expire_all()
                (election, _), e_wall, e_cpu = timed(lambda: (services.election_for_budget(budget), None))
                previews, wall, cpu = timed(lambda: services.preview_budget(budget))
                if best is None or wall < best[1]:
                    best = (previews, wall, cpu, e_wall, e_cpu)
            previews, wall, cpu, e_wall, e_cpu = best
            print(f"engine input alone (election_for_budget):       {e_wall:7.2f} s wall {e_cpu:7.2f} s CPU")
            print(f"preview under all rules (input included):        {wall:7.2f} s wall {cpu:7.2f} s CPU")
            for preview in previews:
                outcome = preview.outcome
                print(f"    {preview.rule:<18} {str(preview.parameters):<72} "
                      f"{outcome.seconds if outcome else float('nan'):6.3f} s  {len(outcome.selected) if outcome else '-'} funded")


if __name__ == "__main__":
    main()
