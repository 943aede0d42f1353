"""Implementation tracking: only funded projects, status rules, milestones, photos, pledges fulfilled,
audit rows; the staff pages (staff only, CSRF), the public page per cycle, the project page, links."""
from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from conftest import count_rows, csrf_token, post_form

from pbvote.audit import AuditEntry
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import PhaseKind
from pbvote.errors import InvalidInput, NotAllowed
from pbvote.extensions import db
from pbvote.proposals.models import Pledge, PledgeFrequency, PledgeKind
from pbvote.results import publication as publishing
from pbvote.results.implementation import services
from pbvote.results.implementation.models import (
    Implementation, ImplementationPhoto, ImplementationStatus, Milestone, PledgeFulfilment,
)
from pbvote.timeutil import utcnow

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def funded(make_cycle, make_proposal, make_user):
    """A cycle whose vote closed, its result published or not: park (60,000) and bench (30,000)
    funded, pool (50,000) not; the park has two pledges.  ``funded(publish=True, phase="voting")``."""

    def make(publish: bool = True, phase: str = "voting"):
        cycle = make_cycle(phase, budgets=[{"name": "City", "total_amount": 100_000_00, "min_choices": 1}])
        budget = cycle.budgets[0]
        park = make_proposal(cycle, cost=60_000_00, budget=budget, title="A park by the river")
        bench = make_proposal(cycle, cost=30_000_00, budget=budget, title="Benches on Main Street")
        pool = make_proposal(cycle, cost=50_000_00, budget=budget, title="A pool")
        helper = make_user(name="Hana Helper")
        park.pledges.append(Pledge(user=helper, kind=PledgeKind.TIME, hours=4, frequency=PledgeFrequency.WEEKLY,
                                   description="water the new trees"))
        park.pledges.append(Pledge(user=helper, kind=PledgeKind.MATERIALS, description="twenty spades"))
        db.session.commit()
        if phase == "voting":
            for chosen in ([park, bench], [park, bench], [park], [pool]):
                ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(p.id) for p in chosen],
                                            ballot_services.new_submission_token())
                db.session.commit()
            cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
        if publish:
            publishing.publish_result(budget)
            db.session.commit()
        return cycle, park, bench, pool

    return make


def actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("implementation.%"))
                                   .order_by(AuditEntry.id)))


# -- services -----------------------------------------------------------------------------------


def test_only_projects_funded_by_a_published_result_are_tracked(funded, make_user, request_context):
    staff = make_user("staff")
    cycle, park, _bench, pool = funded(publish=False)
    with pytest.raises(NotAllowed):
        services.update_implementation(staff, park, status=ImplementationStatus.IN_PROGRESS, progress_percent=10)
    assert services.funded_projects(cycle) == [] and not services.has_funded_projects(cycle)
    publishing.publish_result(cycle.budgets[0])
    db.session.commit()
    assert [p.proposal.title for p in services.funded_projects(cycle)] == ["A park by the river", "Benches on Main Street"]
    assert services.has_funded_projects(cycle)
    with pytest.raises(NotAllowed):
        services.add_milestone(staff, pool, title="Dig")
    assert count_rows(Implementation) == 0


def test_a_cancellation_needs_a_reason_and_done_completes(funded, make_user, request_context):
    staff = make_user("staff")
    _cycle, park, _bench, _pool = funded()
    with pytest.raises(InvalidInput) as refused:
        services.update_implementation(staff, park, status=ImplementationStatus.CANCELLED, progress_percent=20,
                                       cancellation_reason="  ")
    assert refused.value.field == "cancellation_reason"
    record = services.update_implementation(staff, park, status=ImplementationStatus.CANCELLED, progress_percent=20,
                                            cancellation_reason="The land was sold.")
    assert record.cancellation_reason == "The land was sold."
    record = services.update_implementation(staff, park, status=ImplementationStatus.DONE, progress_percent=40,
                                            cancellation_reason="left over", today=date(2027, 5, 4))
    db.session.commit()
    assert (record.progress_percent, record.finished_on, record.cancellation_reason) == (100, date(2027, 5, 4), None)
    assert actions() == ["implementation.updated", "implementation.updated"]
    last = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.actor_id == staff.id and last.data["changed"]["status"] == ["cancelled", "done"]


