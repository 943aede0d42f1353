"""Benchmark the tally engine against pabutools 1.2.3 on the shared pabulib files.

    python bench/tally.py                      # all files, all rules, add1 capped at 120 s
    python bench/tally.py --files Lodz Warszawa_2026 --rules greedy mes
    python bench/tally.py --live-pabutools     # rerun pabutools (CPU s, capped) instead of
                                               # reading time_s from pabutools_outcomes.json
    python bench/tally.py --live Lodz Warszawa_2026   # same, only for these files

Our time is one ``run_rule`` call on a freshly built election: parsing is
excluded (as for pabutools' ``time_s``) but compiling the ballots for the
rules is included. Garbage left by earlier steps is collected before each
timed call (``gc.collect()``): otherwise a full collection, which scans the
parsed file the benchmark holds, lands in whichever rule happens to run
when the allocation counters overflow, and moves from rule to rule with any
change in allocations. Both wall-clock and CPU seconds are shown; the ratio
uses our CPU seconds, so that other load on the machine does not distort it
(pabutools' ``time_s`` was measured on this machine when it was quiet). Each
add1 run happens in a forked child so a cap can stop it; the time is
measured inside the child. Prints a table, then the parse time of the
largest file and the add1 total. This machine's speed drifts: compare two
versions by alternating runs (before, after, before, after).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pbvote.tally import pabulib, run_rule  # noqa: E402

# our rule -> (run_rule arguments, key in pabutools_outcomes.json)
RULES = {
    "greedy": (("greedy", {"utility": "cost"}), "greedy_cost_sat"),
    "knapsack": (("knapsack", {"utility": "cost"}), "maxwelfare_cost_sat"),
    "mes": (("mes", {"utility": "cost"}), "mes_cost"),
    "phragmen": (("phragmen", {}), "phragmen"),
    "mes+add1": (("mes", {"utility": "cost", "completion": "add1"}), "mes_cost_add1"),
}


def data_dir() -> Path:
    env = os.environ.get("PBVOTE_PABULIB_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "pabulib"


def _timed_child(conn, path, rule, options):
    election = pabulib.load_election(path)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    outcome = run_rule(election, rule, **options)
    conn.send((time.perf_counter() - start, time.process_time() - cpu, dict(outcome.parameters)))


def in_child(target, args, cap: float):
    """Run ``target(conn, *args)`` in a forked child; its result, or None after ``cap`` s."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(child, *args))
    proc.start()
    if parent.poll(cap):
        result = parent.recv()
        proc.join()
        return result
    proc.kill()
    proc.join()
    return None


