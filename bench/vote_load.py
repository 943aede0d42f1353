"""Load benchmark: how many ballots per second pbvote casts on PostgreSQL behind its production server.

Run by hand (not part of the tests):

    .venv/bin/python bench/vote_load.py --voters 6000 --workers 2 --concurrency 16

What it does:

1. creates a fresh PostgreSQL database (``--pg-url`` names the server, for example
   ``--pg-url postgresql+psycopg://postgres@`` with ``PGHOST=/var/run/postgresql`` for its Unix
   socket; dropped at the end unless
   ``--keep``), migrates it, and creates a cycle in its voting phase with one approval budget;
2. generates ``--voters`` access codes through the real service, and prepares for each voter a
   browser session holding their code (signed with the server's secret key, as the "enter your
   code" page would) — so the measured request is exactly the cast, one ballot per request;
3. starts the server: granian (``--server granian``, the default and what ``pbvote up`` runs) with
   ``--workers`` single-threaded processes, or for comparison gunicorn (``--server gunicorn``, needs
   ``pip install gunicorn``; ``sync`` workers by default); production config, rate-limit counters in
   Redis (``--ratelimit-storage``; several worker processes must share them).  On 2 cores two
   single-threaded granian workers cast the most (see the defaults below);
4. runs a load generator on loopback: ``--processes`` single-threaded event loops (one by default) with
   ready-made requests and keep-alive HTTP connections,
   ``--concurrency`` requests in flight in total, each voter casting once (a few also cast their
   form twice, as a double click, which must return the same receipt);
5. reports sustained ballots/s, p50/p95/p99 latency and errors, then checks the database:
   ballots stored = successful first submissions, no voter with two participations or two live
   ballots.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "k" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(server_url: str, name: str) -> str:
    import psycopg

    base = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    base = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(db_url: str, ratelimit_storage: str = "memory://", pre_ping: bool = True) -> dict:
    env = dict(os.environ)
    env.update(
        PBVOTE_ENV="production",
        PBVOTE_DATABASE_URL=db_url,
        PBVOTE_SECRET_KEY=SECRET,
        PBVOTE_SECURE_COOKIES="0",
        PBVOTE_LOG_LEVEL="WARNING",
        PBVOTE_RATELIMIT_STORAGE_URL=ratelimit_storage,
        PBVOTE_DATABASE_PRE_PING="1" if pre_ping else "0",
        # Each run's database numbers its access codes from 1: counters of earlier runs must not count.
        PBVOTE_RATELIMIT_KEY_PREFIX=f"pbvote-bench-{os.getpid()}",
    )
    return env


def prepare(db_url: str, voters: int, projects: int) -> tuple[int, list[int], list[tuple[str, str]]]:
    """Set up the cycle and the voters' sessions.  Returns (budget id, project ids, [(cookie, csrf)])."""
    os.environ.update(server_env(db_url))
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from pbvote import create_app
    from pbvote.auth.models import Role, User
    from pbvote.ballots import services
    from pbvote.ballots.models import AccessCode
    from pbvote.cycles.models import BallotType, Budget, Cycle, Phase, PhaseKind
    from pbvote.extensions import db
    from pbvote.proposals.models import Proposal, ProposalStatus
    from pbvote.timeutil import utcnow

    app = create_app()
    with app.app_context():
        from pbvote.cli import upgrade_database

        upgrade_database()
        now = utcnow()
        staff = User(email="bench@example.org", display_name="Bench", role=Role.STAFF, password_hash="x")
        cycle = Cycle(slug="bench", name="Bench cycle", is_published=True, allow_vote_change=False)
        cycle.phases = [Phase(kind=PhaseKind.VOTING, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))]
        budget = Budget(name="City", total_amount=1_000_000_00, ballot_type=BallotType.APPROVAL, min_choices=1, max_choices=4)
        cycle.budgets = [budget]
        db.session.add_all([staff, cycle])
        db.session.flush()
        for i in range(projects):
            db.session.add(Proposal(cycle=cycle, budget=budget, author=staff, title=f"Project {i}", body="Bench.",
                                    estimated_amount=10_000_00 + i, final_amount=10_000_00 + i, status=ProposalStatus.FEASIBLE))
        db.session.flush()
        codes = []
        with app.test_request_context("/"):
            while len(codes) < voters:
                count = min(voters - len(codes), services.MAX_BATCH_SIZE)
                codes += services.generate_access_codes(staff, cycle, count=count, budget=budget)[1]
        db.session.commit()
        ids = {c.code_hash: c.id for c in db.session.scalars(db.select(AccessCode))}
        project_ids = [p.id for p in services.ballot_proposals(budget)]
        serializer = app.session_interface.get_signing_serializer(app)
        sessions = []
        with app.test_request_context("/"):
            csrf = generate_csrf()
            raw = session["csrf_token"]
        for code in codes:
            cookie = serializer.dumps({"voter_code_id": ids[services.hash_access_code(code)], "csrf_token": raw})
            sessions.append((cookie, csrf))
        budget_id = budget.id
        db.session.remove()
        db.engine.dispose()
    return budget_id, project_ids, sessions