@pytest.mark.parametrize("values, field", [
    ({"status": ImplementationStatus.PLANNED, "progress_percent": 30}, "progress_percent"),
    ({"status": ImplementationStatus.IN_PROGRESS, "progress_percent": 101}, "progress_percent"),
    ({"status": ImplementationStatus.IN_PROGRESS, "progress_percent": 30, "finished_on": date(2027, 1, 1)}, "finished_on"),
    ({"status": ImplementationStatus.IN_PROGRESS, "progress_percent": 30, "started_on": date(2027, 3, 1),
      "expected_on": date(2027, 2, 1)}, "expected_on"),
    ({"status": ImplementationStatus.DONE, "progress_percent": 100, "finished_on": date(2999, 1, 1)}, "finished_on"),
])
def test_status_rules_name_the_field_at_fault(funded, make_user, request_context, values, field):
    _cycle, park, _bench, _pool = funded()
    with pytest.raises(InvalidInput) as refused:
        services.update_implementation(make_user("staff"), park, **values)
    assert refused.value.field == field


def test_the_database_refuses_a_cancellation_without_reason(funded, request_context):
    _cycle, park, _bench, _pool = funded()
    db.session.add(Implementation(proposal=park, status=ImplementationStatus.CANCELLED, progress_percent=0, public_note=""))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_milestones_in_due_order_completed_and_deleted_with_audit(funded, make_user, request_context):
    staff = make_user("staff")
    _cycle, park, _bench, _pool = funded()
    later = services.add_milestone(staff, park, title="Plant trees", due_on=date(2027, 6, 1))
    sooner = services.add_milestone(staff, park, title="Clear the site", due_on=date(2027, 3, 1), note="Contractor hired")
    undated = services.add_milestone(staff, park, title="Opening party")
    db.session.commit()
    record = services.find_implementation(park)
    assert [m.title for m in record.milestones] == ["Clear the site", "Plant trees", "Opening party"]
    services.complete_milestone(staff, sooner, done_on=date(2026, 2, 27))
    with pytest.raises(Exception):
        services.complete_milestone(staff, sooner)
    services.update_milestone(staff, later, title="Plant 40 trees", due_on=date(2027, 6, 2), done_on=None, note="")
    services.delete_milestone(staff, undated)
    db.session.commit()
    assert [(m.title, m.done_on) for m in services.find_implementation(park).milestones] == [
        ("Clear the site", date(2026, 2, 27)), ("Plant 40 trees", None)]
    assert actions() == ["implementation.milestone_added"] * 3 + [
        "implementation.milestone_done", "implementation.milestone_updated", "implementation.milestone_deleted"]
    with pytest.raises(InvalidInput):
        services.add_milestone(staff, park, title="   ")
    with pytest.raises(InvalidInput) as refused:
        services.add_milestone(staff, park, title="Opening", done_on=utcnow().date() + timedelta(days=1))
    assert refused.value.field == "done_on"


def test_pledges_marked_fulfilled_and_back_with_a_note(funded, make_user, request_context):
    staff = make_user("staff")
    cycle, park, _bench, _pool = funded()
    water, spades = park.pledges
    services.set_pledge_fulfilled(staff, water, True, "Watered all summer")
    db.session.commit()
    project = services.funded_projects(cycle)[0]
    assert project.pledges_fulfilled == 1 and project.fulfilments[water.id].note == "Watered all summer"
    services.set_pledge_fulfilled(staff, water, False)
    services.set_pledge_fulfilled(staff, spades, True)
    db.session.commit()
    assert [f.pledge_id for f in db.session.scalars(sa.select(PledgeFulfilment))] == [spades.id]
    assert actions() == ["implementation.pledge_fulfilled", "implementation.pledge_unfulfilled",
                         "implementation.pledge_fulfilled"]


