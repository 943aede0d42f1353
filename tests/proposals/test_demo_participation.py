"""The demo city shows every proposal status, co-authors, pledges, supports and moderated discussion."""
import sqlalchemy as sa

from pbvote.demo import load_demo
from pbvote.extensions import db
from pbvote.proposals.models import Coauthor, Comment, Pledge, Proposal, ProposalStatus, Support


def test_demo_has_every_status_and_consistent_supports(app):
    assert load_demo()
    statuses = set(db.session.scalars(sa.select(Proposal.status)))
    assert statuses == set(ProposalStatus)
    for proposal in db.session.scalars(sa.select(Proposal)):
        rows = db.session.scalar(sa.select(sa.func.count()).where(Support.proposal_id == proposal.id))
        assert proposal.support_count == rows, proposal.title
    assert db.session.scalar(sa.select(sa.func.count()).where(Comment.hidden_at.is_not(None))) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Comment.by_proposal_author.is_(True))) >= 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Pledge)) >= 4
    assert db.session.scalar(sa.select(sa.func.count()).where(Coauthor.credited_from_id.is_not(None))) == 1


def test_demo_supports_comments_and_pledges_vary_between_proposals(app):
    assert load_demo()
    public = [p for p in db.session.scalars(sa.select(Proposal)) if p.status != ProposalStatus.DRAFT]
    assert len({p.support_count for p in public}) >= 5  # "most supported" has an order to show
    comments = [db.session.scalar(sa.select(sa.func.count()).where(Comment.proposal_id == p.id)) for p in public]
    pledges = [db.session.scalar(sa.select(sa.func.count()).where(Pledge.proposal_id == p.id)) for p in public]
    assert len(set(comments)) >= 3 and len(set(pledges)) >= 2
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(Support).join(Proposal, Proposal.id == Support.proposal_id)
        .where(Support.user_id == Proposal.author_id)
    )
