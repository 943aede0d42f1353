"""Double entry: two independent keyings per sheet, matching, discrepancies, flags, undo, staff
decisions and corrections, and what the schema refuses whatever the services do."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import count_rows

from pbvote.audit import AuditEntry
from pbvote.ballots import services as ballot_services
from pbvote.ballots.models import Ballot, BallotChannel
from pbvote.ballots.paper import services
from pbvote.ballots.paper.models import (
    EntryFlag,
    EntryState,
    InvalidPolicy,
    InvalidReason,
    PaperEntry,
    SheetOutcome,
    SheetStatus,
)
from pbvote.ballots.paper.serials import check_digit
from pbvote.cycles.models import PhaseKind
from pbvote.results.services import election_for_budget, run_budget_rule
from pbvote.errors import Conflict, InvalidBallot, InvalidInput, NotAllowed, PhaseClosed
from pbvote.extensions import db
from pbvote.timeutil import utcnow


def _live_ballots():
    return db.session.scalars(sa.select(Ballot).where(Ballot.superseded_at.is_(None), Ballot.voided_at.is_(None))).all()


def test_two_matching_keyings_make_one_counted_paper_ballot_through_the_cast_layer(paper, key):
    p = paper()
    sheet = p.sheets[0]
    first = key(p.v1, p.session, sheet.serial, "1 3")
    assert first.event == "first" and first.sheet.status == SheetStatus.KEYED_ONCE
    assert count_rows(Ballot) == 0
    second = key(p.v2, p.session, sheet.serial, "3,1")  # the order of ticks does not matter
    assert second.event == "matched"
    db.session.refresh(sheet)
    assert sheet.status == SheetStatus.MATCHED and sheet.outcome == SheetOutcome.COUNTED
    [ballot] = _live_ballots()
    assert sheet.ballot_id == ballot.id
    assert ballot.channel == BallotChannel.PAPER and ballot.paper_serial == sheet.serial
    assert ballot.recorded_by_id == p.v2.id and ballot.participation_id is None and ballot.tracking_hash is None
    assert ballot.cast_at == p.session.starts_at
    assert sorted(c.proposal_id for c in ballot.choices) == sorted([p.projects[0].id, p.projects[2].id])
    assert p.budget.frozen_at is not None
    cast_audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "ballot.cast")).all()
    assert [entry.data["channel"] for entry in cast_audit] == ["paper"]
    assert [b.id for b in ballot_services.countable_ballots(p.budget)] == [ballot.id]


def test_counted_paper_ballots_change_the_result_exactly_as_online_ones_would(paper, key, cast, make_user):
    """The same choices online and on paper weigh the same in the tally (one source of ballots)."""
    p = paper(costs=(60_000_00, 50_000_00, 40_000_00), max_choices=1)
    cheap, middle, dear = sorted(p.proposals, key=lambda x: x.final_amount)
    cast(make_user(verified=True), p.budget, [dear])
    before = run_budget_rule(p.budget).selected
    assert str(dear.id) in before and str(middle.id) not in before  # 60k first, then 50k no longer fits
    number_of = {proj.id: n for n, proj in enumerate(p.projects, start=1)}
    for sheet in p.sheets[:2]:
        key(p.v1, p.session, sheet.serial, str(number_of[middle.id]))
        key(p.v2, p.session, sheet.serial, str(number_of[middle.id]))
    election = election_for_budget(p.budget)
    assert sum(b.weight for b in election.ballots) == 3
    after = run_budget_rule(p.budget).selected
    assert str(middle.id) in after and str(dear.id) not in after  # two paper votes beat one online vote


def test_a_ranking_keyed_in_another_order_does_not_match(paper, key):
    p = paper("ranking", max_choices=3)
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1 2 3")
    result = key(p.v2, p.session, sheet.serial, "2 1 3")
    assert result.event == "discrepancy" and result.sheet.status == SheetStatus.DISCREPANCY
    assert count_rows(Ballot) == 0
    assert [s.id for s in services.sheets_for_staff(p.cycle.id)] == [sheet.id]


def test_points_ballots_are_keyed_as_number_equals_points(paper, key):
    p = paper("cumulative", points_total=10, points_per_project=5)
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1=5 2=3")
    key(p.v2, p.session, sheet.serial, "2=3, 1=5")
    [ballot] = _live_ballots()
    assert sorted((c.proposal_id, c.points) for c in ballot.choices) == sorted(
        [(p.projects[0].id, 5), (p.projects[1].id, 3)])


def test_a_discrepancy_is_settled_by_staff_recording_what_the_paper_says(paper, key):
    p = paper()
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1 2")
    key(p.v2, p.session, sheet.serial, "1 3")
    with pytest.raises(InvalidInput, match="Say how you decided"):
        services.decide_sheet(p.staff, sheet, "1 2", "")
    with pytest.raises(NotAllowed):
        services.decide_sheet(p.v1, sheet, "1 2", "I was right")
    db.session.rollback()
    services.decide_sheet(p.staff, sheet, "1 2", "Checked the paper: the second mark is on 2.")
    db.session.commit()
    assert sheet.status == SheetStatus.DECIDED and sheet.outcome == SheetOutcome.COUNTED
    assert sheet.decided_by_id == p.staff.id
    [ballot] = _live_ballots()
    assert ballot.recorded_by_id == p.staff.id
    assert services.sheets_for_staff(p.cycle.id) == []
    decision = db.session.scalar(sa.select(PaperEntry).where(PaperEntry.is_decision.is_(True)))
    assert decision.note.startswith("Checked the paper") and decision.author_id == p.staff.id


def test_one_volunteer_keying_a_sheet_twice_is_flagged_not_matched(paper, key):
    p = paper()
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1 2")
    again = key(p.v1, p.session, sheet.serial, "1 2")
    assert again.event == "flagged" and again.entry.flag == EntryFlag.SAME_VOLUNTEER
    db.session.refresh(sheet)
    assert sheet.status == SheetStatus.KEYED_ONCE and count_rows(Ballot) == 0
    assert [e.id for e in services.flagged_entries(p.session)] == [again.entry.id]


def test_a_settled_sheet_keyed_again_never_becomes_a_second_ballot(paper, key, make_user):
    p = paper()
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1")
    key(p.v2, p.session, sheet.serial, "1")
    third = key(p.staff, p.session, sheet.serial, "1")
    assert third.event == "flagged" and third.entry.flag == EntryFlag.EXTRA
    assert count_rows(Ballot) == 1


def test_the_same_form_sent_twice_is_one_entry(paper, key):
    p = paper()
    token = ballot_services.new_submission_token()
    key(p.v1, p.session, p.sheets[0].serial, "1", token=token)
    replay = key(p.v1, p.session, p.sheets[0].serial, "1", token=token)
    assert replay.event == "replayed" and count_rows(PaperEntry) == 1


def test_its_author_can_undo_an_entry_until_the_sheet_is_matched(paper, key):
    p = paper()
    sheet = p.sheets[0]
    first = key(p.v1, p.session, sheet.serial, "1 4")
    with pytest.raises(NotAllowed):
        services.undo_entry(p.v2, first.entry)
    db.session.rollback()
    services.undo_entry(p.v1, first.entry)
    db.session.commit()
    assert sheet.status == SheetStatus.UNKEYED and first.entry.state == EntryState.UNDONE
    # Keyed again (the same volunteer may, their first keying is withdrawn), then matched.
    key(p.v1, p.session, sheet.serial, "1 2")
    discrepancy = key(p.v2, p.session, sheet.serial, "1 3")
    services.undo_entry(p.v2, discrepancy.entry)  # a discrepancy can still be withdrawn by its author
    db.session.commit()
    assert sheet.status == SheetStatus.KEYED_ONCE
    matched = key(p.v2, p.session, sheet.serial, "1 2")
    assert matched.event == "matched"
    with pytest.raises(Conflict, match="settled"):
        services.undo_entry(p.v2, matched.entry)
    db.session.rollback()
    assert count_rows(Ballot) == 1
    assert count_rows(PaperEntry, PaperEntry.state == EntryState.UNDONE) == 2


def test_a_ballot_over_the_budget_is_recorded_invalid_as_a_whole_never_trimmed(paper, key):
    p = paper("knapsack", costs=(60_000_00, 50_000_00, 10_000_00))
    sheet = p.sheets[0]
    first = key(p.v1, p.session, sheet.serial, "1 2 3")
    assert first.reading.outcome == SheetOutcome.INVALID and first.reading.reason == InvalidReason.OVER_BUDGET
    assert "more than the budget" in first.reading.message
    key(p.v2, p.session, sheet.serial, "3 2 1")
    db.session.refresh(sheet)
    assert sheet.status == SheetStatus.MATCHED and sheet.outcome == SheetOutcome.INVALID
    assert sheet.reason == InvalidReason.OVER_BUDGET and sheet.ballot_id is None
    assert count_rows(Ballot) == 0


def test_too_many_choices_blank_spoiled_and_unreadable_are_recorded_with_their_reason(paper, key):
    p = paper(max_choices=2)
    cases = [("1 2 3", SheetOutcome.INVALID, InvalidReason.TOO_MANY), ("blank", SheetOutcome.BLANK, None),
             ("Spoiled", SheetOutcome.SPOILED, None), ("unreadable", SheetOutcome.INVALID, InvalidReason.UNREADABLE)]
    for sheet, (line, outcome, reason) in zip(p.sheets, cases):
        key(p.v1, p.session, sheet.serial, line)
        key(p.v2, p.session, sheet.serial, line)
        db.session.refresh(sheet)
        assert (sheet.status, sheet.outcome, sheet.reason) == (SheetStatus.MATCHED, outcome, reason), line
    assert count_rows(Ballot) == 0


def test_under_the_refer_policy_a_rule_breaking_sheet_goes_to_staff(paper, key):
    p = paper(max_choices=1)
    services.save_settings(p.staff, p.cycle, invalid_policy=InvalidPolicy.REFER, policy_note="", walk_ins=False)
    db.session.commit()
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1 2")
    referred = key(p.v2, p.session, sheet.serial, "1 2")
    assert referred.event == "referred" and referred.sheet.status == SheetStatus.REFERRED
    assert referred.sheet.outcome is None and [s.id for s in services.sheets_for_staff(p.cycle.id)] == [sheet.id]
    # Staff read the paper: the second tick is a crossed-out mark.
    services.decide_sheet(p.staff, sheet, "1", "The tick on 2 is crossed out.")
    db.session.commit()
    assert sheet.outcome == SheetOutcome.COUNTED and count_rows(Ballot) == 1


def test_a_line_that_cannot_be_read_is_a_typo_and_nothing_is_stored(paper, key):
    p = paper()
    with pytest.raises(InvalidBallot, match="“9” is not the number of a project") as caught:
        key(p.v1, p.session, p.sheets[0].serial, "1 9")
    assert caught.value.field == "choices"
    db.session.rollback()
    with pytest.raises(InvalidInput, match="Type the numbers"):
        key(p.v1, p.session, p.sheets[0].serial, " , ")
    db.session.rollback()
    assert count_rows(PaperEntry) == 0


def test_a_mistyped_or_foreign_serial_is_refused_on_the_serial_field(paper, key, make_cycle):
    p = paper()
    serial = p.sheets[0].serial
    swapped = serial[1] + serial[0] + serial[2:]
    if swapped != serial:
        with pytest.raises(InvalidInput, match="does not check out") as caught:
            key(p.v1, p.session, swapped, "1")
        assert caught.value.field == "serial"
    body = "1234567"
    with pytest.raises(InvalidInput, match="No sheet"):
        key(p.v1, p.session, body + check_digit(body), "1")
    other = services.create_session(p.staff, p.cycle, place="Market stall", starts_at=p.session.starts_at,
                                     ends_at=p.session.ends_at, budgets=[p.budget], volunteers=[p.v1])
    db.session.commit()
    with pytest.raises(InvalidInput, match="belongs to another session"):
        key(p.v1, other, serial, "1")
    db.session.rollback()
    assert count_rows(PaperEntry) == 0


def test_only_the_sessions_volunteers_and_staff_key_its_sheets(paper, key):
    p = paper()
    with pytest.raises(NotAllowed):
        key(p.v3, p.session, p.sheets[0].serial, "1")
    db.session.rollback()
    assert key(p.staff, p.session, p.sheets[0].serial, "1").event == "first"


def test_a_closed_session_or_published_results_stop_keying(paper, key):
    p = paper()
    key(p.v1, p.session, p.sheets[0].serial, "1")
    services.close_session(p.staff, p.session, "Closed early for the test.")
    db.session.commit()
    with pytest.raises(PhaseClosed, match="closed"):
        key(p.v2, p.session, p.sheets[0].serial, "1")
    db.session.rollback()
    services.reopen_session(p.staff, p.session, "Keying continues.")
    results = p.cycle.phase(PhaseKind.RESULTS)
    results.starts_at = utcnow().replace(year=2000)
    db.session.commit()
    with pytest.raises(PhaseClosed, match="published"):
        key(p.v2, p.session, p.sheets[0].serial, "1")


def test_correcting_a_counted_sheet_voids_its_ballot_with_why_and_replaces_it(paper, key):
    p = paper()
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1")
    key(p.v2, p.session, sheet.serial, "1")
    old_id = sheet.ballot_id
    with pytest.raises(Conflict, match="already says this"):
        services.decide_sheet(p.staff, sheet, "1", "Looked again")
    db.session.rollback()
    services.decide_sheet(p.staff, sheet, "2", "Both volunteers misread: the tick is on 2.")
    db.session.commit()
    old = db.session.get(Ballot, old_id)
    assert old.voided_at is not None and "misread" in old.void_reason and old.voided_by_id == p.staff.id
    [live] = _live_ballots()
    assert live.id == sheet.ballot_id != old_id and live.paper_serial == sheet.serial
    assert [c.proposal_id for c in live.choices] == [p.projects[1].id]
    services.decide_sheet(p.staff, sheet, "spoiled", "The voter had asked for a new sheet: this one is spoiled.")
    db.session.commit()
    assert sheet.outcome == SheetOutcome.SPOILED and sheet.ballot_id is None and _live_ballots() == []


# -- the schema, whatever the services do -----------------------------------------------------------


def _entry(sheet, author, slot, state=EntryState.ACTIVE):
    return PaperEntry(sheet_id=sheet.id, session_id=sheet.session_id, author_id=author.id, slot=slot, state=state,
                      text="1", content="marks:1", outcome=SheetOutcome.COUNTED, message="", note="")


@pytest.mark.parametrize("second", ["same_slot", "same_author"])
def test_the_database_refuses_a_third_keying_or_one_volunteer_in_both_slots(paper, second):
    p = paper()
    sheet = p.sheets[0]
    db.session.add(_entry(sheet, p.v1, 1))
    db.session.commit()
    db.session.add(_entry(sheet, p.v2, 1) if second == "same_slot" else _entry(sheet, p.v1, 2))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(_entry(sheet, p.v1, 1, EntryState.UNDONE))  # an undone keying leaves its slot
    with pytest.raises(sa.exc.IntegrityError):  # ... but must say when it was undone
        db.session.commit()


def test_the_database_refuses_a_second_live_ballot_of_a_serial_and_a_paper_ballot_without_one(paper, key):
    p = paper()
    sheet = p.sheets[0]
    key(p.v1, p.session, sheet.serial, "1")
    key(p.v2, p.session, sheet.serial, "1")
    with pytest.raises(Conflict, match="already counted"):
        ballot_services.cast_paper_ballot(p.budget, [ballot_services.Choice(p.projects[0].id)], serial=sheet.serial,
                                          clerk=p.staff, cast_at=p.session.starts_at)
    db.session.rollback()
    db.session.add(Ballot(budget_id=p.budget.id, channel=BallotChannel.PAPER, recorded_by_id=p.staff.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Ballot(budget_id=p.budget.id, channel=BallotChannel.PAPER, paper_serial="12345678"))
    with pytest.raises(sa.exc.IntegrityError):  # no clerk
        db.session.commit()
    db.session.rollback()
    sheet.outcome = SheetOutcome.COUNTED  # a matched... sheet without its ballot? no
    sheet.ballot_id = None
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()


def test_paper_ballots_are_in_the_anonymised_export_by_channel_without_their_serial(paper, key):
    p = paper()
    key(p.v1, p.session, p.sheets[0].serial, "2")
    key(p.v2, p.session, p.sheets[0].serial, "2")
    rows = list(ballot_services.anonymised_ballot_rows(p.cycle))
    assert [(r["channel"], r["state"], r["choices"]) for r in rows] == [("paper", "counted", str(p.projects[1].id))]
    assert p.sheets[0].serial not in repr(rows)
