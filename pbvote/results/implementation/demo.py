"""The demo city's implementation: last year's funded projects under way.

Called by :func:`pbvote.demo.load_demo` after last year's results are published; deterministic. The
funded projects get, in the order the results list them, a mix of statuses (done, in progress,
planned, one cancelled with its reason), milestones with dates and notes, pledges of help made at
the proposal stage (some fulfilled) and a few photos: small PNGs drawn here, because pbvote has no
imaging library and a flat picture needs none (zlib and a CRC are the whole PNG format).
"""
from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from pbvote.auth.models import Role, User
from pbvote.cycles.models import Cycle
from pbvote.extensions import db
from pbvote.proposals.models import Pledge, PledgeFrequency, PledgeKind
from pbvote.results.implementation import services
from pbvote.results.implementation.models import ImplementationStatus

STAFF_EMAIL = "staff@demo.pbvote.org"

GREEN = ((46, 125, 50), (200, 230, 201))
BLUE = ((21, 101, 192), (187, 222, 251))
STONE = ((93, 64, 55), (215, 204, 200))

#: Per funded project of last year's cycle (by title): (status, progress, public note, cancellation
#: reason, [(milestone, due in days from now, done days ago or None, note)], (photo alt text, colours) or None).
#: A funded project not named here is planned, with no milestones.
PLANS = {
    "Defibrillators in 20 public places": (
        ImplementationStatus.DONE, 100, "All 20 defibrillators are in place and registered with the ambulance service.", None,
        [("Sites chosen with the ambulance service", -200, 205, "Shops, the station, the sports halls and the libraries."),
         ("Cabinets installed", -90, 95, "Done a week early."),
         ("Free first-aid courses", -60, 60, "Six courses, 140 residents trained.")],
        ("A green defibrillator cabinet on the wall of the library", GREEN)),
    "Warm spaces in winter": (
        ImplementationStatus.IN_PROGRESS, 60, "Two of the three centres are open as warm spaces on winter evenings.", None,
        [("Heating repaired in the three centres", -120, 118, "The boiler of Riverside Hall had to be replaced."),
         ("Riverside and Old Town open", -10, 12, "Open Monday to Thursday, 17:00–21:00."),
         ("Northfield opens", 45, None, "Waiting for the new kitchen to be fitted."),
         ("Review with the volunteers", 70, None, "")],
        ("Neighbours with hot drinks at a long table in the community centre", BLUE)),
    "Bike repair stations at five schools": (
        ImplementationStatus.PLANNED, 0, "The stations are ordered for the start of the spring term.", None,
        [("Stations ordered", 30, None, ""), ("Installed at the five schools", 60, None, "")], None),
    "Youth film festival": (
        ImplementationStatus.CANCELLED, 10, "", "The cinema that was to host the festival closed for good; the money "
        "returns to next year's budget and the young film makers are invited to propose it again with a new venue.",
        [("Venue booked", -150, 150, "The booking was cancelled when the cinema closed.")], None),
    "Street piano on Abbey Square": (
        ImplementationStatus.DONE, 100, "The piano is on the square; the music school tunes it twice a year.", None,
        [("Piano donated and weather-proofed", -80, 85, ""), ("Placed on the square", -50, 52, "First concert the same day.")],
        ("An upright piano painted with flowers on Abbey Square", STONE)),
    "Cobblestone path for wheelchairs": (
        ImplementationStatus.IN_PROGRESS, 35, "The first 200 metres are smooth; works continue street by street.", None,
        [("Design approved by the heritage office", -100, 104, "The stones taken up are re-used at the edges."),
         ("First 200 m", -15, 14, ""), ("Main street finished", 80, None, "")], None),
}
#: Help pledged at the proposal stage (kind, hours, frequency, description, fulfilment note or None if not fulfilled)
PLEDGES = {
    "Defibrillators in 20 public places": [
        (PledgeKind.SKILLS, None, None, "I am a nurse: I can help teach the first-aid courses.", "Taught four of the six courses."),
        (PledgeKind.SPACE, None, None, "Our shop's wall for one of the cabinets.", "Cabinet installed on the shop."),
        (PledgeKind.TIME, 1, PledgeFrequency.MONTHLY, "Check the cabinets on my street every month.", None)],
    "Warm spaces in winter": [
        (PledgeKind.TIME, 4, PledgeFrequency.WEEKLY, "Serve hot drinks one evening a week.", "Every Tuesday since November."),
        (PledgeKind.MATERIALS, None, None, "Blankets and board games from our tenants' association.", None)],
    "Street piano on Abbey Square": [
        (PledgeKind.MATERIALS, None, None, "Our old upright piano.", "Donated and now on the square.")],
    "Bike repair stations at five schools": [
        (PledgeKind.SKILLS, None, None, "I repair bikes: I can run the first workshop at each school.", None)],
}


def add_demo_implementation(past: Cycle, now: datetime) -> None:
    """Implementation under way for the funded projects of ``past`` (its results already published)."""
    staff = db.session.scalar(sa.select(User).where(User.email == STAFF_EMAIL))
    residents = list(db.session.scalars(sa.select(User).where(User.role == Role.RESIDENT).order_by(User.id)))
    today = now.date()
    for index, project in enumerate(services.funded_projects(past)):
        proposal = project.proposal
        for n, (kind, hours, frequency, description, fulfilled) in enumerate(PLEDGES.get(proposal.title, [])):
            pledge = Pledge(user=residents[(index * 3 + n) % len(residents)], kind=kind, hours=hours, frequency=frequency,
                            description=description, created_at=proposal.created_at + timedelta(days=3 + n))
            proposal.pledges.append(pledge)
            db.session.flush()
            if fulfilled:
                services.set_pledge_fulfilled(staff, pledge, True, fulfilled)
        plan = PLANS.get(proposal.title)
        if plan is None:
            continue  # planned, as every funded project is until staff say more
        status, progress, note, reason, milestones, photo = plan
        services.update_implementation(
            staff, proposal, status=status, progress_percent=progress, public_note=note, cancellation_reason=reason,
            started_on=None if status is ImplementationStatus.PLANNED else today - timedelta(days=210 - 10 * index),
            expected_on=today + timedelta(days=75 + 5 * index) if status in (ImplementationStatus.PLANNED, ImplementationStatus.IN_PROGRESS) else None,
            finished_on=today - timedelta(days=50) if status is ImplementationStatus.DONE else None, today=today,
        )
        for title, due_in, done_ago, milestone_note in milestones:
            services.add_milestone(staff, proposal, title=title, due_on=today + timedelta(days=due_in),
                                   done_on=today - timedelta(days=done_ago) if done_ago is not None else None,
                                   note=milestone_note)
        if photo is not None:
            alt_text, (top, bottom) = photo
            services.add_photo(staff, proposal, io.BytesIO(gradient_png(320, 180, top, bottom)), alt_text)


def gradient_png(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A ``width`` × ``height`` PNG shading from ``top`` to ``bottom`` (RGB), with a lighter sun."""
    rows = []
    for y in range(height):
        t = y / max(height - 1, 1)
        base = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom))
        row = bytearray(base * width)
        for x in range(width):
            if (x - width * 0.75) ** 2 + (y - height * 0.3) ** 2 < (height * 0.12) ** 2:
                row[3 * x:3 * x + 3] = b"\xff\xe0\x82"
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