def test_photos_need_alt_text_and_an_image_and_their_files_follow_the_rows(funded, make_user, request_context):
    staff = make_user("staff")
    _cycle, park, _bench, _pool = funded()
    with pytest.raises(InvalidInput) as refused:
        services.add_photo(staff, park, _stream(PNG), "  ")
    assert refused.value.field == "alt_text"
    with pytest.raises(InvalidInput) as refused:
        services.add_photo(staff, park, _stream(b"<svg onload=alert(1)></svg>"), "A drawing")
    assert refused.value.field == "photo"
    photo = services.add_photo(staff, park, _stream(PNG), "Volunteers planting trees")
    db.session.commit()
    path = services.photo_path(photo)
    with open(path, "rb") as stored:
        assert stored.read() == PNG
    services.remove_photo(staff, photo)
    db.session.commit()
    assert not os.path.exists(path) and count_rows(ImplementationPhoto) == 0
    assert actions()[-2:] == ["implementation.photo_added", "implementation.photo_removed"]


def test_summary_counts_projects_money_milestones_and_pledges(funded, make_user, request_context):
    staff = make_user("staff")
    cycle, park, bench, _pool = funded()
    services.update_implementation(staff, bench, status=ImplementationStatus.DONE, progress_percent=100)
    services.update_implementation(staff, park, status=ImplementationStatus.IN_PROGRESS, progress_percent=50)
    services.add_milestone(staff, park, title="Design", done_on=date(2026, 1, 1))
    services.add_milestone(staff, park, title="Build")
    services.set_pledge_fulfilled(staff, park.pledges[0], True)
    db.session.commit()
    summary = services.summarize(services.funded_projects(cycle))
    assert summary.by_status == {ImplementationStatus.PLANNED: 0, ImplementationStatus.IN_PROGRESS: 1,
                                 ImplementationStatus.DONE: 1, ImplementationStatus.CANCELLED: 0}
    assert (summary.funded_amount, summary.delivered_amount) == (90_000_00, 30_000_00)
    assert (summary.milestones, summary.milestones_done, summary.pledges, summary.pledges_fulfilled) == (2, 1, 2, 1)


def _stream(data: bytes):
    import io

    return io.BytesIO(data)


# -- staff pages --------------------------------------------------------------------------------


def test_staff_update_the_status_and_a_resident_gets_403(client, login, funded, make_user):
    cycle, park, _bench, _pool = funded()
    resident = make_user()
    login(resident)
    url = f"/staff/projects/{park.id}/implementation"
    assert client.get(url).status_code == 403
    assert client.get(f"/staff/cycles/{cycle.id}/implementation").status_code == 403
    assert post_form(client, url, {"status": "in_progress", "progress_percent": "40"}, token_page="/").status_code == 403
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    login(make_user("staff"))
    overview = client.get(f"/staff/cycles/{cycle.id}/implementation").get_data(as_text=True)
    assert "A park by the river" in overview and "A pool" not in overview
    page = client.get(url)
    assert page.status_code == 200 and "water the new trees" in page.get_data(as_text=True)
    refused = post_form(client, url, {"status": "cancelled", "progress_percent": "0"}, token_page=url)
    assert refused.status_code == 400 and "why the project was cancelled" in refused.get_data(as_text=True)
    saved = post_form(client, url, {"status": "in_progress", "progress_percent": "40", "started_on": "2027-01-10",
                                    "public_note": "Digging has started."}, token_page=url)
    assert saved.status_code == 303
    record = services.find_implementation(park)
    assert (record.status, record.progress_percent, record.started_on) == (ImplementationStatus.IN_PROGRESS, 40, date(2027, 1, 10))
    assert client.post(url, data={"status": "done", "progress_percent": "100"}).status_code == 400  # no CSRF token
    assert services.find_implementation(park).status is ImplementationStatus.IN_PROGRESS


