"""Accounts and roles."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from pbvote.extensions import db, enum_column
from pbvote.places.models import District
from pbvote.timeutil import utcnow


class Role(enum.Enum):
    """What an account may do.  Each role includes the abilities listed in :data:`ROLE_GRANTS`."""

    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    MODERATOR = "moderator"
    REVIEWER = "reviewer"
    STAFF = "staff"
    ADMIN = "admin"


#: The abilities each role holds.  Staff can do what volunteers, moderators and reviewers do;
#: admins can do everything, including granting roles.
ROLE_GRANTS: dict[Role, frozenset[Role]] = {
    Role.RESIDENT: frozenset({Role.RESIDENT}),
    Role.VOLUNTEER: frozenset({Role.RESIDENT, Role.VOLUNTEER}),
    Role.MODERATOR: frozenset({Role.RESIDENT, Role.MODERATOR}),
    Role.REVIEWER: frozenset({Role.RESIDENT, Role.REVIEWER}),
    Role.STAFF: frozenset({Role.RESIDENT, Role.VOLUNTEER, Role.MODERATOR, Role.REVIEWER, Role.STAFF}),
    Role.ADMIN: frozenset(Role),
}

#: Roles whose sessions are never remembered beyond the browser session.
NO_REMEMBER_ROLES = frozenset({Role.STAFF, Role.ADMIN})


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(80))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.RESIDENT)
    home_district_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("districts.id", ondelete="SET NULL"), index=True
    )
    birth_year: Mapped[int | None] = mapped_column(sa.Integer)
    #: Set when staff (or a redeemed access code) confirmed that the person lives in their district.
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    #: Set when the person opened the link sent to their address (or an administrator created the
    #: account); e-mail notifications go only to confirmed addresses.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    #: Raised on sign-out and password change; sessions carrying an older value are ended.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    is_active_account: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    #: The language the person chose in the header's switcher (a code of ``PBVOTE_LANGUAGES``), used
    #: for their pages and their e-mails; None: not chosen (the browser's language, the default).
    locale: Mapped[str | None] = mapped_column(sa.String(16))

    home_district: Mapped[District | None] = relationship()

    __table_args__ = (sa.CheckConstraint("session_version >= 1", name="session_version_positive"),)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: Role | str) -> bool:
        """True if this account holds any of ``roles`` (directly or through a broader role)."""
        grants = ROLE_GRANTS[self.role]
        return any(Role(role) in grants for role in roles)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def get_id(self) -> str:  # Flask-Login: the session remembers the version it was opened with
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
