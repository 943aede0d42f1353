"""Staff forms of the results domain."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional


class PublishForm(FlaskForm):
    """Publish a budget's result; a correction of a published one must give its reason."""

    reason = TextAreaField(
        _l("Reason for the correction"), validators=[Optional(), Length(max=2000)],
        description=_l("Only for a correction of a published result: shown publicly with the new version."),
    )