def test_staff_milestones_photos_and_pledges_through_the_pages(client, login, funded, make_user):
    _cycle, park, _bench, pool = funded()
    login(make_user("admin"))
    url = f"/staff/projects/{park.id}/implementation"
    assert client.get(f"/staff/projects/{pool.id}/implementation").status_code == 404  # not funded
    added = post_form(client, f"/staff/projects/{park.id}/milestones",
                      {"new-title": "Clear the site", "new-due_on": "2027-03-01", "new-note": "Contractor hired"}, token_page=url)
    assert added.status_code == 303
    milestone = db.session.scalar(sa.select(Milestone))
    assert post_form(client, f"/staff/milestones/{milestone.id}/done", token_page=url).status_code == 303
    db.session.refresh(milestone)
    assert milestone.done_on == utcnow().date()
    edited = post_form(client, f"/staff/milestones/{milestone.id}",
                       {f"m{milestone.id}-title": "", f"m{milestone.id}-due_on": "2027-03-01"}, token_page=url)
    assert edited.status_code == 400
    photo = post_form(client, f"/staff/projects/{park.id}/photos",
                      {"photo-photo": (_stream(PNG), "site.png"), "photo-alt_text": "The cleared site"},
                      token_page=url, content_type="multipart/form-data")
    assert photo.status_code == 303
    stored = db.session.scalar(sa.select(ImplementationPhoto))
    served = client.get(f"/implementation-photos/{stored.id}")
    assert served.data == PNG and served.headers["Content-Type"] == "image/png"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    served.close()
    water = park.pledges[0]
    fulfilled = post_form(client, f"/staff/pledges/{water.id}/fulfilled", {f"p{water.id}-note": "All summer"}, token_page=url)
    assert fulfilled.status_code == 303 and db.session.get(PledgeFulfilment, water.id).note == "All summer"
    assert post_form(client, f"/staff/pledges/{water.id}/unfulfilled", token_page=url).status_code == 303
    assert db.session.get(PledgeFulfilment, water.id) is None
    assert post_form(client, f"/staff/implementation-photos/{stored.id}/delete", token_page=url).status_code == 303
    assert post_form(client, f"/staff/milestones/{milestone.id}/delete", token_page=url).status_code == 303
    assert count_rows(Milestone) == 0 and count_rows(ImplementationPhoto) == 0
    assert len(actions()) == 7


# -- public pages and links ---------------------------------------------------------------------


def test_public_page_shows_promised_against_delivered(client, funded, make_user, request_context):
    staff = make_user("staff")
    cycle, park, bench, _pool = funded()
    services.update_implementation(staff, park, status=ImplementationStatus.IN_PROGRESS, progress_percent=60,
                                   public_note="Paths are laid.")
    services.update_implementation(staff, bench, status=ImplementationStatus.CANCELLED, progress_percent=0,
                                   cancellation_reason="The street is being rebuilt first.")
    services.add_milestone(staff, park, title="Lay the paths", due_on=date(2026, 3, 1), done_on=date(2026, 2, 20))
    services.add_milestone(staff, park, title="Plant trees", due_on=date(2099, 4, 1))
    services.set_pledge_fulfilled(staff, park.pledges[0], True, "Every Saturday")
    services.add_photo(staff, park, _stream(PNG), "New paths through the park")
    db.session.commit()
    page = client.get(f"/cycles/{cycle.slug}/implementation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("A park by the river", "60% complete", "Paths are laid.", "Lay the paths", "Plant trees",
                 "1 of 2 pledges fulfilled", "Every Saturday", "not yet fulfilled", 'alt="New paths through the park"',
                 "The street is being rebuilt first.", "0 projects done", "1 project in progress", "€0 delivered of €90,000 funded",
                 "0% of the funded money delivered"):
        assert text in html.replace("<strong>", "").replace("</strong>", ""), text
    assert "A pool" not in html
    assert '<progress id="progress-' in html and 'datetime="2026-02-20"' in html


