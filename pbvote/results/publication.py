"""Publishing a budget's result: counted once, frozen, audited, reproducible by anyone.

:func:`publish_result` counts the budget's countable ballots under its rule, writes the ballot file
(pabulib, with the funded projects in its ``selected`` column) and stores both with the SHA-256 of
that file, the engine's version, the rule, its parameters and tie-break.  Publishing again is a
*correction*: it needs a reason, makes a new version and leaves the old one visible, superseded.
Nothing is published while voting is open.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit, tally
from pbvote.ballots.models import Ballot, BallotChannel
from pbvote.cycles.models import Budget
from pbvote.errors import Conflict, InvalidInput, PhaseClosed
from pbvote.extensions import db
from pbvote.results.models import Publication, PublishedProject
from pbvote.results.counting import counted_election
from pbvote.results.services import voting_closed
from pbvote.tally import pabulib
from pbvote.timeutil import utcnow

#: What the engine's outcome is labelled with: the package version (the engine ships with it).
try:
    ENGINE_VERSION = f"pbvote {version('pbvote')}"
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    ENGINE_VERSION = "pbvote (source)"


def live_publication(budget: Budget) -> Publication | None:
    """The budget's current published result, if any."""
    return db.session.scalar(
        sa.select(Publication).where(Publication.budget_id == budget.id, Publication.superseded_at.is_(None))
    )


def publications(budget: Budget) -> list[Publication]:
    """Every version of the budget's result, newest first (corrections stay visible)."""
    return list(db.session.scalars(
        sa.select(Publication).where(Publication.budget_id == budget.id).order_by(Publication.version.desc())
    ))


def ballots_filename(budget: Budget) -> str:
    return f"{budget.cycle.slug}-budget-{budget.id}.pb"


def recount_command(filename: str) -> str:
    """The one command that reproduces a published result from its ballot file, exit status 0.

    The file names the rule and every parameter that defines its outcome (META ``pbvote_rule``
    and ``pbvote_parameters``, written by :func:`pbvote.tally.pabulib.from_election` with the
    outcome; pabulib's own ``rule`` beside them), so ``--rule from-file`` is always exact.
    """
    return f"pbvote tally {filename} --rule from-file --check-selected"


#: keys of the engine's per-project details that are amounts (in the counting election's unit)
MONEY_DETAILS = ("money_left", "max_payment", "supporters_can_pay", "cost", "load")