def build_requests(port: int, budget_id: int, project_ids: list[int], jobs: list) -> list[tuple[int, bytes, bool]]:
    """Each job's POST as the bytes sent on the wire (built before the clock starts)."""
    rng = random.Random(2)
    path = f"/ballots/{budget_id}/cast"
    built = []
    for index, cookie, csrf, repeat in jobs:
        picks = rng.sample(project_ids, rng.randint(1, 4))
        body = urllib.parse.urlencode(
            [("csrf_token", csrf), ("token", f"bench-{index:08d}-submission")] + [("projects", str(p)) for p in picks]
        ).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Cookie: pbvote_session={cookie}\r\n\r\n"
        ).encode()
        built.append((index, head + body, repeat))
    return built


def _response_end(buffer: bytes) -> tuple[int, int] | None:
    """(status, length) of the complete HTTP/1.1 response at the start of ``buffer``, else None."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = buffer[:head_end].lower()
    status = int(head[9:12])
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        end = head_end + 4 + length
        return (status, end) if len(buffer) >= end else None
    if b"\r\ntransfer-encoding: chunked" in head:
        last = buffer.find(b"\r\n0\r\n\r\n", head_end)
        return (status, last + 7) if last >= 0 else None
    raise ValueError("response without Content-Length or chunked body")


def load_worker(port: int, requests: list[tuple[int, bytes, bool]], connections: int, out: mp.Queue) -> None:
    """Send ``requests`` over ``connections`` keep-alive connections, one request in flight on each,
    from a single-threaded event loop (``selectors``); put the timings on ``out``.

    The requests are ready-made bytes and the responses are read with a minimal HTTP/1.1 parser, so
    the generator takes as little as it can of the two cores it shares with the server (about a
    sixth of what ``http.client`` in threads took).
    """
    import selectors

    results: list[tuple[float, float, int, bool]] = []
    pending = list(reversed(requests))
    selector = selectors.DefaultSelector()
    clock = time.perf_counter

    def connect() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def send_next(state: dict) -> bool:
        if state["repeat"]:  # the double click: the same form once more, on the same connection
            state["repeat"], state["attempt"] = False, 1
        elif pending:
            _, state["payload"], state["repeat"] = pending.pop()
            state["attempt"] = 0
        else:
            return False
        state["buffer"], state["start"] = b"", clock()
        state["sock"].sendall(state["payload"])
        return True

    live = 0
    for _ in range(connections):
        state = {"sock": connect(), "repeat": False}
        if send_next(state):
            selector.register(state["sock"], selectors.EVENT_READ, state)
            live += 1
    while live:
        for key, _ in selector.select(timeout=60):
            state = key.data
            try:
                chunk = state["sock"].recv(65536)
                if not chunk:
                    raise ConnectionError("closed by the server")
                state["buffer"] += chunk
                done = _response_end(state["buffer"])
            except (OSError, ValueError):
                done = (599, 0)
                selector.unregister(state["sock"])
                state["sock"].close()
                state["sock"] = connect()
                selector.register(state["sock"], selectors.EVENT_READ, state)
            if done is None:
                continue
            results.append((state["start"], clock() - state["start"], done[0], state["attempt"] == 1))
            if not send_next(state):
                selector.unregister(state["sock"])
                state["sock"].close()
                live -= 1
    out.put(results)


def wait_for_server(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def check_database(db_url: str, budget_id: int) -> dict:
    import psycopg

    url = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "ballots": one(f"SELECT count(*) FROM ballots WHERE budget_id = {budget_id}"),
            "participations": one(f"SELECT count(*) FROM participations WHERE budget_id = {budget_id}"),
            "voters_with_two_participations": one(
                "SELECT count(*) FROM (SELECT access_code_id FROM participations GROUP BY budget_id, access_code_id HAVING count(*) > 1) d"
            ),
            "live_ballots_beyond_one_per_voter": one(
                "SELECT count(*) - count(DISTINCT participation_id) FROM ballots WHERE superseded_at IS NULL AND voided_at IS NULL AND participation_id IS NOT NULL"
            ),
        }


def cpu_seconds_by_group(server_pgid: int) -> dict[str, float]:
    """CPU time (user + system) used so far by the server, PostgreSQL, this benchmark and the rest.

    Read from /proc (Linux); the load generator's processes are this process's children.  Processes
    that ended in between are not counted, so take the figures as a guide to who used the two cores.
    """
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    out = {"server": 0.0, "postgres": 0.0, "redis": 0.0, "load generator": 0.0, "other": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, pgid = int(fields[1]), int(fields[2])
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if pgid == server_pgid:
            group = "server"
        elif comm.startswith("postgres"):
            group = "postgres"
        elif comm.startswith("redis"):
            group = "redis"
        elif int(entry) == me or ppid == me:
            group = "load generator"
        else:
            group = "other"
        out[group] += seconds
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432", help="PostgreSQL server (no database)")
    parser.add_argument("--voters", type=int, default=6000)
    parser.add_argument("--projects", type=int, default=12)
    # Defaults: with granian, 2 single-threaded workers on the 2-core machine cast the most (quiet
    # machine, 6000 voters: 2 -> 223/s, 2x2 threads 224, 3 -> 210, 3x2 208, 4 -> 189, 6 -> 161-185):
    # granian keeps the connections, and extra Python processes only add context switches.
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (granian blocking threads; gunicorn gthread)")
    parser.add_argument("--worker-class", default="sync", choices=["gthread", "sync"], help="gunicorn worker class")
    parser.add_argument("--server", default="granian", choices=["granian", "gunicorn"])
    parser.add_argument("--processes", type=int, default=1, help="load-generator processes (each one event loop)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight in total")
    parser.add_argument("--double-clicks", type=float, default=0.02, help="share of voters who submit twice")
    parser.add_argument("--ratelimit-storage", default="redis://127.0.0.1:6379/0",
                        help="rate-limit counters, as in production: shared by the worker processes "
                             "(memory:// keeps one set per process)")
    parser.add_argument("--no-pre-ping", dest="pre_ping", action="store_false",
                        help="PBVOTE_DATABASE_PRE_PING=0: no test round trip when a request takes a pooled "
                             "connection (on by default, as in production)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    name = f"pbvote_bench_{os.getpid()}"
    db_url = create_database(args.pg_url, name)
    print(f"database {name}: preparing {args.voters} voters ...", flush=True)
    t0 = time.time()
    budget_id, project_ids, sessions = prepare(db_url, args.voters, args.projects)
    print(f"  prepared in {time.time() - t0:.1f}s", flush=True)

    port = free_port()
    if args.server == "granian":
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(args.workers),
                   "--blocking-threads", str(args.threads), "--host", "127.0.0.1", "--port", str(port),
                   "--log-level", "warning", "--backlog", "2048", "--factory", "pbvote.wsgi:create_app"]
    else:
        command = [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", str(args.threads),
                   "--worker-class", args.worker_class, "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                   "--backlog", "2048", "pbvote.wsgi:create_app()"]
    server = subprocess.Popen(
        command,
        cwd=ROOT, env=server_env(db_url, args.ratelimit_storage, args.pre_ping), start_new_session=True,
    )
    try:
        wait_for_server(port)
        rng = random.Random(1)
        jobs = [(i, cookie, csrf, rng.random() < args.double_clicks) for i, (cookie, csrf) in enumerate(sessions)]
        requests = build_requests(port, budget_id, project_ids, jobs)
        chunks = [requests[i :: args.processes] for i in range(args.processes)]
        per_process = max(1, args.concurrency // args.processes)
        out: mp.Queue = mp.Queue()
        procs = [mp.Process(target=load_worker, args=(port, chunk, per_process, out)) for chunk in chunks]
        print(f"casting: {args.server}, {args.workers} workers x {args.threads} threads, {args.concurrency} in flight, "
              f"rate limits in {args.ratelimit_storage}, pre-ping {'on (idle connections)' if args.pre_ping else 'off'} ...", flush=True)
        cpu_before = cpu_seconds_by_group(server.pid)
        for proc in procs:
            proc.start()
        results = []
        for _ in procs:
            results.extend(out.get())
        cpu_after = cpu_seconds_by_group(server.pid)  # before join: the children still exist
        for proc in procs:
            proc.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    first = [r for r in results if not r[3]]
    starts = [r[0] for r in results]
    ends = [r[0] + r[1] for r in results]
    wall = max(ends) - min(starts)
    # Sustained rate: the middle 80% of the run (no warm-up or tail-off).
    lo, hi = min(starts) + 0.1 * wall, min(starts) + 0.9 * wall
    steady = [r for r in first if lo <= r[0] + r[1] <= hi and 200 <= r[2] < 300]
    latencies = [r[1] * 1000 for r in results]
    statuses: dict[int, int] = {}
    for r in results:
        statuses[r[2]] = statuses.get(r[2], 0) + 1
    ok_first = sum(1 for r in first if 200 <= r[2] < 300)
    repeats = [r for r in results if r[3]]
    print()
    print(f"requests: {len(results)} ({len(repeats)} double-click repeats) in {wall:.1f}s; statuses {dict(sorted(statuses.items()))}")
    print(f"ballots/s overall: {ok_first / wall:.0f}; sustained (middle 80%): {len(steady) / (hi - lo):.0f}")
    print(f"latency ms: p50 {percentile(latencies, 50):.1f}  p95 {percentile(latencies, 95):.1f}  "
          f"p99 {percentile(latencies, 99):.1f}  mean {statistics.mean(latencies):.1f}  max {max(latencies):.1f}")
    print(f"5xx: {sum(n for s, n in statuses.items() if s >= 500)}")
    used = {group: cpu_after[group] - cpu_before[group] for group in cpu_after}
    if used["other"] < 0:  # other processes ended during the run: their time is no longer listed
        used.pop("other")
    print("CPU ms per request: " + "  ".join(f"{group} {seconds * 1000 / len(results):.1f}" for group, seconds in used.items())
          + f"  (wall {wall * 1000 / len(results):.1f} ms per request; 2 cores = {2 * wall * 1000 / len(results):.1f} CPU ms)")
    # The steadier figure on a shared machine: what one request costs in CPU, everything counted,
    # and so how many the machine's cores could serve if they never waited (the run reaches a share).
    cores = os.cpu_count() or 1
    spent = sum(seconds for seconds in used.values() if seconds > 0) / len(results)
    print(f"CPU capacity: {cores} cores / {spent * 1000:.2f} CPU ms per request = {cores / spent:.0f} requests/s "
          f"if no core ever waited; this run used {100 * spent * len(results) / (cores * wall):.0f} % of the cores")
    check = check_database(db_url, budget_id)
    print(f"database: {check}")
    verdict = (
        check["ballots"] == ok_first
        and check["participations"] == ok_first
        and check["voters_with_two_participations"] == 0
        and check["live_ballots_beyond_one_per_voter"] == 0
    )
    print(f"ballots stored == successful first submissions ({ok_first}) and no duplicates: {'YES' if verdict else 'NO'}")
    if not args.keep:
        drop_database(args.pg_url, name)
    sys.exit(0 if verdict else 1)


if __name__ == "__main__":
    main()
