"""Import every model so that ``db.metadata`` knows the whole schema (used by Alembic and tests)."""
from pbvote.audit import AuditEntry  # noqa: F401
from pbvote.auth.models import User  # noqa: F401
from pbvote.ballots import models as _ballot_models  # noqa: F401
from pbvote.ballots.paper import models as _paper_models  # noqa: F401
from pbvote.cycles.models import Budget, Category, Cycle, Phase  # noqa: F401
from pbvote.notifications.models import Announcement, Notification, NotificationPreference, OutboxEmail  # noqa: F401
from pbvote.places.models import District  # noqa: F401
from pbvote.proposals.models import (  # noqa: F401
    Coauthor, Comment, CommentFlag, ExclusiveGroup, ExclusiveGroupMember, Pledge, Proposal, ProposalImage, Support,
)
from pbvote.results.models import Publication, PublishedProject  # noqa: F401
from pbvote.results.implementation.models import (  # noqa: F401
    Implementation, ImplementationPhoto, Milestone, PledgeFulfilment,
)
