"""Account forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from pbvote.auth.models import Role
from pbvote.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from pbvote.fields import BoundedIntegerField
from pbvote.forms import coerce_optional_int, options


def _birth_year_field() -> BoundedIntegerField:
    return BoundedIntegerField(
        _l("Year of birth (optional)"),
        validators=[Optional()],
        description=_l("Some budget cycles are open from a minimum age (counted by the year you were born). Only the year is kept."),
    )


def _new_password_field(label, description=None) -> PasswordField:
    """A new password, within the lengths the accounts domain accepts."""
    return PasswordField(
        label,
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description=description or _l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )


def _repeat_field(label, of: str) -> PasswordField:
    """The same password again (``of``: the field it must equal)."""
    return PasswordField(
        label, validators=[DataRequired(), EqualTo(of, message=_l("The two passwords do not match."))],
    )


class SignUpForm(FlaskForm):
    display_name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("Shown next to your proposals and comments."),
    )
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = _new_password_field(_l("Password"))
    confirm = _repeat_field(_l("Repeat the password"), "password")
    home_district = SelectField(
        _l("Home district"),
        coerce=coerce_optional_int,
        validators=[Optional()],
        description=_l("Decides which district budget you can vote in."),
    )
    birth_year = _birth_year_field()


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description=_l("The address you signed up with. We send a link to choose a new password there."),
    )


class ResetPasswordForm(FlaskForm):
    password = _new_password_field(_l("New password"))
    confirm = _repeat_field(_l("Repeat the new password"), "password")


class DetailsForm(FlaskForm):
    display_name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("Shown next to your proposals and comments."),
    )
    birth_year = _birth_year_field()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = _new_password_field(
        _l("New password"),
        _l("At least %(n)d characters. Your other sessions will be signed out.", n=MIN_PASSWORD_LENGTH),
    )
    confirm = _repeat_field(_l("Repeat the new password"), "new_password")


ROLE_LABELS = {
    Role.RESIDENT: _l("Resident"),
    Role.VOLUNTEER: _l("Volunteer"),
    Role.MODERATOR: _l("Moderator"),
    Role.REVIEWER: _l("Reviewer"),
    Role.STAFF: _l("Council staff"),
    Role.ADMIN: _l("Administrator"),
}


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=options((role.value, label) for role, label in ROLE_LABELS.items()))


class VerifyResidentForm(FlaskForm):
    district = SelectField(_l("Confirmed district"), coerce=coerce_optional_int, validators=[Optional()])