def _pabutools_child(conn, path, rule_key):
    from pabutools.election import (ApprovalBallot, ApprovalProfile, Cost_Sat,
                                    parse_pabulib)
    from pabutools.rules import (greedy_utilitarian_welfare, max_additive_utilitarian_welfare,
                                 method_of_equal_shares, sequential_phragmen)

    instance, profile = parse_pabulib(str(path))
    if not isinstance(profile, ApprovalProfile):
        profile = ApprovalProfile(
            [ApprovalBallot([p for p in b if getattr(b, "get", lambda _p: 1)(p)]) for b in profile],
            instance=instance,
        )
    calls = {
        "greedy_cost_sat": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat),
        "maxwelfare_cost_sat": lambda: max_additive_utilitarian_welfare(
            instance, profile, sat_class=Cost_Sat),
        "mes_cost": lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat),
        "phragmen": lambda: sequential_phragmen(instance, profile),
        "mes_cost_add1": lambda: method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, voter_budget_increment=1),
    }
    cpu = time.process_time()
    calls[rule_key]()
    conn.send(time.process_time() - cpu)  # CPU seconds, like our ratio


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", nargs="*", help="substrings of file names (default: all)")
    ap.add_argument("--rules", nargs="*", choices=list(RULES), default=list(RULES))
    ap.add_argument("--live-pabutools", action="store_true",
                    help="rerun pabutools (see --live-cap) instead of using time_s")
    ap.add_argument("--live", nargs="*", default=[], metavar="SUBSTR",
                    help="rerun pabutools in this run for the files matching these substrings "
                         "(every rule but mes+add1)")
    ap.add_argument("--live-cap", type=float, default=180.0,
                    help="wall seconds after which a live pabutools run is stopped (default 180)")
    ap.add_argument("--add1-cap", type=float, default=120.0,
                    help="seconds after which an add1 run is stopped (default 120)")
    args = ap.parse_args(argv)

    d = data_dir()
    ref = {f["file"]: f for f in json.loads((d / "pabutools_outcomes.json").read_text())["files"]}
    files = sorted(d.glob("*.pb"))
    if args.files:
        files = [f for f in files if any(s in f.name for s in args.files)]

    from pbvote.tally.mes import kernel
    print("C kernel (pbvote.tally.mes._mes_kernel): "
          + ("built, used by MES + add1" if kernel._mes_kernel is not None
             else "not built (numpy/exact paths, same results)"))
    header = (f"{'file':<42} {'voters':>7} {'proj':>4} {'rule':<9} {'ours s':>8} {'ours cpu':>8} "
              f"{'pabutools s':>11} {'ratio':>6}")
    print(header)
    print("-" * len(header))
    add1_total, add1_cpu, add1_complete, add1_files = 0.0, 0.0, True, {}
    for path in files:
        pb = pabulib.read(path)
        election = pb.to_election()
        for name in args.rules:
            (rule, options), key = RULES[name]
            if name == "mes+add1":
                res = in_child(_timed_child, (path, rule, options), args.add1_cap)
                ours, cpu = (None, None) if res is None else res[:2]
                runs = "" if res is None else (f"  {res[2]['mes_runs']} runs for "
                                               f"{res[2]['naive_mes_runs']} unit steps, "
                                               f"{res[2].get('mes_kernel_runs', 0)} in C")
                add1_files[path.name] = (ours, cpu)
                if ours is None:
                    add1_complete = False
                else:
                    add1_total += ours
                    add1_cpu += cpu
            else:
                runs = ""
                fresh = dataclasses.replace(election)  # nothing cached: compile is timed
                gc.collect()
                start, cpu = time.perf_counter(), time.process_time()
                run_rule(fresh, rule, **options)
                ours, cpu = time.perf_counter() - start, time.process_time() - cpu
            entry = ref.get(path.name, {}).get("rules", {}).get(key, {})
            live = args.live_pabutools or any(x in path.name for x in args.live)
            if live and name != "mes+add1":  # pabutools' add1 runs for hours there
                theirs = in_child(_pabutools_child, (path, key), args.live_cap)
                theirs_text = f"{theirs:.3f}" if theirs is not None else f"> {args.live_cap:.0f}"
            else:
                theirs = entry.get("time_s") if entry.get("status") == "ok" else None
                theirs_text = f"{theirs:.3f}" if theirs is not None else (
                    f"> {entry.get('cap_s', 120):.0f}" if entry.get("status") == "timeout" else "n/a")
            ours_text = f"{ours:.3f}" if ours is not None else f"> {args.add1_cap:.0f}"
            cpu_text = f"{cpu:.3f}" if cpu is not None else ""
            ratio = f"{theirs / max(cpu, 1e-4):.0f}x" if cpu and theirs else ""
            print(f"{path.name[:42]:<42} {election.num_voters:>7} {len(election.projects):>4} "
                  f"{name:<9} {ours_text:>8} {cpu_text:>8} {theirs_text:>11} {ratio:>6}{runs}", flush=True)

    largest = max(d.glob("*.pb"), key=lambda p: p.stat().st_size)
    walls, cpus = [], []
    for _ in range(5):  # best of five: one run is at the mercy of the machine's other load
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        pabulib.read(largest).to_election()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    print(f"\nparse + build election of the largest file ({largest.name}, "
          f"{largest.stat().st_size / 1e6:.1f} MB), best of 5: {min(walls):.3f} s wall, "
          f"{min(cpus):.3f} s cpu")
    if "mes+add1" in args.rules:
        print(f"MES + add1 on {len(files)} files: {add1_total:.1f} s wall, {add1_cpu:.1f} s cpu"
              + ("" if add1_complete else " (some runs stopped at the cap, not counted)"))
        for name, (ours, cpu) in add1_files.items():
            if "Warszawa_2026" in name:
                print("MES+add1 Warszawa 2026: " + (f"{ours:.1f} s wall, {cpu:.1f} s cpu"
                                                     if ours is not None
                                                     else f"> {args.add1_cap:.0f} s (cap)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
