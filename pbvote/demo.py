"""The demo city of Greenhill: a budget cycle a newcomer can click through.

Deterministic: the same accounts, budgets and proposals every time (phase dates are set relative to
the moment of loading, so the demo is always in its voting phase).  Later features extend this
module so that the demo always shows everything pbvote does.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from pbvote import audit
from pbvote.auth.models import Role, User
from pbvote.cycles.models import (
    BallotType,
    Budget,
    Category,
    Cycle,
    DistrictEligibility,
    Phase,
    PhaseKind,
)
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.proposals.models import Proposal, ProposalStatus
from pbvote.proposals.services import add_to_group, create_group
from pbvote.results.implementation.demo import add_demo_implementation
from pbvote.results.importer import import_pabulib
from pbvote.results.publication import publish_result
from pbvote.timeutil import utcnow

DEMO_CYCLE_SLUG = "greenhill-2027"
DEMO_PASSWORD = "pbvote-demo"

#: (e-mail, display name, role, home district slug or None)
DEMO_ACCOUNTS = [
    ("admin@demo.pbvote.org", "Alex Admin", Role.ADMIN, None),
    ("staff@demo.pbvote.org", "Sam Staff", Role.STAFF, None),
    ("reviewer@demo.pbvote.org", "Rita Reviewer", Role.REVIEWER, None),
    ("moderator@demo.pbvote.org", "Mo Moderator", Role.MODERATOR, None),
    ("volunteer@demo.pbvote.org", "Val Volunteer", Role.VOLUNTEER, "old-town"),
    ("volunteer2@demo.pbvote.org", "Vic Volunteer", Role.VOLUNTEER, "riverside"),
    ("resident@demo.pbvote.org", "Robin Resident", Role.RESIDENT, "riverside"),
]

#: Residents who wrote the demo proposals.
DEMO_AUTHORS = [
    ("amina.diallo@demo.pbvote.org", "Amina Diallo", "riverside"),
    ("jonas.weber@demo.pbvote.org", "Jonas Weber", "old-town"),
    ("li.chen@demo.pbvote.org", "Li Chen", "northfield"),
    ("maria.santos@demo.pbvote.org", "Maria Santos", "riverside"),
    ("tomasz.nowak@demo.pbvote.org", "Tomasz Nowak", "northfield"),
    ("fatima.elamrani@demo.pbvote.org", "Fatima El Amrani", "old-town"),
    ("olu.adeyemi@demo.pbvote.org", "Olu Adeyemi", "riverside"),
    ("greta.lindqvist@demo.pbvote.org", "Greta Lindqvist", "old-town"),
]

DISTRICTS = [("riverside", "Riverside"), ("old-town", "Old Town"), ("northfield", "Northfield")]
CATEGORIES = ["Green spaces", "Mobility", "Youth and culture", "Community", "Safety", "Sport and play"]

# (budget key, category, title, estimated euros, author index, description)
PROPOSALS = [
    ("city", "Mobility", "Protected cycle lane along Station Road", 180_000, 1,
     "A 1.2 km two-way cycle lane separated from traffic by planters, linking the station with the "
     "Northfield schools. **Why:** 40% of pupils live within 3 km but few cycle because the road feels unsafe."),
    ("city", "Green spaces", "Plant 400 street trees", 120_000, 0,
     "Shade and cooler streets: 400 native trees on the streets with the fewest trees today, chosen with "
     "the council's tree map. Neighbours can adopt a tree and water it in the first summers."),
    ("city", "Community", "Free public Wi-Fi in the three libraries", 45_000, 2,
     "Fast, free Wi-Fi and 20 loan laptops so that anyone can do homework, apply for jobs and use council services."),
    ("city", "Youth and culture", "Summer open-air cinema", 38_000, 5,
     "Eight free film nights in the parks each summer, films chosen by a youth jury, with captions and an accessible area."),
    ("city", "Safety", "Better lighting on riverside footpaths", 95_000, 3,
     "Warm, low-glare LED lighting on the 2.5 km riverside path so that people can walk home safely after dark."),
    ("city", "Community", "Repair café network", 25_000, 7,
     "Tools, a van and training for volunteer repairers in each district, once a month, to fix bikes, clothes and electronics."),
    ("city", "Sport and play", "Outdoor gyms in four parks", 88_000, 4,
     "Weather-proof fitness stations for all ages, including equipment usable from a wheelchair."),
    ("city", "Mobility", "Benches and shade at 30 bus stops", 60_000, 6,
     "Many older residents cannot wait standing. A bench and a roof at the 30 busiest stops without one."),
    ("city", "Green spaces", "Community compost hubs", 30_000, 0,
     "Ten lockable compost bins run by neighbours; the compost goes to community gardens."),
    ("city", "Youth and culture", "Street art walls for young artists", 18_000, 5,
     "Four legal walls for graffiti and murals, with yearly workshops led by local artists."),
    ("riverside", "Green spaces", "Riverside community garden", 42_000, 3,
     "Raised beds, a water point and a tool shed on the unused plot behind Mill Street, open to every neighbour."),
    ("riverside", "Sport and play", "Renovate the Mill Street playground", 65_000, 6,
     "New safe surfacing, an inclusive swing and a climbing frame for 6–12 year olds."),
    ("riverside", "Safety", "Zebra crossing at Ferry Lane school", 28_000, 0,
     "A raised crossing with flashing beacons at the school gate, where parents report near misses every week."),
    ("riverside", "Community", "Pop-up youth café", 35_000, 3,
     "A weekly evening café for 13–18 year olds in the boathouse, run with the youth service."),
    ("riverside", "Mobility", "Secure bike shelters for flats", 24_000, 6,
     "Six lockable shelters for 10 bikes each next to the blocks of flats on River Terrace."),
    ("riverside", "Green spaces", "Wildflower meadows on verges", 12_000, 0,
     "Sow native wildflowers on 3,000 m² of mown verges for bees and butterflies, mowed twice a year."),
    ("riverside", "Youth and culture", "Library storytelling corner", 9_500, 3,
     "Cushions, shelves and a small stage for weekly story hours in several languages."),
    ("old-town", "Green spaces", "Green the market square", 70_000, 1,
     "Large planters with trees and benches to turn the car park half of the square into a place to meet."),
    ("old-town", "Community", "Accessible public toilet on Market Square", 55_000, 7,
     "A clean, accessible toilet with baby change, open 7:00–22:00."),
    ("old-town", "Youth and culture", "Restore the bandstand for concerts", 48_000, 5,
     "Repair the roof and wiring of the 1910 bandstand and host free Sunday concerts by local groups."),
    ("old-town", "Mobility", "Dropped kerbs for wheelchairs and buggies", 22_000, 7,
     "Lower the kerbs at 25 crossings in the old streets so everyone can get around."),
    ("old-town", "Safety", "Traffic calming on Church Lane", 38_000, 1,
     "Two chicanes and a 20 mph zone on the rat-run past the primary school."),
    ("old-town", "Community", "Drinking fountains in the old town", 16_000, 5,
     "Three refill fountains so people can fill bottles instead of buying plastic ones."),
    ("old-town", "Sport and play", "Table tennis tables in Abbey Park", 8_000, 7,
     "Two concrete tables with nets, free to use all year."),
    ("northfield", "Sport and play", "Multi-sport court at Northfield Green", 78_000, 4,
     "Fenced court for football, basketball and volleyball with night lighting until 21:00."),
    ("northfield", "Green spaces", "Orchard on the old allotments", 19_000, 2,
     "Forty fruit trees on the abandoned allotment site; harvest shared at an autumn festival."),
    ("northfield", "Community", "Northfield community hall kitchen", 33_000, 4,
     "A fitted kitchen so that groups can run lunch clubs and cooking classes in the hall."),
    ("northfield", "Mobility", "Footpath to Northfield station", 45_000, 2,
     "A lit, paved 600 m footpath across the field that people already walk on in the mud."),
    ("northfield", "Youth and culture", "Music rehearsal room for teenagers", 27_000, 4,
     "Sound-proofing and equipment in the youth centre basement, bookable for free."),
    ("northfield", "Safety", "Speed display signs on Moor Road", 9_000, 2,
     "Four solar speed signs that show drivers how fast they are going."),
]

#: Demo proposals that review found not feasible (title → public reason) or merged (title → target).
UNFEASIBLE = {
    "Green the market square": "The square is above a listed medieval cellar: trees of this size cannot be planted "
    "there. A smaller design with movable planters could be proposed next year.",
}
MERGED = {"Benches and shade at 30 bus stops": "Dropped kerbs for wheelchairs and buggies"}
COST_CHANGES = {
    "Protected cycle lane along Station Road": (
        210_000,
        "The road drainage has to be moved at two junctions; the council's engineers added €30,000.",
    ),
    "Outdoor gyms in four parks": (80_000, "A framework contract makes the equipment cheaper than estimated."),
}
#: Where the demo proposals that have one place are (title → address, latitude, longitude), so that the
#: maps of proposals have something to show.  Greenhill is invented: its places are laid over the map
#: of a real riverside town (Reading, England), whose street names are not Greenhill's.  Proposals
#: spread over many places (400 trees, three libraries, 30 bus stops ...) have none, as in life.
PLACES = {
    "Protected cycle lane along Station Road": ("Station Road, from the station to the Northfield schools", 51.4586, -0.9718),
    "Better lighting on riverside footpaths": ("Riverside path, between the two bridges", 51.4627, -0.9665),
    "Riverside community garden": ("Mill Street playground, the unused back half", 51.4605, -0.9591),
    "Renovate the Mill Street playground": ("Mill Street playground", 51.4603, -0.9588),
    "Zebra crossing at Ferry Lane school": ("Ferry Lane, at the primary school gate", 51.4638, -0.9551),
    "Pop-up youth café": ("The boathouse, River Walk", 51.4649, -0.9627),
    "Secure bike shelters for flats": ("River Terrace flats", 51.4622, -0.9531),
    "Library storytelling corner": ("Riverside library, 2 Quay Street", 51.4598, -0.9647),
    "Green the market square": ("Market Square, car park half", 51.4551, -0.9712),
    "Accessible public toilet on Market Square": ("Market Square, north side", 51.4556, -0.9705),
    "Restore the bandstand for concerts": ("Abbey Park bandstand", 51.4563, -0.9647),
    "Traffic calming on Church Lane": ("Church Lane, by St Mary's primary school", 51.4532, -0.9731),
    "Table tennis tables in Abbey Park": ("Abbey Park, by the playground", 51.4570, -0.9659),
    "Multi-sport court at Northfield Green": ("Northfield Green", 51.4765, -0.9788),
    "Orchard on the old allotments": ("Old allotments off Moor Road", 51.4791, -0.9742),
    "Northfield community hall kitchen": ("Northfield community hall, 12 Green Lane", 51.4752, -0.9770),
    "Footpath to Northfield station": ("Across the field from Green Lane to Northfield station", 51.4738, -0.9829),
    "Music rehearsal room for teenagers": ("Northfield youth centre, basement", 51.4744, -0.9755),
}
#: Demo proposals still waiting for review, and still being written.
SUBMITTED_ONLY = {"Music rehearsal room for teenagers"}
DRAFTS = {"Table tennis tables in Abbey Park"}


#: Last year's cycle: voting closed, results out, projects being delivered.
PAST_CYCLE_SLUG = "greenhill-2026"
PAST_PROPOSALS = [
    # (budget key, category, title, euros, author index, description)
    ("city", "Green spaces", "Rain gardens on Market Street", 85_000, 0,
     "Planted kerb-side basins that soak up storm water and stop the street flooding after heavy rain."),
    ("city", "Mobility", "Bike repair stations at five schools", 22_000, 4,
     "A pump and tools fixed to a stand at each secondary school, with repair workshops run by pupils."),
    ("city", "Community", "Warm spaces in winter", 48_000, 7,
     "Heating, hot drinks and volunteers so that three community centres open as warm spaces on winter evenings."),
    ("city", "Youth and culture", "Youth film festival", 30_000, 5,
     "A weekend festival of films made by Greenhill's teenagers, with equipment they can borrow all year."),
    ("city", "Sport and play", "Outdoor swimming lessons for every child", 70_000, 6,
     "Free swimming lessons in the lido for every 8-year-old, with transport from the schools."),
    ("city", "Safety", "Defibrillators in 20 public places", 36_000, 2,
     "Life-saving defibrillators in cabinets anyone can open, and free first-aid courses to use them."),
    ("old-town", "Green spaces", "Green roof on the bus shelter row", 40_000, 1,
     "Sedum roofs on the twelve shelters of the old-town bus row: cooler waits and food for bees."),
    ("old-town", "Community", "Old Town noticeboards, digital and paper", 15_000, 7,
     "Weather-proof noticeboards with a paper side and a screen for events, run by the residents' association."),
    ("old-town", "Mobility", "Cobblestone path for wheelchairs", 55_000, 5,
     "A smooth strip along the cobbled main street so wheelchairs and buggies can pass."),
    ("old-town", "Youth and culture", "Street piano on Abbey Square", 6_000, 1,
     "A weather-proofed piano anyone can play, tuned twice a year by the music school."),
]


def _load_past_cycle(now: datetime, districts: dict, authors: list[User], reviewer: User) -> Cycle:
    """Greenhill 2026: a cycle whose voting closed months ago, counted and being implemented."""
    day = timedelta(days=1)
    cycle = Cycle(
        slug=PAST_CYCLE_SLUG,
        name="Greenhill Participatory Budget 2026",
        description=(
            "Last year's cycle: residents chose how to spend **€300,000**. Voting has closed; the projects "
            "are being delivered with the help residents pledged."
        ),
        currency="EUR",
        is_published=True,
        support_threshold=3,
        allow_vote_change=True,
        district_eligibility=DistrictEligibility.HOME_DISTRICT,
        created_at=now - 420 * day,
    )
    db.session.add(cycle)
    cycle.phases = [
        Phase(kind=PhaseKind.SUBMISSION, starts_at=now - 400 * day, ends_at=now - 370 * day),
        Phase(kind=PhaseKind.REVIEW, starts_at=now - 370 * day, ends_at=now - 340 * day),
        Phase(kind=PhaseKind.VOTING, starts_at=now - 330 * day, ends_at=now - 300 * day),
        Phase(kind=PhaseKind.RESULTS, starts_at=now - 300 * day, ends_at=now - 270 * day),
        Phase(kind=PhaseKind.IMPLEMENTATION, starts_at=now - 270 * day, ends_at=now + 95 * day),
    ]
    categories = {name: Category(name=name) for name in CATEGORIES}
    cycle.categories = list(categories.values())
    budgets = {
        "city": Budget(name="City-wide", position=0, total_amount=200_000_00, ballot_type=BallotType.APPROVAL,
                       min_choices=1, max_choices=3, tally_rule="mes",
                       tally_params={"utility": "cost", "completion": "add1+greedy", "tie_break": "equalshares"}),
        "old-town": Budget(name="Old Town", district=districts["old-town"], position=1, total_amount=100_000_00,
                           ballot_type=BallotType.APPROVAL, min_choices=1, max_choices=2, tally_rule="greedy",
                           tally_params={"tie_break": "equalshares"}),
    }
    cycle.budgets = list(budgets.values())
    db.session.flush()
    for index, (budget_key, category, title, euros, author_index, body) in enumerate(PAST_PROPOSALS):
        created = now - (398 - index) * day
        db.session.add(Proposal(
            cycle=cycle, budget=budgets[budget_key], category=categories[category], author=authors[author_index],
            title=title, body=body, estimated_amount=euros * 100, final_amount=euros * 100,
            status=ProposalStatus.FEASIBLE, created_at=created,
            submitted_at=created + timedelta(hours=1), updated_at=created + timedelta(hours=1),
            reviewed_at=now - 345 * day, reviewed_by=reviewer,
        ))
    db.session.flush()
    return cycle


#: The real election the demo imports as a past cycle, from the shared pabulib files when present
#: (``PBVOTE_PABULIB_DIR``, else ``../shared/pabulib`` beside the source tree).
DEMO_PABULIB_FILE = "Netherlands_Assen_2024.pb"


def _publish_past_results(past: Cycle, now: datetime) -> None:
    """Last year's results, published: every budget that received ballots."""
    for budget in past.budgets:
        if budget.is_frozen:
            publish_result(budget, note=None, now=now - 299 * timedelta(days=1))


