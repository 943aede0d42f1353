"""``pbvote tally``: run a rule on a pabulib file from the command line.

Needs no database and no app configuration: it imports only
:mod:`pbvote.tally` and click. The app registers :data:`tally_command` in
its ``pbvote`` command group.

Exit status: 0 on success, 1 when ``--check-selected`` finds a difference
with the file's ``selected`` 1s (2s and 3s, funded outside the rule, are
listed apart), 2 for an unknown rule or option value or a file that cannot
be read (with a one-line message on stderr, naming the line of the file
where it can). It never prints a traceback: an error that is not the file's
(a bug) is reported the same way, as an internal error. What the reader
accepted although the file deviates from the format is printed as
``Warning: line N: ...`` on stderr (``warnings`` in JSON), notes about the
count as ``Note: ...``; neither changes the exit status.
"""

from __future__ import annotations

import json
from dataclasses import replace

import click

from pbvote.tally import (
    COMPLETIONS,
    DEFAULT_RESERVE,
    MONEY_PARAMETERS,
    RULES,
    TIE_BREAKS,
    UTILITIES,
    TallyError,
    rule_from_meta,
    run_rule,
)
from pbvote.tally import check_selected as check_selected_column
from pbvote.tally.amounts import decimal_text, format_money
from pbvote.tally.pabulib import PabulibError, read

FORMATS = ("text", "json")
EPILOG = (
    "Exit status: 0 on success; 1 when --check-selected finds a difference with the file's "
    "selected column; 2 for an unknown rule or option, or a file that cannot be read (one "
    "line on stderr, naming the line of the file where it can). The command that reproduces "
    "a published file: pbvote tally FILE.pb --rule from-file --check-selected."
)


def _fail(message: str) -> None:
    click.echo("Error: " + " ".join(message.splitlines()), err=True)
    raise SystemExit(2)


def _choice(name: str, value: str, allowed) -> None:
    if value not in allowed:
        _fail(f"unknown {name} {value!r} (choose from {', '.join(allowed)})")


def _money(amount: int, scale: int):
    """An amount in the file's currency unit for JSON: an int when whole, else
    its exact decimal text (``"7200.5"``; a float could round it)."""
    if amount % scale == 0:
        return amount // scale
    return decimal_text(amount, scale)


def _parameters(outcome) -> dict:
    """The outcome's parameters, money among them in the file's currency unit."""
    scale = outcome.money_scale
    params = dict(outcome.parameters)
    if scale != 1:
        for key in MONEY_PARAMETERS & params.keys():
            if params[key] is not None:
                params[key] = round(params[key] / scale, 6)
    return params


def outcome_as_dict(outcome) -> dict:
    """The JSON shape of an outcome (also usable by the web app's API)."""
    scale = outcome.money_scale
    sat = outcome.satisfaction
    return {
        "rule": outcome.rule,
        "parameters": _parameters(outcome),
        "budget": _money(outcome.budget, scale),
        "total_cost": _money(outcome.total_cost, scale),
        "selected": list(outcome.selected),
        "reserve": list(outcome.reserve),
        "notes": list(outcome.notes),
        "projects": [
            {"id": p.id, "cost": _money(p.cost, scale), "score": p.score,
             "selected": p.selected, "reason": p.reason}
            for p in outcome.projects
        ],
        "satisfaction": {
            "voters": sat.voters,
            "voters_with_funded_project": sat.voters_with_funded_project,
            "share": round(float(sat.share), 6),
            "histogram": {str(k): v for k, v in sat.histogram},
        },
        "seconds": round(outcome.seconds, 6),
    }


def _text(outcome, path: str) -> str:
    scale = outcome.money_scale
    params = ", ".join(f"{k}={v}" for k, v in _parameters(outcome).items())
    sat = outcome.satisfaction
    lines = [
        f"{path}: rule {outcome.rule} ({params})",
        f"budget {format_money(outcome.budget, scale)}  spent {format_money(outcome.total_cost, scale)}  "
        f"funded {len(outcome.selected)} of {len(outcome.projects)} projects"
        + (f" ({len(outcome.reserve)} from the reserve, which pays "
           f"{format_money(outcome.reserve_used, scale)})" if outcome.reserve else "")
        + f"  in {outcome.seconds:.3f} s",
        f"{sat.voters_with_funded_project:,} of {sat.voters:,} voters "
        f"({float(sat.share):.1%}) have at least one funded project",
        *(f"note: {note}" for note in outcome.notes),
        "",
    ]
    order = {pid: i for i, pid in enumerate(outcome.selected, start=1)}
    rows = sorted(outcome.projects, key=lambda p: (p.id not in order, order.get(p.id, 0)))
    width = max([len(p.id) for p in rows] + [7])
    lines.append(f"{'#':>4}  {'project':<{width}}  {'cost':>14}  {'score':>9}  reason")
    for p in rows:
        mark = str(order[p.id]) if p.id in order else "-"
        lines.append(f"{mark:>4}  {p.id:<{width}}  {format_money(p.cost, scale):>14}  "
                     f"{p.score:>9,}  {p.reason}")
    return "\n".join(lines)


@click.command("tally", epilog=EPILOG)
@click.argument("file", metavar="FILE.pb")
@click.option("--rule", "rule", required=True, metavar="RULE",
              help=f"One of: {', '.join(RULES)}, or from-file: the rule the file names "
                   "(META pbvote_rule with pbvote_parameters, else pabulib's rule).")
