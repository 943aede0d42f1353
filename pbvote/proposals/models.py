"""Proposals: what residents ask the council to fund, with their co-authors, supports, pledges of
help, images and discussion."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbvote.extensions import db, enum_column
from pbvote.proposals import search
from pbvote.timeutil import utcnow


class ProposalStatus(enum.Enum):
    DRAFT = "draft"  # being written; visible to its authors only
    SUBMITTED = "submitted"  # public, collecting supports, awaiting review
    FEASIBLE = "feasible"  # reviewed: goes on the ballot at its final cost
    UNFEASIBLE = "unfeasible"  # reviewed: cannot be done, with a public reason
    MERGED = "merged"  # combined into another proposal
    WITHDRAWN = "withdrawn"  # taken back by its author


#: Statuses the public can see.
PUBLIC_STATUSES = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.FEASIBLE,
    ProposalStatus.UNFEASIBLE,
    ProposalStatus.MERGED,
)


class Proposal(db.Model):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)

    title: Mapped[str] = mapped_column(sa.String(160))
    #: Markdown as written; rendered and sanitised on display.
    body: Mapped[str] = mapped_column(sa.Text)
    #: The author's estimate, in the currency's smallest unit.
    estimated_amount: Mapped[int] = mapped_column(sa.BigInteger)
    #: Set by review: the cost that goes on the ballot, with a public explanation if it differs.
    final_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    cost_explanation: Mapped[str | None] = mapped_column(sa.Text)

    address: Mapped[str | None] = mapped_column(sa.String(200))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)

    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus), default=ProposalStatus.DRAFT, index=True
    )
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    #: The words of the title and of the description as search sees them (:mod:`pbvote.proposals.search`),
    #: set from ``title`` and ``body`` whenever the ORM writes the row.
    search_title: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    search_body: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    #: Number of supports, kept in step by the support service so lists can sort by it cheaply.
    support_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)

    cycle: Mapped["Cycle"] = relationship()  # noqa: F821
    budget: Mapped["Budget"] = relationship()  # noqa: F821
    category: Mapped["Category | None"] = relationship()  # noqa: F821
    author: Mapped["User"] = relationship(foreign_keys=[author_id])  # noqa: F821
    reviewed_by: Mapped["User | None"] = relationship(foreign_keys=[reviewed_by_id])  # noqa: F821
    merged_into: Mapped[Proposal | None] = relationship(remote_side=[id])
    coauthors: Mapped[list[Coauthor]] = relationship(
        back_populates="proposal", foreign_keys="Coauthor.proposal_id", order_by="Coauthor.id",
        cascade="all, delete-orphan",
    )
    images: Mapped[list[ProposalImage]] = relationship(order_by="ProposalImage.id", cascade="all, delete-orphan")
    pledges: Mapped[list[Pledge]] = relationship(
        order_by="Pledge.id", foreign_keys="Pledge.proposal_id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("estimated_amount > 0", name="estimated_amount_positive"),
        sa.CheckConstraint("final_amount IS NULL OR final_amount > 0", name="final_amount_positive"),
        sa.CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        sa.Index("ix_proposals_budget_status", "budget_id", "status"),
        # The list pages filter by cycle and status and sort by date or supports.
        sa.Index("ix_proposals_cycle_created", "cycle_id", "created_at", "id"),
        sa.Index("ix_proposals_cycle_support", "cycle_id", "support_count", "id"),
        sa.CheckConstraint(
            "status != 'merged' OR merged_into_id IS NOT NULL", name="merged_has_target"
        ),
        sa.CheckConstraint("merged_into_id IS NULL OR merged_into_id != id", name="not_merged_into_itself"),
        sa.CheckConstraint(
            "status != 'unfeasible' OR review_reason IS NOT NULL", name="unfeasible_has_reason"
        ),
        sa.CheckConstraint("status != 'feasible' OR final_amount IS NOT NULL", name="feasible_has_final_amount"),
        sa.CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        sa.CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        # Full-text search on PostgreSQL (SQLite: the FTS5 table of pbvote.proposals.search).
        sa.Index(
            "ix_proposals_search",
            search.search_vector(search.document_text(search_title.column, search_body.column)),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    @property
    def ballot_amount(self) -> int:
        """The cost that counts on the ballot: the reviewed final cost, else the estimate."""
        return self.final_amount if self.final_amount is not None else self.estimated_amount

    def author_ids(self) -> set[int]:
        """The author and the co-authors who accepted: the people who may edit it."""
        ids = {self.author_id}
        ids.update(c.user_id for c in self.coauthors if c.status == CoauthorStatus.ACCEPTED)
        return ids

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.title!r}>"


class CoauthorStatus(enum.Enum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Coauthor(db.Model):
    """A resident invited to write a proposal with its author.  Accepted co-authors can edit it.

    ``credited_from_id`` is set when the row was added because a proposal this person wrote was
    merged into this one (authors of merged proposals are credited on the result).
    """

    __tablename__ = "coauthors"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[CoauthorStatus] = mapped_column(enum_column(CoauthorStatus), default=CoauthorStatus.INVITED)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    credited_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    proposal: Mapped[Proposal] = relationship(foreign_keys=[proposal_id], back_populates="coauthors")
    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    invited_by: Mapped["User | None"] = relationship(foreign_keys=[invited_by_id])  # noqa: F821

    __table_args__ = (sa.UniqueConstraint("proposal_id", "user_id"),)


class Support(db.Model):
    """One resident's support for a proposal during submission (at most one each: unique)."""

    __tablename__ = "supports"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    #: Set on supports carried over from a proposal merged into this one.
    carried_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))

    __table_args__ = (sa.UniqueConstraint("proposal_id", "user_id"),)


