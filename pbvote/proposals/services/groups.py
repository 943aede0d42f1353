"""Groups of mutually exclusive projects: proposals of one budget that cannot all be built.

Staff (and admins) mark proposals that cannot both be carried out — two plans for the same site —
as a group with a reason residents read ("Same site: Elm Park north lawn").  The tally rule
``greedy-exclusive`` skips the rest of a group once one of its projects is funded
(:attr:`pbvote.tally.Election.exclusive_groups`, filled by the results domain from
:func:`tally_groups`); residents see the group on each member's page and on the ballot.

The rules kept here:

* a proposal belongs to at most one group (also the database's: the membership's key is the
  proposal), and only to a group of its own budget;
* only feasible proposals join (those on the ballot); a member that later leaves the ballot stays
  listed for staff but counts in no group;
* a group with fewer than two projects on the ballot is allowed while staff edit, warned about,
  and left out of the count (a "group" of one excludes nothing);
* groups are set up under a tally rule that honours them (``greedy-exclusive``); the budget's rule
  cannot then change to one that does not while groups exist (the receiver of
  :data:`pbvote.cycles.signals.budget_rule_changing`), so that a budget never reaches its first
  ballot with groups its rule would refuse to count;
* nothing changes once the budget has received its first ballot (what voters relied on freezes),
  read under the budget's row lock like review's (:func:`~pbvote.proposals.services.review._frozen_under_lock`).

Every change is audited; the services flush and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from pbvote import audit, tally
from pbvote.auth.models import Role, User
from pbvote.cycles.models import Budget
from pbvote.errors import Conflict, InvalidInput, NotAllowed, RulesFrozen
from pbvote.extensions import db
from pbvote.proposals.models import ExclusiveGroup, ExclusiveGroupMember, Proposal, ProposalStatus
from pbvote.proposals.services.review import _frozen_under_lock

#: Longest group name (the column's length).
NAME_MAX = 200


def rule_honours_groups(rule_name: str | None) -> bool:
    """True if the tally rule ``rule_name`` counts groups of mutually exclusive projects (the engine's registry says)."""
    rule = tally.RULES.get(rule_name or "")
    return bool(rule and rule.groups)


def group_rule_names() -> list[str]:
    """The engine's rules that honour groups (``greedy-exclusive``)."""
    return [name for name, rule in tally.RULES.items() if rule.groups]


# -- reading ------------------------------------------------------------------------------------


def budget_groups(budget: Budget) -> list[ExclusiveGroup]:
    """The budget's groups by name, with their members and the members' proposals loaded."""
    return list(db.session.scalars(
        sa.select(ExclusiveGroup).where(ExclusiveGroup.budget_id == budget.id)
        .options(selectinload(ExclusiveGroup.members).selectinload(ExclusiveGroupMember.proposal))
        .order_by(ExclusiveGroup.name, ExclusiveGroup.id)
    ))


def on_ballot(proposal: Proposal, budget_id: int) -> bool:
    """Whether a group member counts: feasible, and still in the group's budget."""
    return proposal.status == ProposalStatus.FEASIBLE and proposal.budget_id == budget_id


def group_candidates(budget: Budget) -> list[Proposal]:
    """Feasible proposals of the budget in no group yet: the ones staff may add, by id."""
    grouped = sa.select(ExclusiveGroupMember.proposal_id)
    return list(db.session.scalars(
        sa.select(Proposal).where(
            Proposal.budget_id == budget.id, Proposal.status == ProposalStatus.FEASIBLE, Proposal.id.not_in(grouped),
        ).order_by(Proposal.id)
    ))


def tally_groups(budget: Budget) -> tuple[tuple[str, ...], ...]:
    """The budget's groups as the tally engine takes them (``Election.exclusive_groups``).

    Project ids as text, as :func:`pbvote.results.services.election_for_budget` names projects;
    only members on the ballot (feasible, of this budget); a group left with fewer than two such
    members excludes nothing and is left out.  One query.
    """
    rows = db.session.execute(
        sa.select(ExclusiveGroupMember.group_id, ExclusiveGroupMember.proposal_id)
        .join(ExclusiveGroup, ExclusiveGroup.id == ExclusiveGroupMember.group_id)
        .join(Proposal, Proposal.id == ExclusiveGroupMember.proposal_id)
        .where(ExclusiveGroup.budget_id == budget.id, Proposal.budget_id == budget.id,
               Proposal.status == ProposalStatus.FEASIBLE)
        .order_by(ExclusiveGroupMember.group_id, ExclusiveGroupMember.proposal_id)
    ).all()
    groups: dict[int, list[str]] = {}
    for group_id, proposal_id in rows:
        groups.setdefault(group_id, []).append(str(proposal_id))
    return tuple(tuple(ids) for ids in groups.values() if len(ids) >= 2)


@dataclass(frozen=True)
class Exclusion:
    """What a resident reads about one project: its group's name and the other projects on the
    ballot of which, with it, only one can be built."""

    group: ExclusiveGroup
    others: tuple[Proposal, ...]


def exclusions(budget: Budget) -> dict[int, Exclusion]:
    """Proposal id -> its :class:`Exclusion`, for every project on the budget's ballot that shares
    a group with another one on it (the ballot page: one query for all of them)."""
    out: dict[int, Exclusion] = {}
    for group in budget_groups(budget):
        members = [m.proposal for m in group.members if on_ballot(m.proposal, budget.id)]
        if len(members) < 2:
            continue
        for proposal in members:
            out[proposal.id] = Exclusion(group, tuple(p for p in members if p.id != proposal.id))
    return out


def exclusion_of(proposal: Proposal) -> Exclusion | None:
    """The group a proposal on the ballot shares with others on it, or ``None`` (its page)."""
    if not on_ballot(proposal, proposal.budget_id):
        return None
    member = db.session.get(ExclusiveGroupMember, proposal.id)
    if member is None:
        return None
    others = tuple(m.proposal for m in member.group.members
                   if m.proposal_id != proposal.id and on_ballot(m.proposal, proposal.budget_id))
    return Exclusion(member.group, others) if others else None


def group_name_of(proposal_id: int) -> str | None:
    """The name (the reason) of the group a proposal is in, if any."""
    return db.session.scalar(
        sa.select(ExclusiveGroup.name).join(ExclusiveGroupMember, ExclusiveGroupMember.group_id == ExclusiveGroup.id)
        .where(ExclusiveGroupMember.proposal_id == proposal_id)
    )


def group_warnings(budget: Budget, groups: list[ExclusiveGroup] | None = None) -> list[str]:
    """What staff should know about the budget's groups before voting: groups that exclude
    nothing yet, members no longer on the ballot, a tally rule that does not honour groups."""
    groups = budget_groups(budget) if groups is None else groups
    warnings = []
    if groups and not rule_honours_groups(budget.tally_rule):
        warnings.append(_("This budget's tally rule does not honour groups of mutually exclusive projects; "
                          "the count would refuse them. Choose “%(rule)s” in the budget's settings, or delete the groups.",
                          rule=_("Greedy, skipping projects that cannot be built together with one already funded")))
    for group in groups:
        counted = [m for m in group.members if on_ballot(m.proposal, budget.id)]
        for member in group.members:
            if not on_ballot(member.proposal, budget.id):
                warnings.append(_("“%(title)s” in “%(group)s” is no longer on the ballot; it counts in no group.",
                                  title=member.proposal.title, group=group.name))
        if len(counted) < 2:
            warnings.append(_("“%(group)s” has fewer than two projects on the ballot: it excludes nothing until "
                              "you add another.", group=group.name))
    return warnings


# -- changing -----------------------------------------------------------------------------------


def _require_staff(actor: User) -> None:
    if actor is None or not actor.has_role(Role.STAFF):
        raise NotAllowed(_("Only staff can change groups of mutually exclusive projects."))


def _require_open(budget: Budget) -> None:
    if _frozen_under_lock(budget):
        raise RulesFrozen(_("Voting has started in this budget: its groups of mutually exclusive projects can no "
                            "longer change, since they decide the count."))


def _require_rule(budget: Budget) -> None:
    if not rule_honours_groups(budget.tally_rule):
        raise Conflict(_("Groups of mutually exclusive projects count only under the tally rule “%(rule)s”: "
                         "choose it in the budget's settings first.",
                         rule=_("Greedy, skipping projects that cannot be built together with one already funded")))


def _clean_name(budget: Budget, name: str, group: ExclusiveGroup | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Say why these projects cannot all be built, e.g. “Same site: Elm Park north lawn”."),
                           field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_("At most %(n)d characters.", n=NAME_MAX), field="name")
    taken = db.session.scalar(sa.select(ExclusiveGroup.id).where(
        ExclusiveGroup.budget_id == budget.id, ExclusiveGroup.name == name))
    if taken is not None and (group is None or taken != group.id):
        raise Conflict(_("This budget already has a group with that name."), field="name")
    return name


def create_group(actor: User, budget: Budget, name: str) -> ExclusiveGroup:
    """A new, empty group of mutually exclusive projects in ``budget``."""
    _require_staff(actor)
    _require_open(budget)
    _require_rule(budget)
    group = ExclusiveGroup(budget_id=budget.id, name=_clean_name(budget, name), created_by_id=actor.id)
    db.session.add(group)
    db.session.flush()
    audit.record("exclusive_group.created", actor=actor, subject=group, budget_id=budget.id, name=group.name)
    return group


def rename_group(actor: User, group: ExclusiveGroup, name: str) -> ExclusiveGroup:
    """Give a group another name (its reason, as residents read it)."""
    _require_staff(actor)
    _require_open(group.budget)
    name = _clean_name(group.budget, name, group)
    if name != group.name:
        before = group.name
        group.name = name
        db.session.flush()
        audit.record("exclusive_group.renamed", actor=actor, subject=group, before=before, name=name)
    return group


def delete_group(actor: User, group: ExclusiveGroup) -> None:
    """Remove a group; its projects are no longer exclusive of one another."""
    _require_staff(actor)
    _require_open(group.budget)
    audit.record("exclusive_group.deleted", actor=actor, subject=group, budget_id=group.budget_id, name=group.name,
                 proposal_ids=[m.proposal_id for m in group.members])
    db.session.delete(group)
    db.session.flush()


def add_to_group(actor: User, group: ExclusiveGroup, proposal: Proposal) -> ExclusiveGroupMember:
    """Add a feasible proposal of the group's budget that is in no other group."""
    _require_staff(actor)
    budget = group.budget
    _require_open(budget)
    _require_rule(budget)
    if proposal.budget_id != group.budget_id:
        raise InvalidInput(_("“%(title)s” is a proposal of another budget; a group holds projects of one ballot.",
                             title=proposal.title), field="proposal")
    if proposal.status != ProposalStatus.FEASIBLE:
        raise InvalidInput(_("“%(title)s” is not on the ballot: only proposals found feasible join a group.",
                             title=proposal.title), field="proposal")
    current = db.session.get(ExclusiveGroupMember, proposal.id)
    if current is not None:
        if current.group_id == group.id:
            raise Conflict(_("“%(title)s” is already in this group.", title=proposal.title), field="proposal")
        raise Conflict(_("“%(title)s” is already in the group “%(group)s”; a project belongs to one group at most. "
                         "Remove it there first.", title=proposal.title, group=current.group.name), field="proposal")
    member = ExclusiveGroupMember(proposal_id=proposal.id, added_by_id=actor.id)
    group.members.append(member)
    db.session.flush()
    audit.record("exclusive_group.member_added", actor=actor, subject=group, proposal_id=proposal.id)
    return member


def remove_from_group(actor: User, group: ExclusiveGroup, proposal: Proposal) -> None:
    """Take a proposal out of a group."""
    _require_staff(actor)
    _require_open(group.budget)
    member = next((m for m in group.members if m.proposal_id == proposal.id), None)
    if member is None:
        raise InvalidInput(_("“%(title)s” is not in this group.", title=proposal.title), field="proposal")
    group.members.remove(member)
    db.session.flush()
    audit.record("exclusive_group.member_removed", actor=actor, subject=group, proposal_id=proposal.id)


def check_rule_keeps_groups(budget: Budget, rule_name: str) -> None:
    """Refuse a tally rule that does not honour groups for a budget that has some
    (the receiver of :data:`pbvote.cycles.signals.budget_rule_changing`)."""
    if rule_honours_groups(rule_name):
        return
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ExclusiveGroup)
                              .where(ExclusiveGroup.budget_id == budget.id))
    if count:
        raise Conflict(_("This budget has groups of mutually exclusive projects, which only the rule “%(rule)s” "
                         "counts: delete the groups first.",
                         rule=_("Greedy, skipping projects that cannot be built together with one already funded")),
                       field="tally_rule")
