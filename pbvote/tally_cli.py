"""``pbvote tally``: run a rule on a pabulib file from the command line.

Needs no database and no app configuration: it imports only
:mod:`pbvote.tally` and click. The app registers :data:`tally_command` in
its ``pbvote`` command group.

Exit status: 0 on success, 1 when ``--check-selected`` finds a difference
with the file's ``selected`` column, 2 for an unknown rule or option value
or a file that cannot be read (with a one-line message on stderr, naming the
line of the file where it can). It never prints a traceback: an error that
is not the file's (a bug) is reported the same way, as an internal error.
"""

from __future__ import annotations

import json

import click

from pbvote.tally import (
    COMPLETIONS,
    MONEY_PARAMETERS,
    RULES,
    TIE_BREAKS,
    UTILITIES,
    TallyError,
    rule_for_file,
    run_rule,
)
from pbvote.tally.amounts import decimal_text, format_money
from pbvote.tally.pabulib import PabulibError, read

FORMATS = ("text", "json")


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
        f"funded {len(outcome.selected)} of {len(outcome.projects)} projects  "
        f"in {outcome.seconds:.3f} s",
        f"{sat.voters_with_funded_project:,} of {sat.voters:,} voters "
        f"({float(sat.share):.1%}) have at least one funded project",
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


@click.command("tally")
@click.argument("file", metavar="FILE.pb")
@click.option("--rule", "rule", required=True, metavar="RULE",
              help=f"One of: {', '.join(RULES)}, or from-file (the rule in the file's META).")
@click.option("--utility", default=None, metavar="UTILITY",
              help=f"{'|'.join(UTILITIES)} (default: cost; greedy on point ballots: points).")
@click.option("--completion", default="none", metavar="COMPLETION",
              help=f"For mes: {'|'.join(COMPLETIONS)} (default: none).")
@click.option("--tie-break", "tie_break", default="lexico", metavar="TIE",
              help="lexico (smallest project id) | equalshares (lowest cost, most votes, id).")
@click.option("--format", "fmt", default="text", metavar="FORMAT", help="text | json.")
@click.option("--check-selected", is_flag=True,
              help="Exit 1 if the funded projects differ from the file's selected column.")
def tally_command(file, rule, utility, completion, tie_break, fmt, check_selected):
    """Tally a participatory-budgeting election stored as a pabulib FILE.pb."""
    try:
        _tally(file, rule, utility, completion, tie_break, fmt, check_selected)
    except Exception as exc:  # a bug, not the file's fault: still one line, no traceback
        _fail(f"internal error ({type(exc).__name__}: {exc}) while tallying {file}; "
              "please report it with the file")


def _tally(file, rule, utility, completion, tie_break, fmt, check_selected):
    _choice("format", fmt, FORMATS)
    _choice("tie-break", tie_break, TIE_BREAKS)
    _choice("completion", completion, COMPLETIONS)
    if utility is not None:
        _choice("utility", utility, UTILITIES)
    if rule != "from-file":
        _choice("rule", rule, tuple(RULES) + ("from-file",))
    try:
        pb = read(file)
        election = pb.to_election()
    except FileNotFoundError:
        _fail(f"no such file: {file}")
    except (OSError, PabulibError) as exc:
        _fail(f"cannot read {file}: {exc}")
    options = {"utility": utility, "completion": completion}
    if rule == "from-file":
        try:
            rule, from_meta = rule_for_file(pb.meta_dict.get("rule", ""))
        except TallyError as exc:
            _fail(str(exc))
        options.update({k: v for k, v in from_meta.items() if k != "utility" or utility is None})
    try:
        outcome = run_rule(election, rule, tie_break=tie_break, **options)
    except TallyError as exc:
        _fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps(outcome_as_dict(outcome), ensure_ascii=False, indent=2))
    else:
        click.echo(_text(outcome, file))
    if check_selected:
        published = pb.selected()
        if published is None:
            _fail(f"{file} has no selected column to check against")
        missing = sorted(set(published) - outcome.selected_set)
        extra = sorted(outcome.selected_set - set(published))
        if missing or extra:
            click.echo(f"MISMATCH with the file's selected column: not funded here but published "
                       f"{missing}, funded here but not published {extra}", err=True)
            raise SystemExit(1)
        click.echo("selected: matches the file's selected column", err=True)