class PledgeKind(enum.Enum):
    TIME = "time"  # volunteer time: hours, how often, doing what
    SPACE = "space"  # in kind: a room, a yard, a garage ...
    MATERIALS = "materials"  # in kind: tools, plants, paint ...
    SKILLS = "skills"  # in kind: a professional skill given for free


class PledgeFrequency(enum.Enum):
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class Pledge(db.Model):
    """Help a resident offers to deliver a proposal; kept for implementation tracking."""

    __tablename__ = "pledges"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[PledgeKind] = mapped_column(enum_column(PledgeKind))
    hours: Mapped[int | None] = mapped_column(sa.Integer)
    frequency: Mapped[PledgeFrequency | None] = mapped_column(enum_column(PledgeFrequency))
    description: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    #: Set on pledges carried over from a proposal merged into this one.
    carried_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id", ondelete="SET NULL"))

    user: Mapped["User"] = relationship()  # noqa: F821

    __table_args__ = (
        sa.CheckConstraint(
            "kind != 'time' OR (hours IS NOT NULL AND hours > 0 AND frequency IS NOT NULL)",
            name="time_has_hours_and_frequency",
        ),
        sa.CheckConstraint("hours IS NULL OR hours > 0", name="hours_positive"),
    )


class ProposalImage(db.Model):
    """A picture of a proposal, stored under ``PBVOTE_UPLOAD_DIR`` with a random file name."""

    __tablename__ = "proposal_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    alt_text: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("size_bytes > 0", name="size_positive"),)


class Comment(db.Model):
    """A comment on a proposal.  Two levels: a top-level comment and replies to it."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    #: Markdown as written; rendered and sanitised on display.
    body: Mapped[str] = mapped_column(sa.Text)
    #: True when written by the proposal's author or a co-author (shown as "author").
    by_proposal_author: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    flag_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(500))

    author: Mapped["User"] = relationship(foreign_keys=[author_id])  # noqa: F821
    #: Read-only: the moderation queue names the proposal a reported comment belongs to.
    proposal: Mapped[Proposal] = relationship(viewonly=True)
    parent: Mapped[Comment | None] = relationship(remote_side=[id], back_populates="replies")
    replies: Mapped[list[Comment]] = relationship(back_populates="parent", order_by="Comment.id")

    __table_args__ = (
        sa.Index("ix_comments_proposal_created", "proposal_id", "created_at"),
        sa.CheckConstraint("flag_count >= 0", name="flag_count_not_negative"),
        sa.CheckConstraint("hidden_at IS NULL OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
    )

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class CommentFlag(db.Model):
    """A resident reporting a comment to the moderators (once per resident and comment)."""

    __tablename__ = "comment_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(sa.ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("comment_id", "user_id"),)


class ExclusiveGroup(db.Model):
    """Projects of one budget that cannot all be built: at most one of them is funded.

    Staff mark such groups (two plans for the same site) with a reason residents read ("Same site:
    Elm Park north lawn"); the tally rule ``greedy-exclusive`` skips the rest of a group once one of
    its projects is funded.  A group changes only until the budget's first ballot (it is part of
    what voters relied on); :mod:`pbvote.proposals.services.groups` holds the rules.
    """

    __tablename__ = "exclusive_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(sa.ForeignKey("budgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    budget: Mapped["Budget"] = relationship()  # noqa: F821
    members: Mapped[list[ExclusiveGroupMember]] = relationship(
        back_populates="group", order_by="ExclusiveGroupMember.proposal_id", cascade="all, delete-orphan",
    )

    __table_args__ = (sa.UniqueConstraint("budget_id", "name", name="uq_exclusive_groups_budget_name"),)

    def __repr__(self) -> str:
        return f"<ExclusiveGroup {self.id} {self.name!r}>"


class ExclusiveGroupMember(db.Model):
    """A proposal in a group of mutually exclusive projects: the proposal is the key, so a proposal
    belongs to at most one group (a database rule, not only a service's)."""

    __tablename__ = "exclusive_group_members"

    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("exclusive_groups.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    group: Mapped[ExclusiveGroup] = relationship(back_populates="members")
    proposal: Mapped[Proposal] = relationship()



def search_document():
    """What PostgreSQL's search index holds: the words of title and description."""
    return search.search_vector(search.document_text(Proposal.search_title, Proposal.search_body))


def title_document():
    """The words of the title alone (PostgreSQL), for ranking title matches first."""
    return search.search_vector(Proposal.search_title)


@event.listens_for(Proposal, "before_insert")
@event.listens_for(Proposal, "before_update")
def _set_search_words(mapper, connection, proposal: Proposal) -> None:
    proposal.search_title = search.normalise(proposal.title)
    proposal.search_body = search.normalise(proposal.body)


search.install_sqlite_ddl(Proposal.__table__)
