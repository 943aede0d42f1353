"""Groups of mutually exclusive projects: the rules (services), the staff pages, what residents see."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import count_rows, csrf_token

from pbvote.audit import AuditEntry
from pbvote.cycles import services as cycle_services
from pbvote.errors import Conflict, InvalidInput, NotAllowed, RulesFrozen
from pbvote.extensions import db
from pbvote.proposals import services
from pbvote.proposals.models import ExclusiveGroup, ExclusiveGroupMember, ProposalStatus

pytestmark = pytest.mark.usefixtures("request_ctx")


@pytest.fixture
def site(make_cycle, make_proposal):
    """A budget counted by greedy-exclusive in its review phase, three feasible proposals, one submitted,
    and a second budget with a feasible proposal."""

    def make(phase: str = "review", rule: str = "greedy-exclusive"):
        cycle = make_cycle(phase, budgets=[
            {"name": "City", "total_amount": 100_000_00, "tally_rule": rule, "tally_params": {}},
            {"name": "North", "total_amount": 50_000_00},
        ])
        city, north = cycle.budgets
        bench = make_proposal(cycle, budget=city, cost=20_000_00, title="Elm Park bench")
        garden = make_proposal(cycle, budget=city, cost=30_000_00, title="Elm Park garden")
        lights = make_proposal(cycle, budget=city, cost=10_000_00, title="Street lights")
        waiting = make_proposal(cycle, budget=city, status="submitted", title="Not reviewed yet")
        elsewhere = make_proposal(cycle, budget=north, cost=5_000_00, title="North fountain")
        return city, (bench, garden, lights, waiting, elsewhere)

    return make


def test_staff_group_two_proposals_and_the_count_gets_them(site, make_user):
    budget, (bench, garden, lights, _waiting, _elsewhere) = site()
    staff = make_user("staff")
    group = services.create_group(staff, budget, "  Same site:   Elm Park north lawn ")
    assert group.name == "Same site: Elm Park north lawn"
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    db.session.commit()
    assert services.tally_groups(budget) == ((str(bench.id), str(garden.id)),)
    assert services.group_candidates(budget) == [lights]
    exclusion = services.exclusion_of(bench)
    assert exclusion.group.name == "Same site: Elm Park north lawn" and exclusion.others == (garden,)
    assert set(services.exclusions(budget)) == {bench.id, garden.id}
    assert services.exclusion_of(lights) is None
    assert services.group_name_of(garden.id) == "Same site: Elm Park north lawn"
    actions = list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject_type == "ExclusiveGroup")
                                      .order_by(AuditEntry.id)))
    assert actions == ["exclusive_group.created", "exclusive_group.member_added", "exclusive_group.member_added"]


def test_a_proposal_joins_one_group_of_its_own_budget_and_only_when_feasible(site, make_user):
    budget, (bench, garden, lights, waiting, elsewhere) = site()
    staff = make_user("staff")
    first = services.create_group(staff, budget, "Same site: Elm Park north lawn")
    second = services.create_group(staff, budget, "Same street: Station Road")
    services.add_to_group(staff, first, bench)
    with pytest.raises(InvalidInput, match="another budget") as error:
        services.add_to_group(staff, first, elsewhere)
    assert error.value.field == "proposal"
    with pytest.raises(InvalidInput, match="not on the ballot"):
        services.add_to_group(staff, first, waiting)
    with pytest.raises(Conflict, match="already in the group “Same site: Elm Park north lawn”"):
        services.add_to_group(staff, second, bench)
    with pytest.raises(Conflict, match="already in this group"):
        services.add_to_group(staff, first, bench)
    with pytest.raises(Conflict, match="already has a group with that name"):
        services.create_group(staff, budget, "Same street: Station Road")
    with pytest.raises(InvalidInput, match="Say why"):
        services.create_group(staff, budget, "   ")
    db.session.commit()
    # the database holds the rule too: one membership per proposal
    db.session.add(ExclusiveGroupMember(proposal_id=bench.id, group_id=second.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_group_of_fewer_than_two_is_allowed_while_editing_but_warned_about_and_not_counted(site, make_user):
    budget, (bench, garden, _lights, _waiting, _elsewhere) = site()
    staff = make_user("staff")
    group = services.create_group(staff, budget, "Same site: Elm Park north lawn")
    services.add_to_group(staff, group, bench)
    assert services.tally_groups(budget) == ()
    assert any("fewer than two projects" in w for w in services.group_warnings(budget))
    services.add_to_group(staff, group, garden)
    assert services.group_warnings(budget) == []
    # a member that leaves the ballot counts in no group, and staff are told
    garden.status = ProposalStatus.UNFEASIBLE
    garden.review_reason = "The lawn is protected."
    garden.final_amount = None
    db.session.flush()
    warnings = services.group_warnings(budget)
    assert any("Elm Park garden" in w and "no longer on the ballot" in w for w in warnings)
    assert services.tally_groups(budget) == () and services.exclusion_of(bench) is None


def test_rename_remove_and_delete_are_audited(site, make_user):
    budget, (bench, garden, _lights, _waiting, _elsewhere) = site()
    staff = make_user("admin")
    group = services.create_group(staff, budget, "Same site")
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    services.rename_group(staff, group, "Same site: Elm Park north lawn")
    services.remove_from_group(staff, group, garden)
    with pytest.raises(InvalidInput, match="not in this group"):
        services.remove_from_group(staff, group, garden)
    services.delete_group(staff, group)
    db.session.commit()
    assert count_rows(ExclusiveGroup) == 0 and count_rows(ExclusiveGroupMember) == 0
    actions = set(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("exclusive_group.%"))))
    assert actions == {"exclusive_group.created", "exclusive_group.member_added", "exclusive_group.renamed",
                       "exclusive_group.member_removed", "exclusive_group.deleted"}


def test_only_staff_change_groups(site, make_user):
    budget, _projects = site()
    with pytest.raises(NotAllowed):
        services.create_group(make_user("reviewer"), budget, "Same site")


def test_groups_need_a_rule_that_counts_them_and_keep_it(site, make_user):
    budget, (bench, garden, *_rest) = site(rule="greedy")
    staff = make_user("staff")
    with pytest.raises(Conflict, match="count only under the tally rule"):
        services.create_group(staff, budget, "Same site")
    cycle_services.update_budget(staff, budget, tally_rule="greedy-exclusive")
    group = services.create_group(staff, budget, "Same site")
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    db.session.commit()
    # the budget's rule cannot now change to one that would refuse its groups
    with pytest.raises(Conflict, match="delete the groups first") as error:
        cycle_services.update_budget(staff, budget, tally_rule="mes")
    assert error.value.field == "tally_rule"
    db.session.rollback()
    assert budget.tally_rule == "greedy-exclusive"
    services.delete_group(staff, group)
    cycle_services.update_budget(staff, budget, tally_rule="mes")
    assert budget.tally_rule == "mes"


def test_groups_freeze_with_the_first_ballot(site, make_user, cast):
    budget, (bench, garden, lights, _waiting, _elsewhere) = site(phase="voting")
    staff = make_user("staff")
    group = services.create_group(staff, budget, "Same site: Elm Park north lawn")
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    db.session.commit()
    cast(make_user(verified=True), budget, [bench])
    assert budget.frozen_at is not None
    for change in (
        lambda: services.create_group(staff, budget, "Another"),
        lambda: services.rename_group(staff, group, "Renamed"),
        lambda: services.add_to_group(staff, group, lights),
        lambda: services.remove_from_group(staff, group, garden),
        lambda: services.delete_group(staff, group),
    ):
        with pytest.raises(RulesFrozen, match="can no longer change"):
            change()
        db.session.rollback()
    assert services.tally_groups(budget) == ((str(bench.id), str(garden.id)),)


# -- staff pages ----------------------------------------------------------------------------------


def test_a_resident_and_a_reviewer_get_403_on_every_group_page(client, login, make_user, site):
    budget, (bench, *_rest) = site()
    staff = make_user("staff")
    group = services.create_group(staff, budget, "Same site")
    db.session.commit()
    for role in ("resident", "reviewer"):
        client.get("/sign-out")
        login(make_user(role))
        token = csrf_token(client, "/")
        assert client.get(f"/staff/budgets/{budget.id}/groups").status_code == 403
        for path in (f"/staff/budgets/{budget.id}/groups", f"/staff/exclusive-groups/{group.id}/rename",
                     f"/staff/exclusive-groups/{group.id}/delete", f"/staff/exclusive-groups/{group.id}/members",
                     f"/staff/exclusive-groups/{group.id}/members/{bench.id}/remove"):
            assert client.post(path, data={"csrf_token": token, "new-name": "X", "rename-1-name": "X"}).status_code == 403
    assert count_rows(ExclusiveGroup) == 1 and [g.name for g in db.session.scalars(sa.select(ExclusiveGroup))] == ["Same site"]


def test_staff_create_fill_rename_and_delete_a_group_through_the_pages(client, login, make_user, site):
    budget, (bench, garden, lights, _waiting, elsewhere) = site()
    login(make_user("staff"))
    page = client.get(f"/staff/budgets/{budget.id}/groups")
    assert page.status_code == 200 and "has no groups" in page.get_data(as_text=True)
    token = csrf_token(client, f"/staff/budgets/{budget.id}/groups")
    response = client.post(f"/staff/budgets/{budget.id}/groups",
                           data={"csrf_token": token, "new-name": "Same site: Elm Park north lawn"})
    assert response.status_code == 303
    group = db.session.scalar(sa.select(ExclusiveGroup))
    add = f"/staff/exclusive-groups/{group.id}/members"
    assert client.post(add, data={"csrf_token": token, f"add-{group.id}-proposal": bench.id}).status_code == 303
    page = client.get(f"/staff/budgets/{budget.id}/groups").get_data(as_text=True)
    assert "fewer than two projects" in page  # warned while editing
    assert client.post(add, data={"csrf_token": token, f"add-{group.id}-proposal": garden.id}).status_code == 303
    # a proposal of another budget: a clear error on the form, nothing written
    refused = client.post(add, data={"csrf_token": token, f"add-{group.id}-proposal": elsewhere.id})
    assert refused.status_code == 400 and "proposal of another budget" in refused.get_data(as_text=True)
    refused = client.post(add, data={"csrf_token": token, f"add-{group.id}-proposal": "99999999999999999999"})
    assert refused.status_code == 400
    page = client.get(f"/staff/budgets/{budget.id}/groups").get_data(as_text=True)
    assert "fewer than two" not in page and "Elm Park bench" in page and "Elm Park garden" in page
    assert services.tally_groups(budget) == ((str(bench.id), str(garden.id)),)
    # no CSRF token: refused
    assert client.post(add, data={f"add-{group.id}-proposal": lights.id}).status_code == 400
    renamed = client.post(f"/staff/exclusive-groups/{group.id}/rename",
                          data={"csrf_token": token, f"rename-{group.id}-name": "Same site: the north lawn"})
    assert renamed.status_code == 303
    removed = client.post(f"/staff/exclusive-groups/{group.id}/members/{garden.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    db.session.expire_all()
    assert db.session.get(ExclusiveGroup, group.id).name == "Same site: the north lawn"
    assert [m.proposal_id for m in db.session.get(ExclusiveGroup, group.id).members] == [bench.id]
    assert client.post(f"/staff/exclusive-groups/{group.id}/delete", data={"csrf_token": token}).status_code == 303
    assert count_rows(ExclusiveGroup) == 0


def test_an_empty_name_is_a_form_error(client, login, make_user, site):
    budget, _projects = site()
    login(make_user("staff"))
    token = csrf_token(client, f"/staff/budgets/{budget.id}/groups")
    response = client.post(f"/staff/budgets/{budget.id}/groups", data={"csrf_token": token, "new-name": ""})
    assert response.status_code == 400 and count_rows(ExclusiveGroup) == 0


def test_the_page_is_read_only_once_voting_started_and_changes_are_refused(client, login, make_user, site, cast):
    budget, (bench, garden, lights, _waiting, _elsewhere) = site(phase="voting")
    staff = make_user("staff")
    group = services.create_group(staff, budget, "Same site: Elm Park north lawn")
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    db.session.commit()
    cast(make_user(verified=True), budget, [lights])
    login(staff)
    page = client.get(f"/staff/budgets/{budget.id}/groups").get_data(as_text=True)
    assert "can no longer change" in page and "Create group" not in page and "Add to this group" not in page
    token = csrf_token(client, f"/staff/budgets/{budget.id}/groups")
    response = client.post(f"/staff/exclusive-groups/{group.id}/members", data={"csrf_token": token, f"add-{group.id}-proposal": lights.id})
    assert response.status_code == 400 and "can no longer change" in response.get_data(as_text=True)
    response = client.post(f"/staff/exclusive-groups/{group.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "can no longer change" in response.get_data(as_text=True)
    assert count_rows(ExclusiveGroup) == 1 and count_rows(ExclusiveGroupMember) == 2


def test_the_budget_form_offers_and_explains_greedy_exclusive_and_links_the_groups(client, login, make_user, site):
    budget, _projects = site()
    login(make_user("staff"))
    page = client.get(f"/staff/budgets/{budget.id}").get_data(as_text=True)
    assert 'value="greedy-exclusive"' in page
    assert "Greedy, skipping projects that cannot be built together with one already funded" in page
    assert "mutually exclusive projects (two plans for one site)" in page
    assert f"/staff/budgets/{budget.id}/groups" in page


# -- what residents see ---------------------------------------------------------------------------


def test_residents_see_the_group_on_the_proposal_page_and_the_ballot(client, login, make_user, site):
    budget, (bench, garden, lights, _waiting, _elsewhere) = site(phase="voting")
    staff = make_user("staff")
    group = services.create_group(staff, budget, "Same site: Elm Park north lawn")
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    db.session.commit()
    page = client.get(f"/proposals/{bench.id}").get_data(as_text=True)
    assert "Only one of these can be built:" in page and "Elm Park garden" in page
    assert "Same site: Elm Park north lawn" in page and f'href="/proposals/{garden.id}"' in page
    assert "Only one of these can be built" not in client.get(f"/proposals/{lights.id}").get_data(as_text=True)
    login(make_user(verified=True))
    ballot = client.get(f"/ballots/{budget.id}").get_data(as_text=True)
    assert ballot.count('class="exclusion-note"') == 2
    assert f'id="excl-{bench.id}"' in ballot and "Same site: Elm Park north lawn" in ballot
    assert f'aria-describedby="fit-{bench.id} excl-{bench.id}"' in ballot  # the checkbox is described by the note
    assert f'aria-describedby="fit-{lights.id}"' in ballot


@pytest.mark.parametrize("ballot_type", ["cumulative", "ranking"])
def test_point_and_rank_controls_are_described_by_the_group_note(client, login, make_user, make_cycle,
                                                                 make_proposal, ballot_type):
    cycle = make_cycle("voting", budgets=[{"name": "City", "total_amount": 100_000_00, "ballot_type": ballot_type,
                                            "tally_rule": "greedy-exclusive", "tally_params": {}, "min_choices": 1,
                                            "max_choices": 2, "points_total": 10, "points_per_project": 5}])
    budget = cycle.budgets[0]
    bench, garden = (make_proposal(cycle, budget=budget, title=t) for t in ("Elm Park bench", "Elm Park garden"))
    staff = make_user("staff")
    group = services.create_group(staff, budget, "Same site")
    services.add_to_group(staff, group, bench)
    services.add_to_group(staff, group, garden)
    db.session.commit()
    login(make_user(verified=True))
    ballot = client.get(f"/ballots/{budget.id}").get_data(as_text=True)
    assert f'aria-describedby="excl-{bench.id}"' in ballot and f'id="excl-{garden.id}"' in ballot