def _details(details, factor: int) -> dict:
    plain = _json_safe(dict(details))
    for key in MONEY_DETAILS:
        if isinstance(plain.get(key), (int, float)):
            plain[key] = plain[key] * factor
    return plain


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def publish_result(
    budget: Budget,
    actor=None,
    *,
    correction_reason: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Publication:
    """Count ``budget`` under its rule and publish the result, frozen.

    A first publication needs no reason; any later one is a correction and must say why (the old
    version stays, superseded).  Raises :class:`PhaseClosed` while voting is open.
    """
    now = now or utcnow()
    if not voting_closed(budget, now):
        raise PhaseClosed(_("Results are published once voting has closed."))
    live = live_publication(budget)
    correction_reason = (correction_reason or "").strip() or None
    if live is not None and correction_reason is None:
        raise Conflict(_("This result is already published. A correction needs a reason; it becomes a new, "
                         "visible version."), field="reason")
    if live is None and correction_reason is not None and not publications(budget):
        raise InvalidInput(_("There is nothing to correct yet: publish the result first."), field="reason")
    params = dict(budget.tally_params or {})
    election, factor = counted_election(budget, fresh=True)  # a frozen result never rests on a cache
    try:
        outcome = tally.run_rule(election, budget.tally_rule, **params)
    except (tally.TallyError, ValueError) as error:
        raise InvalidInput(_("The budget's rule cannot count these ballots: %(error)s", error=str(error))) from None
    # one writer: the engine's, with the outcome (its rule and parameters in META, ``selected``)
    text = pabulib.dumps(pabulib.from_election(election, outcome))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    filename = ballots_filename(budget)
    version = 1
    if live is not None:
        version = live.version + 1
        live.superseded_at = now
        db.session.flush()  # one live publication per budget: the old one steps aside first
    elif correction_reason is not None:
        version = max(p.version for p in publications(budget)) + 1
    parameters = dict(outcome.parameters)
    publication = Publication(
        budget_id=budget.id,
        version=version,
        rule=outcome.rule,
        parameters=_json_safe(parameters),
        tie_break=parameters.get("tie_break", "lexico"),
        engine_version=ENGINE_VERSION,
        ballot_count=election.num_voters,
        budget_amount=outcome.budget * factor,
        funded_amount=outcome.total_cost * factor,
        voters_with_funded_project=outcome.satisfaction.voters_with_funded_project,
        satisfaction=[list(pair) for pair in outcome.satisfaction.histogram],
        ballots_sha256=digest,
        ballots_file=text,
        recount_command=recount_command(filename),
        note=note,
        correction_reason=correction_reason,
        published_at=now,
        published_by_id=getattr(actor, "id", None),
    )
    order = {pid: i for i, pid in enumerate(outcome.selected)}
    ranked = sorted(outcome.projects, key=lambda p: (p.id not in order, order.get(p.id, 0), -p.score, p.cost, int(p.id)))
    publication.projects = [
        PublishedProject(
            proposal_id=int(p.id), position=i, funded=p.selected, score=p.score, cost_amount=p.cost * factor,
            reason=p.reason, details=_details(p.details, factor),
        )
        for i, p in enumerate(ranked, start=1)
    ]
    db.session.add(publication)
    audit.record(
        "results.corrected" if version > 1 else "results.published", actor=actor, subject=budget,
        version=version, rule=outcome.rule, ballots=election.num_voters, sha256=digest,
        funded=[int(pid) for pid in outcome.selected], reason=correction_reason,
    )
    db.session.flush()
    return publication


def recount_publication(publication: Publication) -> frozenset[str]:
    """Count the publication's own ballot file again, as anyone can: the funded project ids."""
    election = pabulib.parse(publication.ballots_file).to_election()
    parameters = {k: v for k, v in publication.parameters.items() if k in ("utility", "completion", "tie_break")}
    return tally.run_rule(election, publication.rule, **parameters).selected_set


def funded_by_proposal(budget: Budget) -> dict[int, bool]:
    """Proposal id → funded, under the live publication (empty before publication)."""
    live = live_publication(budget)
    return {} if live is None else {p.proposal_id: p.funded for p in live.projects}


def live_publications(cycle) -> dict[int, Publication]:
    """Budget id → its live publication, for a cycle's page."""
    ids = [budget.id for budget in cycle.budgets]
    rows = db.session.scalars(
        sa.select(Publication).where(Publication.budget_id.in_(ids), Publication.superseded_at.is_(None))
    )
    return {publication.budget_id: publication for publication in rows}


def turnout(cycle) -> list[dict]:
    """Counted ballots per budget (district) and channel: ``[{budget, online, kiosk, paper, total}, ...]``.

    One key per :class:`~pbvote.ballots.models.BallotChannel`: a ballot cast with an access code
    at home is ``online``, one cast at a community session's kiosk ``kiosk``."""
    rows = db.session.execute(
        sa.select(Ballot.budget_id, Ballot.channel, sa.func.count())
        .where(Ballot.budget_id.in_([b.id for b in cycle.budgets]),
               Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None))
        .group_by(Ballot.budget_id, Ballot.channel)
    ).all()
    counts = {(budget_id, channel): n for budget_id, channel, n in rows}
    table = []
    for budget in cycle.budgets:
        by_channel = {channel.value: counts.get((budget.id, channel), 0) for channel in BallotChannel}
        table.append({"budget": budget, **by_channel, "total": sum(by_channel.values())})
    return table


def tracking_hashes(budget: Budget) -> list[str]:
    """The tracking hashes of the budget's counted ballots, sorted: a voter finds theirs by hashing
    the tracking code on their receipt (the list reveals no order of casting)."""
    return list(db.session.scalars(
        sa.select(Ballot.tracking_hash)
        .where(Ballot.budget_id == budget.id, Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None),
               Ballot.tracking_hash.is_not(None))
        .order_by(Ballot.tracking_hash)
    ))
