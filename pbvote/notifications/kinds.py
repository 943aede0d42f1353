"""The kinds of notification: a registry of what each says, how it is labelled on the preferences
page, and whether it is on by default in the app and by e-mail.

Adding a kind is one entry here, one e-mail template (``templates/notifications/email/<kind>.txt``)
and one member of :class:`NotificationKind` (a value of at most 32 characters; a migration widens
nothing, the column is a portable enum).  Nothing else branches on the kind.

Messages are stored as parameters (JSON) and rendered when shown, so each person reads them in the
language of the page; :class:`Params` makes a parameter that an old row lacks read as "…" instead of
failing the page.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class NotificationKind(enum.Enum):
    COAUTHOR_INVITED = "coauthor_invited"
    COMMENT_REPLY = "comment_reply"
    PROPOSAL_REVIEWED = "proposal_reviewed"
    VOTING_OPENED = "voting_opened"
    RESULTS_PUBLISHED = "results_published"


class Params(dict):
    """A notification's parameters for ``%`` formatting: a missing one reads as "…"."""

    def __missing__(self, key: str) -> str:
        return "…"


def _money(params: Mapping[str, Any]) -> str:
    from pbvote.templating import money  # shared helper; imported late (it loads Markdown and nh3)

    amount = params.get("final_amount")
    return money(amount, params.get("currency") or "EUR") if isinstance(amount, int) else "…"


@dataclass(frozen=True)
class KindSpec:
    """What one kind of notification says and how it is offered."""

    kind: NotificationKind
    #: The kind's name on the preferences page (lazy: translated when shown).
    label: Any
    #: One sentence under it on the preferences page.
    description: Any
    #: The defaults for someone who has not chosen.
    in_app: bool
    email: bool
    #: ``message(params)``: the in-app text, translated in the current language.
    message: Callable[[Params], str]
    #: ``email_subject(params)``: the e-mail's subject (without the site name), translated.
    email_subject: Callable[[Params], str]

    @property
    def email_template(self) -> str:
        return f"notifications/email/{self.kind.value}.txt"


_REVIEW_MESSAGES = {
    "feasible": _l("Your proposal “%(proposal)s” was reviewed: it is feasible, at a final cost of %(amount)s."),
    "unfeasible": _l("Your proposal “%(proposal)s” was reviewed: it cannot be done. The reason is on its page."),
    "merged": _l("Your proposal “%(proposal)s” was merged into “%(target)s”."),
}


def _review_message(params: Params) -> str:
    template = _REVIEW_MESSAGES.get(params.get("outcome"), _l("Your proposal “%(proposal)s” was reviewed."))
    return str(template) % Params(params, amount=_money(params))


KINDS: dict[NotificationKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            NotificationKind.COAUTHOR_INVITED,
            label=_l("Invitations to co-author a proposal"),
            description=_l("Someone asks you to write a proposal with them."),
            in_app=True, email=True,
            message=lambda p: _("%(actor)s invited you to co-author “%(proposal)s”.") % p,
            email_subject=lambda p: _("Invitation to co-author “%(proposal)s”") % p,
        ),
        KindSpec(
            NotificationKind.COMMENT_REPLY,
            label=_l("Replies to your comments"),
            description=_l("Someone answers a comment you wrote."),
            in_app=True, email=False,
            message=lambda p: _("%(actor)s replied to your comment on “%(proposal)s”.") % p,
            email_subject=lambda p: _("%(actor)s replied to your comment") % p,
        ),
        KindSpec(
            NotificationKind.PROPOSAL_REVIEWED,
            label=_l("Review of your proposals"),
            description=_l("A proposal you wrote or co-author is found feasible, not feasible, or merged."),
            in_app=True, email=True,
            message=_review_message,
            email_subject=lambda p: _("Your proposal “%(proposal)s” was reviewed") % p,
        ),
        KindSpec(
            NotificationKind.VOTING_OPENED,
            label=_l("Voting opens"),
            description=_l("Voting opens in a budget cycle you took part in."),
            in_app=True, email=True,
            message=lambda p: _("Voting has opened in “%(cycle)s”.") % p,
            email_subject=lambda p: _("Voting has opened in “%(cycle)s”") % p,
        ),
        KindSpec(
            NotificationKind.RESULTS_PUBLISHED,
            label=_l("Results are published"),
            description=_l("The results of a budget cycle you took part in are published."),
            in_app=True, email=True,
            message=lambda p: _("The results of “%(cycle)s” are published.") % p,
            email_subject=lambda p: _("The results of “%(cycle)s” are published") % p,
        ),
    )
}


def spec_for(kind: NotificationKind | str) -> KindSpec:
    return KINDS[NotificationKind(kind)]


def render_message(kind: NotificationKind | str, params: Mapping[str, Any] | None) -> str:
    """The text of a notification in the current language."""
    return spec_for(kind).message(Params(params or {}))
