"""The demo city's participation: co-authors, supports, pledges, discussion (with a hidden comment
and an author's reply), a withdrawn proposal and the credit of a merged proposal's author.

Called by :func:`pbvote.demo.load_demo` before its commit; deterministic like the rest of the demo.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from pbvote.auth.models import User
from pbvote.cycles.models import Cycle
from pbvote.extensions import db
from pbvote.proposals.models import (Coauthor, CoauthorStatus, Comment, CommentFlag, Pledge, PledgeFrequency,
                                     PledgeKind, Proposal, ProposalStatus, Support)

# (proposal title, commenter e-mail, text, reply from the author or None)
COMMENTS = [
    ("Protected cycle lane along Station Road", "resident@demo.pbvote.org",
     "Will the lane keep the bus stop at the Co-op? Many older people use it.",
     "Yes: the stop stays and gets a raised platform, so the lane goes behind it."),
    ("Plant 400 street trees", "volunteer@demo.pbvote.org",
     "Our street association can water the trees on Mill Street in the first two summers.",
     "Wonderful, thank you! I have added Mill Street to the list."),
    ("Riverside community garden", "li.chen@demo.pbvote.org",
     "Could part of the beds be raised higher for wheelchair users?", None),
]
HIDDEN = ("Protected cycle lane along Station Road", "jonas.weber@demo.pbvote.org",
          "Cyclists are all idiots and this is a waste of money, the people who want it are ***.",
          "Insulting other residents. The point about cost is welcome without the insults.")
PLEDGES = [
    ("Plant 400 street trees", "volunteer@demo.pbvote.org", PledgeKind.TIME, 3, PledgeFrequency.WEEKLY,
     "Water and mulch the new trees on Mill Street and Ferry Lane."),
    ("Plant 400 street trees", "greta.lindqvist@demo.pbvote.org", PledgeKind.MATERIALS, None, None,
     "Forty watering bags left over from our school project."),
    ("Repair café network", "resident@demo.pbvote.org", PledgeKind.SKILLS, None, None,
     "I am an electrician: I can check repaired appliances for safety."),
    ("Riverside community garden", "olu.adeyemi@demo.pbvote.org", PledgeKind.SPACE, None, None,
     "Our church hall kitchen for the harvest lunch."),
    ("Riverside community garden", "maria.santos@demo.pbvote.org", PledgeKind.TIME, 4, PledgeFrequency.MONTHLY,
     "Run a seed-swap and planting morning."),
]
#: Comments any proposal may draw (text, days ago), picked per proposal by a seeded generator.
GENERAL_COMMENTS = [
    ("Great idea. Is there an estimate of the yearly upkeep?", 57),
    ("I would use this every week with my kids.", 52),
    ("Please think of people with pushchairs and wheelchairs when choosing the place.", 49),
    ("Could this be done together with the road works planned next year? It might save money.", 47),
    ("We tried something similar in my old neighbourhood; it worked well once it had lighting.", 44),
    ("How will the neighbours be consulted about the exact location?", 41),
]
#: Help any proposal may be offered: (kind, description).
GENERAL_PLEDGES = [
    (PledgeKind.SPACE, "Our shop's back room for the planning meetings."),
    (PledgeKind.SKILLS, "I am a graphic designer: I can make the signs and the leaflet."),
    (PledgeKind.MATERIALS, "Tools from our tenants' association shed, on loan."),
    (PledgeKind.SKILLS, "Translate the information board into Polish and Arabic."),
]
COAUTHORS = [
    ("Plant 400 street trees", "maria.santos@demo.pbvote.org", CoauthorStatus.ACCEPTED),
    ("Riverside community garden", "amina.diallo@demo.pbvote.org", CoauthorStatus.ACCEPTED),
    ("Music rehearsal room for teenagers", "resident@demo.pbvote.org", CoauthorStatus.INVITED),
]


def add_demo_participation(cycle: Cycle, now: datetime) -> None:
    """Add the demo's co-authors, supports, pledges, comments and a withdrawn proposal (no commit)."""
    users = {u.email: u for u in db.session.scalars(sa.select(User))}
    proposals = {p.title: p for p in db.session.scalars(sa.select(Proposal).where(Proposal.cycle_id == cycle.id))}
    moderator = users["moderator@demo.pbvote.org"]
    residents = sorted((u for u in users.values() if u.role.value in ("resident", "volunteer")), key=lambda u: u.email)

    for title, email, status in COAUTHORS:
        proposal = proposals[title]
        proposal.coauthors.append(Coauthor(user=users[email], status=status, invited_by_id=proposal.author_id,
                                           invited_at=now - timedelta(days=60),
                                           responded_at=None if status == CoauthorStatus.INVITED else now - timedelta(days=59)))
    for merged in (p for p in proposals.values() if p.status == ProposalStatus.MERGED):
        merged.merged_into.coauthors.append(Coauthor(user_id=merged.author_id, status=CoauthorStatus.ACCEPTED,
                                                     credited_from_id=merged.id, responded_at=now))

    # Supports: each public proposal draws its own popularity (seeded), so "most supported" has an
    # order to show; authors do not support their own proposal.  Counts match the rows.
    rng = random.Random("pbvote-demo-participation")
    public = [p for p in sorted(proposals.values(), key=lambda p: p.id) if p.status != ProposalStatus.DRAFT]
    shares = [0.1 + 0.9 * i / max(len(public) - 1, 1) for i in range(len(public))]
    rng.shuffle(shares)
    for proposal, share in zip(public, shares):
        others = [u for u in residents if u.id != proposal.author_id]
        chosen = sorted(rng.sample(others, max(1, round(share * len(others)))), key=lambda u: u.id)
        for user in chosen:
            db.session.add(Support(proposal_id=proposal.id, user_id=user.id, created_at=proposal.submitted_at))
        proposal.support_count = len(chosen)

    # A discussion of its own under each public proposal: none, a question, or a few voices.
    for proposal in public:
        count = rng.choice((0, 0, 1, 1, 2, 3))
        for n, (text, days) in enumerate(rng.sample(GENERAL_COMMENTS, count)):
            writer = rng.choice([u for u in residents if u.id != proposal.author_id])
            db.session.add(Comment(proposal_id=proposal.id, author_id=writer.id, body=text,
                                   created_at=now - timedelta(days=days, hours=n)))
    for proposal in rng.sample(public, min(4, len(public))):
        helper = rng.choice([u for u in residents if u.id != proposal.author_id])
        kind, text = rng.choice(GENERAL_PLEDGES)
        proposal.pledges.append(Pledge(user_id=helper.id, kind=kind, description=text,
                                       created_at=now - timedelta(days=rng.randint(40, 58))))

    for title, email, kind, hours, frequency, text in PLEDGES:
        proposals[title].pledges.append(Pledge(user_id=users[email].id, kind=kind, hours=hours, frequency=frequency,
                                               description=text, created_at=now - timedelta(days=50)))

    for offset, (title, email, text, reply) in enumerate(COMMENTS):
        proposal = proposals[title]
        written = now - timedelta(days=55 - offset)
        comment = Comment(proposal_id=proposal.id, author_id=users[email].id, body=text, created_at=written)
        db.session.add(comment)
        if reply:
            comment.replies.append(Comment(proposal_id=proposal.id, author_id=proposal.author_id, body=reply,
                                           by_proposal_author=True, created_at=written + timedelta(hours=3)))
    title, email, text, reason = HIDDEN
    hidden = Comment(proposal_id=proposals[title].id, author_id=users[email].id, body=text,
                     created_at=now - timedelta(days=54), flag_count=1, hidden_at=now - timedelta(days=53),
                     hidden_by_id=moderator.id, hidden_reason=reason)
    db.session.add(hidden)
    db.session.flush()
    db.session.add(CommentFlag(comment_id=hidden.id, user_id=users["resident@demo.pbvote.org"].id,
                               reason="Insulting"))

    withdrawn_author = users["li.chen@demo.pbvote.org"]
    db.session.add(Proposal(
        cycle=cycle, budget=proposals["Orchard on the old allotments"].budget, author=withdrawn_author,
        title="Petting zoo in Northfield Park",
        body="A small petting zoo with goats and rabbits. Withdrawn by its author: the orchard idea serves the "
             "same families for less money.",
        estimated_amount=60_000_00, status=ProposalStatus.WITHDRAWN,
        created_at=now - timedelta(days=66), submitted_at=now - timedelta(days=66),
    ))
    db.session.flush()
