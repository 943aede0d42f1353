"""Proposal use cases, split by concern; this package's namespace gathers the public ones.

* :mod:`~pbvote.proposals.services.access` — who may see and change a proposal, and when;
* :mod:`~pbvote.proposals.services.drafting` — writing, submitting and withdrawing a proposal;
* :mod:`~pbvote.proposals.services.coauthors` — inviting co-authors, their answers;
* :mod:`~pbvote.proposals.services.supports` — supports (and the review threshold) and pledges;
* :mod:`~pbvote.proposals.services.images` — pictures, their files written and deleted after the commit;
* :mod:`~pbvote.proposals.services.discussion` — comments, flags and moderation;
* :mod:`~pbvote.proposals.services.review` — feasibility review: feasible, unfeasible, merged;
* :mod:`~pbvote.proposals.services.groups` — groups of mutually exclusive projects (staff; the count);
* :mod:`~pbvote.proposals.services.queries` — the proposal list, a ballot's projects, a cycle's overview.

Like every service module: they take models and plain values, enforce the rules, raise
:mod:`pbvote.errors`, write the audit log and flush; the request commits once
(:mod:`pbvote.unit_of_work`).
"""
from __future__ import annotations

from pbvote.proposals.services.access import EDITABLE_STATUSES, can_edit, can_view, is_author
from pbvote.proposals.services.coauthors import (
    invite_coauthor,
    pending_invitations,
    proposals_of,
    respond_to_invitation,
)
from pbvote.proposals.services.discussion import (
    COMMENT_EDIT_WINDOW,
    add_comment,
    can_edit_comment,
    comment_threads,
    edit_comment,
    flag_comment,
    flagged_comments,
    moderate_comment,
)
from pbvote.proposals.services.drafting import (
    PROPOSAL_FIELDS,
    check_budget_removable,
    count_own_proposals,
    create_proposal,
    submit_proposal,
    update_proposal,
    withdraw_proposal,
)
from pbvote.proposals.services.groups import (
    Exclusion,
    add_to_group,
    budget_groups,
    check_rule_keeps_groups,
    create_group,
    delete_group,
    exclusion_of,
    exclusions,
    group_candidates,
    group_name_of,
    group_warnings,
    remove_from_group,
    rename_group,
    rule_honours_groups,
    tally_groups,
)
from pbvote.proposals.services.images import (
    DEFAULT_MAX_IMAGE_BYTES,
    IMAGE_TYPES,
    MAX_IMAGES_PER_PROPOSAL,
    add_image,
    image_path,
    remove_image,
    sniff_image_type,
    upload_dir,
)
from pbvote.proposals.services.queries import (
    CycleOverview,
    ProposalQuery,
    RANDOM_PRIME,
    SORTS,
    ballot_proposals,
    cycle_overview,
    most_supported,
    new_random_seed,
    search_statement,
)
from pbvote.proposals.services.review import (
    awaiting_review_counts,
    merge_targets,
    merged_into,
    REVIEWABLE_STATUSES,
    mark_feasible,
    mark_unfeasible,
    merge_proposal,
    review_queue,
)
from pbvote.proposals.services.supports import (
    PLEDGEABLE_STATUSES,
    add_pledge,
    has_supported,
    qualifies_for_review,
    remove_pledge,
    support_proposal,
    withdraw_support,
)

__all__ = [
    "Exclusion",
    "add_to_group",
    "budget_groups",
    "check_rule_keeps_groups",
    "create_group",
    "delete_group",
    "exclusion_of",
    "exclusions",
    "group_candidates",
    "group_name_of",
    "group_warnings",
    "remove_from_group",
    "rename_group",
    "rule_honours_groups",
    "tally_groups",
    "COMMENT_EDIT_WINDOW",
    "CycleOverview",
    "DEFAULT_MAX_IMAGE_BYTES",
    "EDITABLE_STATUSES",
    "IMAGE_TYPES",
    "MAX_IMAGES_PER_PROPOSAL",
    "PLEDGEABLE_STATUSES",
    "PROPOSAL_FIELDS",
    "ProposalQuery",
    "RANDOM_PRIME",
    "REVIEWABLE_STATUSES",
    "SORTS",
    "add_comment",
    "add_image",
    "add_pledge",
    "ballot_proposals",
    "can_edit",
    "can_edit_comment",
    "can_view",
    "check_budget_removable",
    "comment_threads",
    "count_own_proposals",
    "create_proposal",
    "cycle_overview",
    "edit_comment",
    "flag_comment",
    "flagged_comments",
    "has_supported",
    "image_path",
    "invite_coauthor",
    "is_author",
    "mark_feasible",
    "mark_unfeasible",
    "merge_proposal",
    "moderate_comment",
    "most_supported",
    "new_random_seed",
    "pending_invitations",
    "proposals_of",
    "qualifies_for_review",
    "remove_image",
    "remove_pledge",
    "respond_to_invitation",
    "review_queue",
    "awaiting_review_counts",
    "merge_targets",
    "merged_into",
    "search_statement",
    "sniff_image_type",
    "submit_proposal",
    "support_proposal",
    "update_proposal",
    "upload_dir",
    "withdraw_proposal",
    "withdraw_support",
]
