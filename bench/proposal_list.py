"""Seed 10,000 proposals and time the proposal-list queries (page 1 and a deep page, each sort,
filters and search).  Prints milliseconds per query (median of 5).

    .venv/bin/python bench/proposal_list.py                      # SQLite file in a temp dir
    PBVOTE_BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/proposal_list.py
(the PostgreSQL database is emptied: use a scratch one.)
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time

import sqlalchemy as sa

from pbvote import create_app
from pbvote.auth.models import User
from pbvote.cycles.models import Budget, Category, Cycle, Phase, PhaseKind
from pbvote.extensions import db
from pbvote.proposals import services
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.timeutil import utcnow

N = 10_000
WORDS = "tree bench lane garden light park school library court bus path river square youth play".split()


def seed() -> Cycle:
    now = utcnow()
    cycle = Cycle(slug="bench", name="Bench", is_published=True)
    cycle.phases = [Phase(kind=PhaseKind.SUBMISSION, starts_at=now.replace(year=now.year - 1), ends_at=now.replace(year=now.year + 1))]
    cycle.budgets = [Budget(name=f"B{i}", total_amount=10**9, position=i) for i in range(4)]
    cycle.categories = [Category(name=f"C{i}") for i in range(6)]
    user = User(email="bench@example.org", display_name="Bench", password_hash="x")
    db.session.add_all([cycle, user])
    db.session.flush()
    statuses = [ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE, ProposalStatus.UNFEASIBLE, ProposalStatus.DRAFT]
    rows = []
    for i in range(N):
        status = statuses[i % 4]
        rows.append({
            "cycle_id": cycle.id, "budget_id": cycle.budgets[i % 4].id, "category_id": cycle.categories[i % 6].id,
            "author_id": user.id, "title": f"{WORDS[i % 15]} {WORDS[(i * 7) % 15]} number {i}",
            "body": f"A proposal about {WORDS[(i * 3) % 15]} and {WORDS[(i * 11) % 15]} near street {i % 97}.",
            "estimated_amount": 1000 + i, "final_amount": 1000 + i if status == ProposalStatus.FEASIBLE else None,
            "review_reason": "no" if status == ProposalStatus.UNFEASIBLE else None,
            "status": status, "support_count": (i * 37) % 500, "created_at": now, "updated_at": now,
        })
    db.session.execute(sa.insert(Proposal), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return cycle


def timed(fn) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    url = os.environ.get("PBVOTE_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        cycle = seed()
        print(f"{db.engine.dialect.name}: seeded {N} proposals in {time.perf_counter() - started:.1f}s")
        cases = {
            "newest p1": services.ProposalQuery(sort="newest"),
            "supported p1": services.ProposalQuery(sort="supported"),
            "random p1": services.ProposalQuery(sort="random", seed=123457),
            "budget+status p1": services.ProposalQuery(budget_id=cycle.budgets[1].id, status=ProposalStatus.FEASIBLE),
            "category p1": services.ProposalQuery(category_id=cycle.categories[2].id, sort="supported"),
            "search 'garden' p1": services.ProposalQuery(text="garden"),
            "search 'river lane' p1": services.ProposalQuery(text="river lane", sort="supported"),
        }
        for name, query in cases.items():
            statement = services.search_statement(cycle, query)
            for page in (1, 300):
                ms = timed(lambda: db.paginate(statement, page=page, per_page=20, error_out=False).items)
                print(f"  {name.replace('p1', f'page {page}'):32s} {ms:7.1f} ms (page of 20 + count)")
        db.drop_all()


if __name__ == "__main__":
    main()