@click.option("--utility", default=None, metavar="UTILITY",
              help=f"{'|'.join(UTILITIES)} (default: the file's with from-file, else cost; "
                   "greedy rules on point ballots: points).")
@click.option("--completion", default=None, metavar="COMPLETION",
              help=f"For mes: {'|'.join(COMPLETIONS)} (default: the file's with from-file, "
                   "else none).")
@click.option("--tie-break", "tie_break", default=None, metavar="TIE",
              help="lexico (smallest project id) | equalshares (lowest cost, most votes, id) "
                   "(default: the file's with from-file, else lexico).")
@click.option("--reserve", default=None, metavar="PERCENT",
              help=f"For greedy-custom: the share of the next project's cost that must be "
                   f"left for the reserve to fund it (default: the file's, else "
                   f"{DEFAULT_RESERVE}).")
@click.option("--exclusive-group", "groups", multiple=True, metavar="ID,ID,...",
              help="Projects of which at most one can be funded (repeatable); added to the "
                   "file's META pbvote_exclusive_groups. Only greedy-exclusive honours them.")
@click.option("--format", "fmt", default="text", metavar="FORMAT", help="text | json.")
@click.option("--check-selected", is_flag=True,
              help="Compare the funded projects with the file's selected column: exit 1 "
                   "unless they are exactly the 1s (2s and 3s, funded outside the rule, are "
                   "listed apart; a reserve-funded project must be one of them).")
def tally_command(file, rule, utility, completion, tie_break, reserve, groups, fmt,
                  check_selected):
    """Tally a participatory-budgeting election stored as a pabulib FILE.pb.

    What the file deviates from the format in (a vote listing a project
    twice, a half-quoted name, ...) is read as the reference library reads
    it and reported as `Warning: line N: ...` on stderr (and in --format
    json as `warnings`); the exit status is not affected.
    """
    try:
        _tally(file, rule, utility, completion, tie_break, reserve, groups, fmt, check_selected)
    except Exception as exc:  # a bug, not the file's fault: still one line, no traceback
        _fail(f"internal error ({type(exc).__name__}: {exc}) while tallying {file}; "
              "please report it with the file")


def _tally(file, rule, utility, completion, tie_break, reserve, groups, fmt, check_selected):
    _choice("format", fmt, FORMATS)
    if tie_break is not None:
        _choice("tie-break", tie_break, TIE_BREAKS)
    if completion is not None:
        _choice("completion", completion, COMPLETIONS)
    if utility is not None:
        _choice("utility", utility, UTILITIES)
    if rule != "from-file":
        _choice("rule", rule, tuple(RULES) + ("from-file",))
    if reserve is not None:
        if not (reserve.isdigit() and reserve.isascii() and int(reserve) <= 100):
            _fail(f"--reserve is a whole percentage from 0 to 100, not {reserve!r}")
        reserve = int(reserve)
    try:
        pb = read(file)
        election = pb.to_election()
        if groups:
            extra = [[pid.strip() for pid in g.split(",") if pid.strip()] for g in groups]
            election = replace(election, exclusive_groups=election.exclusive_groups + tuple(
                tuple(g) for g in extra))
    except FileNotFoundError:
        _fail(f"no such file: {file}")
    except (OSError, PabulibError) as exc:
        _fail(f"cannot read {file}: {exc}")
    except ValueError as exc:  # --exclusive-group naming an unknown project
        _fail(f"--exclusive-group: {exc}")
    if check_selected and pb.selected_values() is None:
        _fail(f"{file} has no selected column to check against")
    given = {"utility": utility, "completion": completion, "tie_break": tie_break,
             "reserve": reserve}
    options: dict = {}
    if rule == "from-file":
        try:
            rule, options = rule_from_meta(pb.meta_dict)
        except TallyError as exc:
            _fail(str(exc))
    options.update({k: v for k, v in given.items() if v is not None})
    if options.get("completion") == "none" and RULES[rule].choice("completion") is None:
        del options["completion"]
    try:
        outcome = run_rule(election, rule, **options)
    except TallyError as exc:
        _fail(str(exc))
    _report(election.warnings)
    for note in outcome.notes:
        click.echo(f"Note: {note}", err=True)
    if fmt == "json":
        data = outcome_as_dict(outcome)
        data["warnings"] = [w.as_dict() for w in election.warnings]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(_text(outcome, file))
    if check_selected:
        check = check_selected_column(outcome, pb.selected_values())
        for line in check.describe():
            click.echo(line, err=True)
        if not check.matches:
            raise SystemExit(1)


WARNINGS_SHOWN = 20
"""Warnings of one kind printed on stderr before the rest are summed up (JSON has them all)."""


def _report(warnings) -> None:
    """``Warning: line N: ...`` on stderr, at most :data:`WARNINGS_SHOWN` of each kind."""
    shown: dict[str, int] = {}
    for w in warnings:
        shown[w.kind] = shown.get(w.kind, 0) + 1
        if shown[w.kind] <= WARNINGS_SHOWN:
            click.echo(f"Warning: {w}", err=True)
    for kind, count in shown.items():
        if count > WARNINGS_SHOWN:
            click.echo(f"Warning: {count - WARNINGS_SHOWN:,} more lines like these ({kind}); "
                       "--format json lists them all", err=True)
