"""Proposal rules: phases, limits, co-authors, supports and threshold, pledges, comments, review, merge."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from conftest import count_rows
from pbvote.audit import AuditEntry
from pbvote.errors import Conflict, InvalidInput, NotAllowed, NotFound, PhaseClosed, RulesFrozen
from pbvote.extensions import db
from pbvote.proposals import services
from pbvote.proposals.models import CoauthorStatus, Pledge, ProposalStatus, Support
from pbvote.timeutil import utcnow

pytestmark = pytest.mark.usefixtures("request_ctx")

BODY = "A longer description of what we want to build and why."


def write(user, cycle, **extra):
    values = {"title": "New benches", "body": BODY, "estimated_amount": 5_000_00, "budget": cycle.budgets[0]}
    values.update(extra)
    return services.create_proposal(user, cycle, **values)


def last_action():
    return db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())).first()


def test_create_edit_submit_during_submission(make_cycle, make_user):
    cycle = make_cycle("submission")
    author = make_user()
    proposal = write(author, cycle, category=cycle.categories[0], latitude=51.5, longitude=-0.1)
    assert proposal.status == ProposalStatus.DRAFT
    services.update_proposal(author, proposal, title="Benches in the park")
    services.submit_proposal(author, proposal)
    assert proposal.status == ProposalStatus.SUBMITTED and proposal.submitted_at is not None
    assert last_action() == "proposal.submitted"
    services.update_proposal(author, proposal, estimated_amount=6_000_00)  # still editable before review
    assert proposal.estimated_amount == 6_000_00


@pytest.mark.parametrize("phase", ["review", "voting"])
def test_no_writing_outside_submission(make_cycle, make_user, make_proposal, phase):
    cycle = make_cycle(phase)
    author = make_user()
    with pytest.raises(PhaseClosed):
        write(author, cycle)
    proposal = make_proposal(cycle, status="submitted", author=author)
    with pytest.raises(PhaseClosed):
        services.update_proposal(author, proposal, title="Changed after review started")


def test_reviewed_proposal_is_no_longer_editable(make_cycle, make_proposal):
    cycle = make_cycle("submission")
    proposal = make_proposal(cycle, status="feasible")
    with pytest.raises(PhaseClosed):
        services.update_proposal(proposal.author, proposal, title="Sneaky change")


@pytest.mark.parametrize("values, field", [
    ({"title": "Hi"}, "title"), ({"body": "short"}, "body"), ({"estimated_amount": 0}, "estimated_amount"),
    ({"estimated_amount": 10**12}, "estimated_amount"), ({"latitude": 10.0}, "latitude"),
    ({"latitude": 95.0, "longitude": 0.0}, "latitude"), ({"budget": None}, "budget"),
])
def test_create_validates_fields(make_cycle, make_user, values, field):
    cycle = make_cycle()
    with pytest.raises(InvalidInput) as error:
        write(make_user(), cycle, **values)
    assert error.value.field == field


def test_per_resident_limit_counts_own_not_withdrawn(make_cycle, make_user):
    cycle = make_cycle(max_proposals_per_resident=2)
    author = make_user()
    first = write(author, cycle)
    write(author, cycle)
    with pytest.raises(Conflict, match="limit of 2"):
        write(author, cycle)
    services.withdraw_proposal(author, first)
    write(author, cycle)  # a withdrawn proposal frees a place


def test_someone_else_cannot_edit(make_cycle, make_user):
    cycle = make_cycle()
    proposal = write(make_user(), cycle)
    with pytest.raises(NotAllowed):
        services.update_proposal(make_user(), proposal, title="Not mine at all")


def test_coauthor_invite_accept_then_edit(make_cycle, make_user):
    cycle = make_cycle()
    author, friend = make_user(), make_user(name="Zoë Friend", email="zoe@example.org")
    proposal = write(author, cycle)
    invitation = services.invite_coauthor(author, proposal, "zoe@example.org")
    with pytest.raises(NotAllowed):  # not yet accepted
        services.update_proposal(friend, proposal, title="Friend's title")
    with pytest.raises(NotAllowed):
        services.respond_to_invitation(make_user(), invitation, accept=True)
    services.respond_to_invitation(friend, invitation, accept=True)
    assert invitation.status == CoauthorStatus.ACCEPTED
    services.update_proposal(friend, proposal, title="Friend's title")
    assert proposal.title == "Friend's title"
    assert services.proposals_of(friend) == [proposal]


def test_coauthor_invite_by_name_decline_and_errors(make_cycle, make_user):
    cycle = make_cycle()
    author = make_user()
    make_user(name="Sam Same")
    make_user(name="sam same")
    other = make_user(name="Unique Person")
    proposal = write(author, cycle)
    with pytest.raises(Conflict, match="Several people"):
        services.invite_coauthor(author, proposal, "Sam Same")
    with pytest.raises(NotFound):
        services.invite_coauthor(author, proposal, "nobody@example.org")
    with pytest.raises(Conflict):
        services.invite_coauthor(author, proposal, author.email)
    invitation = services.invite_coauthor(author, proposal, "unique person")
    with pytest.raises(Conflict):
        services.invite_coauthor(author, proposal, "Unique Person")
    services.respond_to_invitation(other, invitation, accept=False)
    with pytest.raises(NotAllowed):
        services.update_proposal(other, proposal, title="Declined but trying")
    with pytest.raises(Conflict):
        services.respond_to_invitation(other, invitation, accept=True)


def test_support_once_keeps_count_and_threshold(make_cycle, make_user, make_proposal):
    cycle = make_cycle(support_threshold=2)
    proposal = make_proposal(cycle, status="submitted")
    a, b = make_user(), make_user()
    services.support_proposal(a, proposal)
    assert not services.qualifies_for_review(proposal)
    with pytest.raises(Conflict, match="already support"):
        services.support_proposal(a, proposal)
    services.support_proposal(b, proposal)
    assert proposal.support_count == 2 == count_rows(Support)
    assert services.qualifies_for_review(proposal)
    services.withdraw_support(b, proposal)
    assert proposal.support_count == 1 == count_rows(Support)
    with pytest.raises(Conflict):
        services.withdraw_support(b, proposal)


def test_unique_constraint_backs_one_support_per_resident(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle(), status="submitted")
    user = make_user()
    db.session.add(Support(proposal_id=proposal.id, user_id=user.id))
    db.session.flush()
    db.session.add(Support(proposal_id=proposal.id, user_id=user.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("phase, status", [("review", "submitted"), ("submission", "draft"), ("submission", "feasible")])
def test_supports_only_for_submitted_during_submission(make_cycle, make_user, make_proposal, phase, status):
    proposal = make_proposal(make_cycle(phase), status=status)
    with pytest.raises((PhaseClosed, Conflict)):
        services.support_proposal(make_user(), proposal)


def test_pledges_time_and_in_kind(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle(), status="submitted")
    helper = make_user()
    with pytest.raises(InvalidInput) as error:
        services.add_pledge(helper, proposal, kind="time", description="Water the trees")
    assert error.value.field == "hours"
    with pytest.raises(InvalidInput):
        services.add_pledge(helper, proposal, kind="time", hours=2, description="Water the trees")
    services.add_pledge(helper, proposal, kind="time", hours=2, frequency="weekly", description="Water the trees")
    services.add_pledge(helper, proposal, kind="space", hours=5, frequency="weekly", description="Our garage")
    kinds = [(p.kind.value, p.hours) for p in proposal.pledges]
    assert kinds == [("time", 2), ("space", None)]
    with pytest.raises(NotAllowed):
        services.remove_pledge(make_user(), proposal.pledges[0])


def test_comment_threads_two_levels_and_author_mark(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle(), status="submitted")
    resident = make_user()
    top = services.add_comment(resident, proposal, "Where exactly?")
    reply = services.add_comment(proposal.author, proposal, "Next to the school.", parent=top)
    deeper = services.add_comment(resident, proposal, "Thanks!", parent=reply)
    assert reply.by_proposal_author and not top.by_proposal_author
    assert deeper.parent_id == top.id  # a reply to a reply stays in the thread
    threads = services.comment_threads(proposal)
    assert [c.id for c in threads] == [top.id]
    assert [r.id for r in threads[0].replies] == [reply.id, deeper.id]


def test_comment_edit_window_is_fifteen_minutes(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle(), status="submitted")
    writer = make_user()
    comment = services.add_comment(writer, proposal, "First thought")
    services.edit_comment(writer, comment, "Better thought", now=comment.created_at + timedelta(minutes=14))
    assert comment.body == "Better thought" and comment.edited_at is not None
    with pytest.raises(NotAllowed):
        services.edit_comment(make_user(), comment, "Hijack")
    with pytest.raises(Conflict, match="15 minutes"):
        services.edit_comment(writer, comment, "Too late", now=comment.created_at + timedelta(minutes=16))


def test_flag_once_and_moderate_with_reason(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle(), status="submitted")
    writer, reader, moderator = make_user(), make_user(), make_user("moderator")
    comment = services.add_comment(writer, proposal, "Rude words")
    services.flag_comment(reader, comment, "insulting")
    with pytest.raises(Conflict):
        services.flag_comment(reader, comment)
    with pytest.raises(Conflict):
        services.flag_comment(writer, comment)
    assert comment.flag_count == 1
    assert services.flagged_comments(proposal.cycle) == [comment]
    with pytest.raises(NotAllowed):
        services.moderate_comment(reader, comment, hide=True, reason="I dislike it")
    with pytest.raises(InvalidInput):
        services.moderate_comment(moderator, comment, hide=True, reason=" ")
    services.moderate_comment(moderator, comment, hide=True, reason="Insults a neighbour")
    assert comment.is_hidden and comment.hidden_reason == "Insults a neighbour"
    with pytest.raises(Conflict):
        services.edit_comment(writer, comment, "Sorry")
    services.moderate_comment(moderator, comment, hide=False, reason="Reconsidered")
    assert not comment.is_hidden and last_action() == "comment.restored"


def test_mark_feasible_needs_explanation_when_cost_differs(make_cycle, make_user, make_proposal):
    cycle = make_cycle("review")
    proposal = make_proposal(cycle, status="submitted", cost=10_000_00)
    reviewer = make_user("reviewer")
    with pytest.raises(NotAllowed):
        services.mark_feasible(make_user(), proposal, 10_000_00)
    with pytest.raises(InvalidInput) as error:
        services.mark_feasible(reviewer, proposal, 12_000_00)
    assert error.value.field == "explanation"
    services.mark_feasible(reviewer, proposal, 12_000_00, "Drainage works needed.")
    assert proposal.status == ProposalStatus.FEASIBLE and proposal.final_amount == 12_000_00
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "proposal.marked_feasible" and entry.actor_id == reviewer.id
    assert entry.data["before"]["status"] == "submitted"


def test_mark_unfeasible_requires_reason(make_cycle, make_user, make_proposal):
    proposal = make_proposal(make_cycle("review"), status="submitted")
    reviewer = make_user("staff")
    with pytest.raises(InvalidInput):
        services.mark_unfeasible(reviewer, proposal, "")
    services.mark_unfeasible(reviewer, proposal, "The land is private.")
    assert proposal.status == ProposalStatus.UNFEASIBLE and proposal.review_reason == "The land is private."


def test_review_needs_threshold_phase_and_unfrozen_budget(make_cycle, make_user, make_proposal):
    reviewer = make_user("reviewer")
    cycle = make_cycle("review", support_threshold=3)
    proposal = make_proposal(cycle, status="submitted", support_count=2)
    with pytest.raises(Conflict, match="2 of the 3"):
        services.mark_unfeasible(reviewer, proposal, "No")
    voting = make_cycle("voting")
    with pytest.raises(PhaseClosed):
        services.mark_unfeasible(reviewer, make_proposal(voting, status="submitted"), "No")
    frozen = make_cycle("review")
    frozen.budgets[0].frozen_at = utcnow()
    with pytest.raises(RulesFrozen):
        services.mark_unfeasible(reviewer, make_proposal(frozen, status="submitted"), "No")


def test_merge_carries_supports_once_pledges_and_credits_authors(make_cycle, make_user, make_proposal):
    cycle = make_cycle("submission")
    source = make_proposal(cycle, status="submitted")
    target = make_proposal(cycle, status="submitted")
    both, only_source, only_target = make_user(), make_user(), make_user()
    for user, proposal in ((both, source), (both, target), (only_source, source), (only_target, target)):
        services.support_proposal(user, proposal)
    services.add_pledge(only_source, source, kind="materials", description="Paint")
    reviewer = make_user("reviewer")
    with pytest.raises(InvalidInput):  # only into a feasible proposal
        services.merge_proposal(reviewer, source, target, "Same street, same idea.")
    target.status, target.final_amount = ProposalStatus.FEASIBLE, target.estimated_amount
    db.session.flush()
    with pytest.raises(InvalidInput):
        services.merge_proposal(reviewer, source, target, "")
    with pytest.raises(InvalidInput):
        services.merge_proposal(reviewer, source, source, "Same")
    services.merge_proposal(reviewer, source, target, "Same street, same idea.")
    assert source.status == ProposalStatus.MERGED and source.merged_into_id == target.id
    assert target.support_count == 3  # both, only_source, only_target: nobody twice
    assert count_rows(Support, Support.proposal_id == target.id) == 3
    assert [p.description for p in target.pledges] == ["Paint"]
    assert db.session.scalar(sa.select(Pledge.carried_from_id)) == source.id
    assert source.author_id in target.author_ids()
    with pytest.raises(Conflict):  # a merged proposal is no longer reviewable
        services.mark_feasible(reviewer, source, 1)


def test_ballot_proposals_are_the_feasible_ones_by_id(make_cycle, make_proposal):
    cycle = make_cycle("review")
    feasible = [make_proposal(cycle, status="feasible") for _ in range(2)]
    for status in ("submitted", "unfeasible", "draft", "withdrawn"):
        make_proposal(cycle, status=status, review_reason="x" if status == "unfeasible" else None)
    assert services.ballot_proposals(cycle.budgets[0]) == sorted(feasible, key=lambda p: p.id)


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"<svg onload=alert(1)></svg>", "PNG, JPEG"),
    (b"GIF88a" + b"x" * 20, "PNG, JPEG"),
    (b"%PDF-1.4 fake", "PNG, JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048, "too large"),
])
def test_image_upload_rejects_wrong_type_and_size(app, make_cycle, make_user, data, message):
    app.config["PBVOTE_MAX_IMAGE_BYTES"] = 1024
    cycle = make_cycle()
    author = make_user()
    proposal = write(author, cycle)
    with pytest.raises(InvalidInput, match=message):
        services.add_image(author, proposal, io.BytesIO(data))


def test_image_upload_stores_random_name_outside_static(app, make_cycle, make_user):
    cycle = make_cycle()
    author = make_user()
    proposal = write(author, cycle)
    image = services.add_image(author, proposal, io.BytesIO(_png()), "A bench")
    other = services.add_image(author, proposal, io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 40))
    assert image.content_type == "image/png" and other.content_type == "image/jpeg"
    assert image.stored_name != other.stored_name and image.stored_name.endswith(".png")
    path = services.image_path(image)
    assert path.startswith(app.config["PBVOTE_UPLOAD_DIR"]) and "static" not in path
    with open(path, "rb") as stored:
        assert stored.read() == _png()
    services.remove_image(author, image)
    assert not __import__("os").path.exists(path)
