"""Budget-cycle use cases: publishing cycles, configuring phases, budgets, ballot and tally rules.

Every change is audited.  Once a budget has received its first ballot (``Budget.frozen_at``), its
amount, ballot rule and tally rule cannot change, nor can the cycle's eligibility settings that
voters relied on: the services raise :class:`~pbvote.errors.RulesFrozen`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.cycles import ballot_kinds, rules
from pbvote.cycles.labels import PHASE_LABELS
from pbvote.cycles.models import (
    PHASE_ORDER,
    BallotType,
    Budget,
    Category,
    Cycle,
    DistrictEligibility,
    Phase,
    PhaseKind,
)
from pbvote.cycles.signals import budget_removing, budget_rule_changing, voting_closed
from pbvote.errors import Conflict, InvalidInput, RulesFrozen
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.templating import datetime_format
from pbvote.timeutil import is_zone, utcnow

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: Cycle fields staff can edit, and those among them that freeze with the first ballot.
CYCLE_FIELDS = (
    "slug", "name", "description", "currency", "timezone", "is_published", "max_proposals_per_resident",
    "support_threshold", "allow_vote_change", "district_eligibility", "minimum_age", "verified_only",
    "access_codes_enabled",
)
FROZEN_CYCLE_FIELDS = frozenset(
    {"allow_vote_change", "district_eligibility", "minimum_age", "verified_only", "access_codes_enabled", "currency"}
)
#: Budget fields; all but the name and position freeze with the first ballot.
BUDGET_FIELDS = (
    "name", "position", "district", "total_amount", "ballot_type", "min_choices", "max_choices",
    "min_spend_percent", "points_total", "points_per_project", "tally_rule", "tally_params",
)
FROZEN_BUDGET_FIELDS = frozenset(BUDGET_FIELDS) - {"name", "position"}


# -- reading ------------------------------------------------------------------------------------


def list_public_cycles() -> list[Cycle]:
    """Published cycles, the most recent first."""
    return list(
        db.session.scalars(sa.select(Cycle).where(Cycle.is_published.is_(True)).order_by(Cycle.created_at.desc(), Cycle.id.desc()))
    )


def list_all_cycles() -> list[Cycle]:
    """Every cycle, published or not (for staff), the most recent first."""
    return list(db.session.scalars(sa.select(Cycle).order_by(Cycle.created_at.desc(), Cycle.id.desc())))


def get_public_cycle(slug: str) -> Cycle | None:
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug, Cycle.is_published.is_(True)))


def is_frozen(cycle: Cycle) -> bool:
    """True once any budget of the cycle has received a ballot."""
    return any(budget.is_frozen for budget in cycle.budgets)


@dataclass(frozen=True)
class TimelineStep:
    kind: PhaseKind
    phase: Phase | None
    state: str  # "done", "current", "upcoming" or "skipped"


def cycle_timeline(cycle: Cycle, now: datetime | None = None) -> list[TimelineStep]:
    """Every phase kind in order, each done, current, upcoming or skipped at ``now``."""
    now = now or utcnow()
    timeline = []
    for kind in PHASE_ORDER:
        phase = cycle.phase(kind)
        if phase is None:
            state = "skipped"
        elif phase.ends_at <= now:
            state = "done"
        elif phase.starts_at <= now:
            state = "current"
        else:
            state = "upcoming"
        timeline.append(TimelineStep(kind, phase, state))
    return timeline


# -- cycles -------------------------------------------------------------------------------------


def _check_cycle_values(values: dict[str, Any], cycle: Cycle | None) -> None:
    if "slug" in values:
        slug = values["slug"] = (values["slug"] or "").strip().lower()
        if not SLUG_RE.match(slug) or len(slug) > 64:
            raise InvalidInput(_("Use lower-case letters, digits and hyphens for the web address."), field="slug")
        taken = db.session.scalar(sa.select(Cycle.id).where(Cycle.slug == slug))
        if taken is not None and (cycle is None or taken != cycle.id):
            raise Conflict(_("Another cycle already uses this web address."), field="slug")
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            raise InvalidInput(_("Give the cycle a name."), field="name")
    if "currency" in values:
        values["currency"] = (values["currency"] or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", values["currency"]):
            raise InvalidInput(_("Use a three-letter currency code such as EUR."), field="currency")
    if "timezone" in values:
        values["timezone"] = (values["timezone"] or "").strip() or None
        if values["timezone"] is not None and not is_zone(values["timezone"]):
            raise InvalidInput(_("Choose a time zone from the list, such as Europe/Warsaw, or leave it empty "
                                 "for the site's."), field="timezone")
    if values.get("max_proposals_per_resident") is not None and values["max_proposals_per_resident"] < 1:
        raise InvalidInput(_("The limit of proposals per resident must be at least 1 (or empty for no limit)."),
                           field="max_proposals_per_resident")
    if values.get("support_threshold") is not None and values["support_threshold"] < 0:
        raise InvalidInput(_("The support threshold cannot be negative."), field="support_threshold")
    if values.get("minimum_age") is not None and not 0 <= values["minimum_age"] <= 120:
        raise InvalidInput(_("Enter a minimum age between 0 and 120, or leave it empty."), field="minimum_age")
    if "district_eligibility" in values:
        values["district_eligibility"] = DistrictEligibility(values["district_eligibility"])


def create_cycle(actor, **values: Any) -> Cycle:
    """Create an unpublished-by-default cycle from the fields in :data:`CYCLE_FIELDS`."""
    unknown = set(values) - set(CYCLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown cycle fields: {sorted(unknown)}")
    values.setdefault("slug", "")
    values.setdefault("name", "")
    _check_cycle_values(values, None)
    cycle = Cycle(**values)
    db.session.add(cycle)
    db.session.flush()
    audit.record("cycle.created", actor=actor, subject=cycle, slug=cycle.slug)
    return cycle


def update_cycle(actor, cycle: Cycle, **values: Any) -> Cycle:
    """Change a cycle's settings; eligibility settings are refused once voting has begun."""
    unknown = set(values) - set(CYCLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown cycle fields: {sorted(unknown)}")
    _check_cycle_values(values, cycle)
    changes = {name: value for name, value in values.items() if getattr(cycle, name) != value}
    frozen = FROZEN_CYCLE_FIELDS & set(changes)
    if frozen and is_frozen(cycle):
        raise RulesFrozen(
            _("Voting has started: who may vote and how (eligibility, vote changes, currency) can no longer change."),
            field=sorted(frozen)[0],
        )
    for name, value in changes.items():
        setattr(cycle, name, value)
    db.session.flush()
    if changes:
        audit.record("cycle.updated", actor=actor, subject=cycle, changes={k: _plain(v) for k, v in changes.items()})
    return cycle


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a value for the audit log."""
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, District):
        return value.id
    return value


# -- phases -------------------------------------------------------------------------------------


def set_phases(actor, cycle: Cycle, windows: dict[PhaseKind, tuple[datetime, datetime] | None]) -> None:
    """Set the dates of the cycle's phases.  A phase given as None (or left out) is skipped.

    Phases must start before they end and follow each other in the fixed order without overlapping.
    """
    now = utcnow()
    _check_phase_order(windows)
    stored = _keep_unchanged_dates(cycle, windows)
    try:
        _check_phase_order(stored)
    except InvalidInput:
        pass  # an exact stored date next to a new one to the minute would overlap: take the form's
    else:
        windows = stored
    if cycle.voting_has_closed(now):
        windows = _keep_ended_phases(cycle, windows, now)
        _check_phase_order(windows)
    before = {p.kind.value: [p.starts_at.isoformat(), p.ends_at.isoformat()] for p in cycle.phases}
    existing = {phase.kind: phase for phase in cycle.phases}
    voting, new_voting = existing.get(PhaseKind.VOTING), windows.get(PhaseKind.VOTING)
    if voting is not None and new_voting is not None and voting.starts_at <= now < voting.ends_at < new_voting[1]:
        audit.record("cycle.voting_extended", actor=actor, subject=cycle,
                     ends_at=voting.ends_at.isoformat(), new_ends_at=new_voting[1].isoformat())
    for kind in PHASE_ORDER:
        window = windows.get(kind)
        phase = existing.get(kind)
        if window is None:
            if phase is not None:
                cycle.phases.remove(phase)
        elif phase is None:
            cycle.phases.append(Phase(kind=kind, starts_at=window[0], ends_at=window[1]))
        else:
            phase.starts_at, phase.ends_at = window
    db.session.flush()
    after = {p.kind.value: [p.starts_at.isoformat(), p.ends_at.isoformat()] for p in cycle.phases}
    audit.record("cycle.phases_set", actor=actor, subject=cycle, before=before, after=after)


def _check_phase_order(windows: dict[PhaseKind, tuple[datetime, datetime] | None]) -> None:
    """Phases start before they end and follow each other in the fixed order without overlapping."""
    previous: tuple[PhaseKind, datetime] | None = None
    for kind in PHASE_ORDER:
        window = windows.get(kind)
        if window is None:
            continue
        starts_at, ends_at = window
        if starts_at is None or ends_at is None:
            raise InvalidInput(_("Give both a start and an end for %(phase)s, or leave both empty to skip it.",
                                 phase=_phase_name(kind)), field=kind.value)
        if starts_at >= ends_at:
            raise InvalidInput(_("%(phase)s must end after it starts.", phase=_phase_name(kind)), field=kind.value)
        if previous is not None and starts_at < previous[1]:
            raise InvalidInput(
                _("%(phase)s must start when %(previous)s ends or later: phases follow each other without overlapping.",
                  phase=_phase_name(kind), previous=_phase_name(previous[0])),
                field=kind.value,
            )
        previous = (kind, ends_at)
    if previous is None:
        raise InvalidInput(_("A cycle needs at least one phase."))


def _same_minute(a: datetime, b: datetime) -> bool:
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def _keep_unchanged_dates(cycle: Cycle, windows: dict) -> dict:
    """The form shows dates to the minute: a date given unchanged to the minute keeps its exact
    stored value (seconds included), so that saving an unchanged form changes nothing."""
    existing = {phase.kind: phase for phase in cycle.phases}
    kept = {}
    for kind, window in windows.items():
        phase = existing.get(kind)
        if phase is not None and window is not None and None not in window:
            window = (
                phase.starts_at if _same_minute(window[0], phase.starts_at) else window[0],
                phase.ends_at if _same_minute(window[1], phase.ends_at) else window[1],
            )
        kept[kind] = window
    return kept


def _keep_ended_phases(cycle: Cycle, windows: dict, now: datetime) -> dict:
    """Once voting has closed, the past is fixed: every phase that has ended keeps its dates (the
    form shows them to the minute, so an unchanged form passes and the exact dates are kept), no
    phase before voting is added, and so voting cannot be reopened."""
    windows = dict(windows)
    existing = {phase.kind: phase for phase in cycle.phases}
    voting_index = PHASE_ORDER.index(PhaseKind.VOTING)
    for kind in PHASE_ORDER:
        phase, window = existing.get(kind), windows.get(kind)
        if phase is not None and phase.ends_at <= now:
            if window is None or None in window or not (
                _same_minute(window[0], phase.starts_at) and _same_minute(window[1], phase.ends_at)
            ):
                raise Conflict(
                    _("%(phase)s has ended and voting has closed: its dates can no longer change, so that "
                      "voting cannot be reopened.", phase=_phase_name(kind)),
                    field=kind.value,
                )
            windows[kind] = (phase.starts_at, phase.ends_at)
        elif phase is None and window is not None and PHASE_ORDER.index(kind) <= voting_index:
            raise Conflict(
                _("%(phase)s cannot be added once voting has closed.", phase=_phase_name(kind)), field=kind.value
            )
    return windows


def _phase_name(kind: PhaseKind) -> str:
    return str(PHASE_LABELS[kind])


def next_phase(cycle: Cycle, now: datetime | None = None) -> Phase | None:
    """The phase that comes after the running one (or the next upcoming one between phases)."""
    now = now or utcnow()
    ordered = sorted(cycle.phases, key=lambda p: PHASE_ORDER.index(p.kind))
    current = cycle.phase_at(now)
    if current is not None:
        later = [p for p in ordered if PHASE_ORDER.index(p.kind) > PHASE_ORDER.index(current.kind)]
    else:
        later = [p for p in ordered if p.starts_at > now]
    return later[0] if later else None


def advance_phase(actor, cycle: Cycle, now: datetime | None = None) -> Phase:
    """Start the next phase now: the running phase (if any) ends now and the next one begins.

    Raises :class:`Conflict` when there is no later phase.
    """
    now = (now or utcnow()).replace(microsecond=0)
    current = cycle.phase_at(now)
    upcoming = next_phase(cycle, now)
    if upcoming is None:
        raise Conflict(_("There is no later phase to move to. Add one in the phase dates first."))
    if current is not None:
        if current.starts_at >= now:
            raise Conflict(_("The current phase has only just started; try again in a minute."))
        current.ends_at = now
    upcoming.starts_at = now
    db.session.flush()
    audit.record(
        "cycle.phase_advanced", actor=actor, subject=cycle,
        ended=current.kind.value if current else None, started=upcoming.kind.value, at=now.isoformat(),
    )
    if current is not None and current.kind == PhaseKind.VOTING:
        # Voting is over: the ballots domain forgets which ballot was whose (re-voting no longer
        # needs the link) in this transaction.
        voting_closed.send(cycle, now=now)
    return upcoming


# -- budgets ------------------------------------------------------------------------------------


def _check_budget_values(cycle: Cycle, values: dict[str, Any], budget: Budget | None) -> dict[str, Any]:
    """Validate and normalise a complete set of budget values; returns them ready to assign."""
    name = (values.get("name") or "").strip()
    if not name:
        raise InvalidInput(_("Give the budget a name."), field="name")
    if any(b.name == name and b is not budget for b in cycle.budgets):
        raise Conflict(_("This cycle already has a budget with that name."), field="name")
    total = values.get("total_amount")
    if total is None or total <= 0:
        raise InvalidInput(_("The budget amount must be more than zero."), field="total_amount")
    district = values.get("district")
    if district is not None and any(b.district_id == district.id and b is not budget for b in cycle.budgets):
        raise Conflict(_("This district already has a budget in this cycle."), field="district")
    ballot_type = BallotType(values.get("ballot_type") or BallotType.APPROVAL)
    settings = ballot_kinds.kind_for(ballot_type).check_settings(values)
    rule = values.get("tally_rule") or "greedy"
    if rule not in rules.RULES:
        raise InvalidInput(_("Choose one of the listed tally rules."), field="tally_rule")
    try:
        params = rules.normalise_params(rule, values.get("tally_params") or {})
    except ValueError as error:
        raise InvalidInput(_("Choose one of the listed values for %(param)s.", param=str(error)), field="tally_params") from None
    return {
        "name": name,
        "position": values.get("position") or 0,
        "district": district,
        "total_amount": total,
        "ballot_type": ballot_type,
        **settings,
        "tally_rule": rule,
        "tally_params": params,
    }


def add_budget(actor, cycle: Cycle, **values: Any) -> Budget:
    """Add a budget (city-wide when ``district`` is None) with its ballot and tally rules."""
    clean = _check_budget_values(cycle, values, None)
    if is_frozen(cycle):
        raise RulesFrozen(_("Voting has started in this cycle: budgets can no longer be added."))
    budget = Budget(**clean)
    cycle.budgets.append(budget)
    db.session.flush()
    audit.record("budget.created", actor=actor, subject=budget, **{k: _plain(v) for k, v in clean.items()})
    return budget


def update_budget(actor, budget: Budget, **values: Any) -> Budget:
    """Change a budget.  After its first ballot only the name and position may change."""
    current = {name: getattr(budget, name) for name in BUDGET_FIELDS}
    clean = _check_budget_values(budget.cycle, {**current, **values}, budget)
    try:  # stored parameters may omit defaults: filling them in is not a change
        current["tally_params"] = rules.normalise_params(budget.tally_rule, budget.tally_params or {})
    except (KeyError, ValueError):
        pass
    changes = {name: value for name, value in clean.items() if current[name] != value}
    frozen = FROZEN_BUDGET_FIELDS & set(changes)
    if frozen and budget.is_frozen:
        raise RulesFrozen(
            _("The first ballot in “%(budget)s” was cast on %(date)s: its amount, ballot rule and tally rule "
              "can no longer change, so that every vote is counted under the rules the voter saw.",
              budget=budget.name, date=datetime_format(budget.frozen_at, "medium", budget.cycle)),
            field=sorted(frozen)[0],
        )
    if "tally_rule" in changes:  # the proposals domain keeps a rule that counts the budget's groups
        budget_rule_changing.send(budget, rule=changes["tally_rule"])
    for name, value in changes.items():
        setattr(budget, name, value)
    db.session.flush()
    if changes:
        audit.record(
            "budget.updated", actor=actor, subject=budget,
            before={k: _plain(current[k]) for k in changes}, after={k: _plain(v) for k, v in changes.items()},
        )
    return budget


def delete_budget(actor, budget: Budget) -> None:
    """Remove a budget that has no ballots and that no domain above refuses to lose (the proposals
    domain: none while it has proposals), through :data:`pbvote.cycles.signals.budget_removing`."""
    if budget.is_frozen:
        raise RulesFrozen(_("Voting has started in this budget: it can no longer be removed."))
    budget_removing.send(budget)  # the proposals domain refuses while the budget has proposals
    audit.record("budget.deleted", actor=actor, subject=budget, name=budget.name)
    budget.cycle.budgets.remove(budget)
    db.session.flush()


# -- categories ---------------------------------------------------------------------------------


def add_category(actor, cycle: Cycle, name: str) -> Category:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the category a name."), field="name")
    if any(c.name.lower() == name.lower() for c in cycle.categories):
        raise Conflict(_("This cycle already has that category."), field="name")
    category = Category(name=name)
    cycle.categories.append(category)
    db.session.flush()
    audit.record("category.created", actor=actor, subject=category, name=name)
    return category


def delete_category(actor, category: Category) -> None:
    """Remove a category; its proposals keep going without one.  Not once voting has started in
    any of the cycle's budgets: projects on a ballot keep the category voters saw."""
    if is_frozen(category.cycle):
        raise RulesFrozen(_("Voting has started in this cycle: its categories can no longer be removed."))
    audit.record("category.deleted", actor=actor, subject=category, name=category.name)
    category.cycle.categories.remove(category)
    db.session.flush()