def _import_real_election(now: datetime) -> None:
    """A real city's election (pabulib) as a past cycle with its published result, if the file is here."""
    folder = Path(os.environ.get("PBVOTE_PABULIB_DIR") or Path(__file__).resolve().parent.parent.parent / "shared" / "pabulib")
    path = folder / DEMO_PABULIB_FILE
    if path.is_file():
        import_pabulib(path, now=now)


def demo_loaded() -> bool:
    return db.session.scalar(sa.select(Cycle.id).where(Cycle.slug == DEMO_CYCLE_SLUG)) is not None


def _user(email: str, name: str, role: Role, district: District | None, password_hash: str, now: datetime) -> User:
    user = User(
        email=email,
        display_name=name,
        role=role,
        home_district=district,
        password_hash=password_hash,
        verified_at=now if district is not None else None,
        email_confirmed_at=now,
        birth_year=1960 + sum(map(ord, email)) % 45,  # adults of every age: the demo cycle has a minimum age
    )
    db.session.add(user)
    return user


def _add_demo_group(staff: User, budget: Budget, by_title: dict[str, Proposal]) -> None:
    """Two proposals that cannot both be built (the same site), set before the first ballot froze them."""
    group = create_group(staff, budget, "Same site: the back half of the Mill Street playground")
    for title in ("Riverside community garden", "Renovate the Mill Street playground"):
        add_to_group(staff, group, by_title[title])


