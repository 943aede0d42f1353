"""Benchmark importing a real election (``pbvote import-pabulib``); the preview: ``bench/preview.py``.

    python bench/results.py                                   # Łódź 2022 on a fresh SQLite file
    python bench/results.py --database postgresql+psycopg://postgres@127.0.0.1:5432/pbvote_bench
    python bench/results.py --file ../shared/pabulib/Poland_Warszawa_2026.pb --repeat 5

Prints the import time (``pbvote import-pabulib``'s service: cycle, projects, every ballot, the
published result), best of ``--repeat`` imports, with wall-clock and CPU seconds (CPU is what
other load on a shared machine does not inflate).  Target of issue 15: under 60 s.  The staff
preview of the imported election (every rule, split by step, SQLite and PostgreSQL alternated)
is timed by ``bench/preview.py``.

The database named by ``--database`` is emptied (``drop_all``/``create_all``) before each import.
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
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"

    from pbvote import create_app
    from pbvote.extensions import db
    from pbvote.results.importer import import_pabulib

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    best = None
    for _ in range(args.repeat):
        with app.app_context(), app.test_request_context("/"):
            db.drop_all()
            db.create_all()
            imported, wall, cpu = timed(lambda: (import_pabulib(args.file), db.session.commit())[0])
            if best is None or wall < best[1]:
                best = (f"{args.file.name} on {db.engine.dialect.name}: {imported.ballots:,} ballots, "
                        f"{len(imported.publication.projects)} projects", wall, cpu)
    label, wall, cpu = best
    print(label)
    print(f"import (ballots, projects, published result), best of {args.repeat}: {wall:7.2f} s wall {cpu:7.2f} s CPU")

if __name__ == "__main__":
    main()
