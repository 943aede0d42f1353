"""The notification preferences form: a check box per kind and channel."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from pbvote.notifications.kinds import KINDS, NotificationKind

CHANNELS = ("in_app", "email")


def field_name(kind: NotificationKind, channel: str) -> str:
    return f"{kind.value}_{channel}"


class PreferencesForm(FlaskForm):
    """Fields ``<kind>_in_app`` and ``<kind>_email`` for every kind of :data:`KINDS` (added below)."""

    def channels(self, kind: NotificationKind) -> dict[str, bool]:
        return {channel: bool(self[field_name(kind, channel)].data) for channel in CHANNELS}

    def fields_of(self, kind: NotificationKind) -> list:
        return [self[field_name(kind, channel)] for channel in CHANNELS]


_CHANNEL_LABELS = {"in_app": _l("In the app"), "email": _l("By e-mail")}

for _kind in KINDS:
    for _channel in CHANNELS:
        setattr(PreferencesForm, field_name(_kind, _channel), BooleanField(_CHANNEL_LABELS[_channel]))
