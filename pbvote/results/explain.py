"""The engine's reasons in plain words and money, for residents.

The engine writes one sentence per project with project ids and bare amounts (it knows no names
and no currency); it also hands over structured details (rank, money left when the project's turn
came, the projects funded before it, MES's effective support).  From those this module writes what
a resident reads: "Not funded: needed €120,000; €80,000 was left when its turn came, after the 5
projects above."  A project skipped by ``greedy-exclusive`` names the funded project of its group
and the group's reason.  Where a rule gives no such details the engine's own sentence is shown.
"""
from __future__ import annotations

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from types import SimpleNamespace

from pbvote.proposals.services import group_name_of
from pbvote.results.publication import MONEY_DETAILS
from pbvote.templating import money, number


def _amount(value, currency: str) -> str | None:
    try:
        return money(int(round(float(value))), currency)
    except (TypeError, ValueError):
        return None


def explain(line, unit: str, currency: str) -> str:
    """One published project line (:class:`~pbvote.results.models.PublishedProject`) in plain words."""
    d = line.details or {}
    cost = money(line.cost_amount, currency)
    if "below_threshold" in d:
        return _("Not funded: %(score)s %(unit)s, below the threshold of %(threshold)s.",
                 score=number(line.score), unit=unit, threshold=number(d["below_threshold"]))
    if d.get("excluded_by") and not line.funded:  # greedy-exclusive: a project of its group was funded
        return _excluded(line, str(d["excluded_by"]))
    if "reserve" in d and line.funded and "money_left" in d:  # greedy with a reserve
        return _("Funded from the reserve: it did not fit, but %(left)s of its cost of %(cost)s was left, so the "
                 "reserve pays the other %(rest)s.", left=money(d["money_left"], currency), cost=cost,
                 rest=money(line.cost_amount - d["money_left"], currency))
    if "money_left" in d:  # greedy rules
        left = money(d["money_left"], currency)
        ahead = len(d.get("funded_ahead") or [])
        above = ngettext("after the project above", "after the %(num)d projects above", ahead) if ahead else \
            _("as the first in line")
        if line.funded:
            return _("Funded: ranked #%(rank)d; it costs %(cost)s and %(left)s was left when its turn came, %(above)s.",
                     rank=d.get("rank", 0), cost=cost, left=left, above=above)
        if d.get("money_left", 0) >= line.cost_amount:
            return _("Not funded: the count had stopped at a project above that did not fit.")
        return _("Not funded: needed %(cost)s; %(left)s was left when its turn came, %(above)s.",
                 cost=cost, left=left, above=above)
    if "effective_votes" in d and d["effective_votes"] is not None:  # MES, funded
        share = _amount(d.get("max_payment"), currency)
        return _("Funded in round %(round)s: effective support %(support)s; its supporters paid at most %(share)s each.",
                 round=d.get("round", "?"), support=format_decimal(float(d["effective_votes"]), "#,##0.0"), share=share or "?")
    if "supporters_can_pay" in d and not line.funded:  # MES, not funded
        if not line.score:
            return _("Not funded: nobody voted for it.")
        can_pay = _amount(d["supporters_can_pay"], currency)
        return _("Not funded: needed %(cost)s; its supporters had only %(can_pay)s left of their equal shares.",
                 cost=cost, can_pay=can_pay or "?")
    if "optimum" in d:  # the optimal knapsack
        values = dict(value=format_decimal(d.get("value") or 0), optimum=format_decimal(d["optimum"]), unit=unit)
        if line.funded:
            return _("Funded: part of the set of projects that fits in the budget with the most %(unit)s in total "
                     "(%(optimum)s); it adds %(value)s.", **values)
        return _("Not funded: the set of projects that fits in the budget with the most %(unit)s in total "
                 "(%(optimum)s) does not include it (its own: %(value)s).", **values)
    if "load" in d and line.funded:  # sequential Phragmén
        load = _amount(d["load"], currency)
        if load is None or not line.score:
            return _("Funded in round %(round)s: nobody voted for it, but it still fit.", round=d.get("round", "?"))
        return _("Funded in round %(round)s: its supporters could share its cost so that no one carries more "
                 "than %(load)s.", round=d.get("round", "?"), load=load)
    if "stopped_at" in d and not line.funded:  # sequential Phragmén
        if not line.score:
            return _("Not funded: nobody voted for it.")
        if d["stopped_at"] is None:
            return _("Not funded.")
        if str(d["stopped_at"]) == str(getattr(line, "proposal_id", None)):
            return _("Not funded: it was next, but it did not fit in what was left of the budget, so counting "
                     "stopped.")
        return _("Not funded: counting stopped at project #%(project)s, which did not fit, before its turn.",
                 project=d["stopped_at"])
    if d.get("completion") == "greedy" and line.funded:
        return _("Funded when the rest of the budget was filled greedily (most votes first).")
    return line.reason


def _excluded(line, rival_id: str) -> str:
    """"Not funded: “Elm Park bench” was funded, and only one of them can be built (Same site: …).".
    A line of a publication names the rival by its title; a line of the staff's preview (no
    publication yet) by its title when ``titles`` were handed in, else by its number."""
    publication = getattr(line, "publication", None)
    title = None
    if publication is not None:
        rival = next((other for other in publication.projects if str(other.proposal_id) == rival_id), None)
        title = rival.proposal.title if rival is not None and rival.proposal is not None else None
    else:
        title = (getattr(line, "titles", None) or {}).get(rival_id)
    try:
        reason = group_name_of(int(line.proposal_id))
    except (TypeError, ValueError):
        reason = None
    if title is None:
        return _("Not funded: project #%(project)s of the same group of mutually exclusive projects was funded.",
                 project=rival_id)
    if reason:
        return _("Not funded: “%(title)s” was funded and cannot be built together with it (%(reason)s).",
                 title=title, reason=reason)
    return _("Not funded: “%(title)s” was funded and cannot be built together with it.", title=title)


def explain_outcome(project, factor: int, unit: str, currency: str, titles: dict[str, str] | None = None) -> str:
    """A project of an engine outcome (:class:`pbvote.tally.model.ProjectResult`, amounts in the
    counting units: times ``factor`` they are in the currency's smallest unit), as :func:`explain`
    words a published line: for the staff's preview before publishing (``titles``: project id →
    title, to name the projects the reasons refer to)."""
    details = dict(project.details or {})
    for key in MONEY_DETAILS:
        if isinstance(details.get(key), (int, float)):
            details[key] = details[key] * factor
    line = SimpleNamespace(details=details, cost_amount=project.cost * factor, score=project.score,
                           funded=project.selected, reason=project.reason, proposal_id=project.id, titles=titles)
    return explain(line, unit, currency)