def load_demo(now: datetime | None = None) -> bool:
    """Load the demo city and commit.  Returns False (and changes nothing) if it is already there."""
    from pbvote.ballots.demo import add_demo_ballots, add_past_ballots
    from pbvote.ballots.paper.demo import add_demo_paper
    from pbvote.proposals.demo import add_demo_participation

    if demo_loaded():
        return False
    now = (now or utcnow()).replace(microsecond=0)
    districts = {slug: District(slug=slug, name=name) for slug, name in DISTRICTS}
    existing = {d.slug: d for d in db.session.scalars(sa.select(District))}
    for slug, district in list(districts.items()):
        if slug in existing:
            districts[slug] = existing[slug]
        else:
            db.session.add(district)

    probe = User()
    probe.set_password(DEMO_PASSWORD)  # one scrypt hash shared by all demo accounts
    users: dict[str, User] = {}
    for email, name, role, district_slug in DEMO_ACCOUNTS:
        users[email] = _user(email, name, role, districts.get(district_slug), probe.password_hash, now)
    authors = [
        _user(email, name, Role.RESIDENT, districts[slug], probe.password_hash, now) for email, name, slug in DEMO_AUTHORS
    ]

    day = timedelta(days=1)
    cycle = Cycle(
        slug=DEMO_CYCLE_SLUG,
        name="Greenhill Participatory Budget 2027",
        description=(
            "Greenhill sets aside **€1,000,000** of its 2027 budget for projects proposed and chosen by residents: "
            "€500,000 for the whole city and a budget for each of its three districts.\n\n"
            "Anyone who lives in Greenhill and is 14 or older can vote: in the city-wide budget and in the budget "
            "of their home district. Residents can also pledge time or resources to help deliver the winning projects."
        ),
        currency="EUR",
        is_published=True,
        max_proposals_per_resident=3,
        support_threshold=5,
        allow_vote_change=True,
        district_eligibility=DistrictEligibility.HOME_DISTRICT,
        minimum_age=14,
        verified_only=False,
        access_codes_enabled=True,
        created_at=now - 90 * day,
    )
    db.session.add(cycle)
    cycle.phases = [
        Phase(kind=PhaseKind.SUBMISSION, starts_at=now - 70 * day, ends_at=now - 40 * day),
        Phase(kind=PhaseKind.REVIEW, starts_at=now - 40 * day, ends_at=now - 10 * day),
        Phase(kind=PhaseKind.VOTING, starts_at=now - 10 * day, ends_at=now + 14 * day),
        Phase(kind=PhaseKind.RESULTS, starts_at=now + 14 * day, ends_at=now + 30 * day),
        Phase(kind=PhaseKind.IMPLEMENTATION, starts_at=now + 30 * day, ends_at=now + 400 * day),
    ]
    categories = {name: Category(name=name) for name in CATEGORIES}
    cycle.categories = list(categories.values())
    budgets = {
        "city": Budget(
            name="City-wide",
            position=0,
            total_amount=500_000_00,
            ballot_type=BallotType.KNAPSACK,
            min_choices=1,
            max_choices=None,
            min_spend_percent=0,
            tally_rule="mes",
            tally_params={"utility": "cost", "completion": "add1+greedy", "tie_break": "equalshares"},
        )
    }
    amounts = {"riverside": 180_000_00, "old-town": 170_000_00, "northfield": 150_000_00}
    for position, (slug, name) in enumerate(DISTRICTS, start=1):
        budgets[slug] = Budget(
            name=name,
            district=districts[slug],
            position=position,
            total_amount=amounts[slug],
            ballot_type=BallotType.APPROVAL,
            min_choices=1,
            max_choices=4,
            # Riverside has two plans for the same plot on Mill Street: greedy, skipping a project that
            # cannot be built together with one already funded
            tally_rule="greedy-exclusive" if slug == "riverside" else "greedy",
            tally_params={"tie_break": "equalshares"},
        )
    cycle.budgets = list(budgets.values())
    db.session.flush()

    by_title: dict[str, Proposal] = {}
    reviewer = users["reviewer@demo.pbvote.org"]
    for index, (budget_key, category, title, euros, author_index, body) in enumerate(PROPOSALS):
        created = now - (68 - index) * day
        proposal = Proposal(
            cycle=cycle,
            budget=budgets[budget_key],
            category=categories[category],
            author=authors[author_index],
            title=title,
            body=body,
            estimated_amount=euros * 100,
            status=ProposalStatus.FEASIBLE,
            support_count=(index * 7) % 23 + 3,
            created_at=created,
            submitted_at=created + timedelta(hours=2),
            updated_at=created + timedelta(hours=2),
        )
        if title in PLACES:
            proposal.address, proposal.latitude, proposal.longitude = PLACES[title]
        if title in DRAFTS:
            proposal.status = ProposalStatus.DRAFT
            proposal.submitted_at = None
            proposal.support_count = 0
        elif title in SUBMITTED_ONLY:
            proposal.status = ProposalStatus.SUBMITTED
        elif title in UNFEASIBLE:
            proposal.status = ProposalStatus.UNFEASIBLE
            proposal.review_reason = UNFEASIBLE[title]
        if proposal.status in (ProposalStatus.FEASIBLE, ProposalStatus.UNFEASIBLE):
            proposal.reviewed_at = now - 20 * day
            proposal.reviewed_by = reviewer
            if proposal.status == ProposalStatus.FEASIBLE:
                final, explanation = COST_CHANGES.get(title, (euros, None))
                proposal.final_amount = final * 100
                proposal.cost_explanation = explanation
        db.session.add(proposal)
        by_title[title] = proposal
    db.session.flush()
    for title, target in MERGED.items():
        proposal = by_title[title]
        proposal.status = ProposalStatus.MERGED
        proposal.final_amount = None
        proposal.merged_into = by_title[target]
        proposal.review_reason = f"Combined with “{target}”: both improve the same streets for people with reduced mobility."
    _add_demo_group(users["staff@demo.pbvote.org"], budgets["riverside"], by_title)
    add_demo_participation(cycle, now)
    add_demo_ballots(cycle, now)
    past = _load_past_cycle(now, districts, authors, reviewer)
    add_past_ballots(past, "old-town", 240)
    add_demo_paper(cycle, past, now)
    _publish_past_results(past, now)
    add_demo_implementation(past, now)
    _import_real_election(now)
    audit.record("demo.loaded", subject=cycle)
    db.session.commit()
    return True


def print_demo_sign_ins(echo: Callable[[str], None]) -> None:
    """Print the demo accounts (all share the password :data:`DEMO_PASSWORD`) and the demo access
    codes still unused — only when the demo city is loaded; otherwise say how to load it."""
    if not demo_loaded():
        echo("")
        echo("The demo city is not loaded (no demo sign-ins or access codes). To add it: pbvote demo")
        return
    echo("")
    echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for email, _name, role, _district in DEMO_ACCOUNTS:
        echo(f"  {role.value:<10} {email}")
    from pbvote.ballots.demo import print_demo_codes
    from pbvote.ballots.paper.demo import print_demo_serials

    print_demo_codes(echo)
    print_demo_serials(echo)