def test_nothing_shown_or_linked_before_publication(client, funded):
    cycle, park, _bench, _pool = funded(publish=False)
    assert client.get(f"/cycles/{cycle.slug}/implementation").status_code == 404
    assert "/implementation" not in client.get(f"/cycles/{cycle.slug}").get_data(as_text=True)
    assert "Implementation" not in client.get(f"/proposals/{park.id}").get_data(as_text=True)
    assert client.get(f"/api/v1/cycles/{cycle.slug}/implementation").status_code == 404


def test_links_from_the_cycle_results_home_and_project_pages(client, funded, make_user, request_context):
    cycle, park, _bench, _pool = funded()
    link = f'href="/cycles/{cycle.slug}/implementation"'
    assert link in client.get(f"/cycles/{cycle.slug}").get_data(as_text=True)
    assert link in client.get(f"/cycles/{cycle.slug}/results/{cycle.budgets[0].id}").get_data(as_text=True)
    assert link not in client.get("/").get_data(as_text=True)  # the cycle is not in its implementation phase
    project = client.get(f"/proposals/{park.id}").get_data(as_text=True)
    assert "Implementation" in project and "Planned" in project and "0% complete" in project
    now = utcnow()
    cycle.phase(PhaseKind.VOTING).ends_at = now - timedelta(minutes=10)
    cycle.phase(PhaseKind.RESULTS).starts_at, cycle.phase(PhaseKind.RESULTS).ends_at = now - timedelta(minutes=9), now - timedelta(minutes=5)
    cycle.phase(PhaseKind.IMPLEMENTATION).starts_at = now - timedelta(minutes=1)
    db.session.commit()
    assert link in client.get("/").get_data(as_text=True)


def test_staff_reach_the_tracking_from_the_cycle_and_the_results(client, login, funded, make_user):
    cycle, _park, _bench, _pool = funded()
    login(make_user("staff"))
    staff_link = f'href="/staff/cycles/{cycle.id}/implementation"'
    assert staff_link in client.get(f"/staff/cycles/{cycle.id}").get_data(as_text=True)
    assert staff_link in client.get(f"/cycles/{cycle.slug}/results/{cycle.budgets[0].id}").get_data(as_text=True)
    assert staff_link in client.get(f"/staff/budgets/{cycle.budgets[0].id}/results").get_data(as_text=True)


# -- API ----------------------------------------------------------------------------------------


def test_api_lists_the_implementation_with_a_summary(client, funded, make_user, request_context):
    staff = make_user("staff")
    cycle, park, bench, pool = funded()
    services.update_implementation(staff, bench, status=ImplementationStatus.DONE, progress_percent=100,
                                   today=date(2027, 4, 1))
    services.add_milestone(staff, park, title="Design", due_on=date(2027, 1, 5))
    services.set_pledge_fulfilled(staff, park.pledges[1], True, "Delivered")
    db.session.commit()
    first = client.get(f"/api/v1/cycles/{cycle.slug}/implementation?per_page=1").get_json()
    assert first["total"] == 2 and first["next"] and first["summary"]["by_status"]["done"] == 1
    assert first["summary"]["delivered_amount"] == "30000.00" and first["summary"]["funded_amount"] == "90000.00"
    item = first["items"][0]
    assert (item["project"], item["status"], item["progress"]) == (park.id, "planned", 0)
    assert item["milestones"] == [{"title": "Design", "due_on": "2027-01-05", "done_on": None, "done": False, "note": ""}]
    assert item["pledges"]["fulfilled"] == 1 and item["pledges"]["items"][1]["note"] == "Delivered"
    second = client.get(first["next"]).get_json()
    assert second["items"][0]["finished_on"] == "2027-04-01" and second["next"] is None
    one = client.get(f"/api/v1/projects/{bench.id}/implementation").get_json()
    assert one["status"] == "done" and one["progress"] == 100
    missing = client.get(f"/api/v1/projects/{pool.id}/implementation")
    assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404
    assert client.get("/api/v1/cycles/nope/implementation").get_json()["error"]["status"] == 404
