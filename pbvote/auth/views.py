"""Sign up, sign in, sign out, change password, the administrators' role page and the staff's
residents page.  Thin: load, check, validate, call one service, return; the request commits once,
or rolls back on an error response (:mod:`pbvote.unit_of_work`)."""
from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from pbvote import ratelimit, unit_of_work
from pbvote.auth import services
from pbvote.auth.forms import (
    ROLE_LABELS,
    ChangePasswordForm,
    DetailsForm,
    ForgotPasswordForm,
    ResetPasswordForm,
    RoleForm,
    SignInForm,
    SignUpForm,
    VerifyResidentForm,
)
from pbvote.auth.models import NO_REMEMBER_ROLES, Role, User
from pbvote.auth.session import login_required, public, reset_browser_session, role_required
from pbvote.auth.tokens import reset_minutes, user_for_confirmation_token, user_for_reset_token
from pbvote.bounds import page_number
from pbvote.errors import DomainError
from pbvote.extensions import db, limiter
from pbvote.i18n import explicit_choice
from pbvote.forms import EmptyForm, add_form_error, option, options
from pbvote.places.services import get_district, list_districts

bp = Blueprint("auth", __name__)

USERS_PER_PAGE = 50


def is_safe_next(target: str | None) -> bool:
    """True only for a path on this site (no scheme, no host, no ``//`` or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not any(ord(c) < 32 for c in target)


def redirect_next(default_endpoint: str = "main.index"):
    target = request.form.get("next") or request.args.get("next")
    return redirect(target if is_safe_next(target) else url_for(default_endpoint))


def _account_key() -> str:
    return "signin-account:" + services.normalize_email(request.form.get("email", ""))


def _account_address_key() -> str:
    return f"{_account_key()}|{request.remote_addr}"


def _check_sign_in_allowed() -> None:
    """Refuse (429) an attempt on an account from an address that keeps failing on it, and, while
    the account is under distributed guessing (its much higher ceiling of failures from all
    addresses is reached), from any address that has failed on it.  An address that has not been
    failing is never refused: a resident can sign in on voting day whoever else is guessing."""
    config = current_app.config
    failing_here = ratelimit.used(config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS"], _account_address_key(), SIGN_IN_SCOPE)
    ratelimit.check(config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS"], _account_address_key(), SIGN_IN_SCOPE)
    if failing_here:
        ratelimit.check(config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT"], _account_key(), SIGN_IN_SCOPE)


def _count_sign_in(succeeded: bool) -> None:
    config = current_app.config
    if succeeded:
        ratelimit.reset(config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS"], _account_address_key(), SIGN_IN_SCOPE)
        return
    ratelimit.count(config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS"], _account_address_key(), SIGN_IN_SCOPE)
    ratelimit.count(config["PBVOTE_SIGNIN_LIMIT_PER_ACCOUNT"], _account_key(), SIGN_IN_SCOPE)


SIGN_IN_SCOPE = "auth.sign_in.failures"


@bp.route("/sign-up", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PBVOTE_SIGNUP_LIMIT"], methods=["POST"])
def sign_up():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignUpForm()
    form.home_district.choices = options(
        [("", _("Choose your district"))] + [(d.id, d.name) for d in list_districts()])
    if form.validate_on_submit():
        district = get_district(form.home_district.data)
        try:
            user = services.create_user(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                home_district=district,
                birth_year=form.birth_year.data,
                locale=explicit_choice(),  # the language chosen in the switcher before signing up
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            services.request_email_confirmation(user, link_for=_confirmation_link)
            reset_browser_session()
            login_user(user)
            flash(_("Welcome, %(name)s! Your account is ready. We have sent a link to %(email)s: open it to "
                    "confirm your address and get e-mail notifications.", name=user.display_name, email=user.email),
                  "success")
            return redirect_next()
    return render_template("auth/sign_up.html", form=form), 200 if not form.errors else 400


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PBVOTE_SIGNIN_LIMIT_PER_ADDRESS"], methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect_next()
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        _check_sign_in_allowed()
        user = services.authenticate(form.email.data, form.password.data)
        _count_sign_in(user is not None)
        if user is None:
            unit_of_work.keep_changes()  # the answer is 401, and the failed attempt's audit entry stays
            form.form_errors.append(_("That e-mail address and password do not match an account."))
        else:
            remember = bool(form.remember.data) and user.role not in NO_REMEMBER_ROLES
            reset_browser_session()  # an access code or receipts held before signing in are dropped
            login_user(user, remember=remember)
            flash(_("Signed in as %(name)s.", name=user.display_name), "success")
            return redirect_next()
    status = 401 if request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form), status


def _confirmation_link(token: str) -> str:
    return url_for("auth.confirm_email", token=token)


@bp.route("/confirm-email/<token>")
@public
def confirm_email(token: str):
    """The link of a confirmation e-mail: confirms the address it was sent to (opening it twice, or
    signed in as someone else, is fine); a link that does not work says so and how to get another."""
    user = user_for_confirmation_token(token)
    if user is None:
        return render_template("auth/confirm_email.html"), 404
    services.confirm_email(user)
    flash(_("Thank you: %(email)s is confirmed. E-mail notifications will reach you there.", email=user.email), "success")
    return redirect(url_for("auth.account" if current_user.is_authenticated and current_user.id == user.id
                            else "main.index"))


@bp.route("/account/confirm-email", methods=["POST"])
@login_required
@limiter.limit(lambda: current_app.config["PBVOTE_PASSWORD_RESET_LIMIT"])
def resend_confirmation():
    """Send the confirmation link again (from the account page)."""
    if EmptyForm().validate_on_submit():
        me = current_user._get_current_object()
        if services.request_email_confirmation(me, link_for=_confirmation_link):
            flash(_("We have sent a new link to %(email)s.", email=me.email), "info")
    return redirect(url_for("auth.account"), 303)


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PBVOTE_PASSWORD_RESET_LIMIT"], methods=["POST"])
def forgot_password():
    """Ask for a link to choose a new password.  The answer is the same whether or not an account
    has the address (no account enumeration), and it comes as a redirect (Back and Reload never
    send a second e-mail)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(
            form.email.data, link_for=lambda token: url_for("auth.reset_password", token=token))
        flash(_("If an account uses %(email)s, we have sent it a link to choose a new password. The link "
                "works for %(minutes)d minutes, once.", email=form.email.data, minutes=reset_minutes()), "info")
        return redirect(url_for("auth.sign_in"), 303)
    return render_template("auth/forgot_password.html", form=form), 200 if not form.errors else 400


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PBVOTE_PASSWORD_RESET_LIMIT"], methods=["POST"])
def reset_password(token: str):
    """Choose a new password from the link of a reset e-mail (valid for a while, once)."""
    user = user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_password.html", form=None), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            logout_user()
            reset_browser_session()
            flash(_("Your new password is set, and you are signed out on all your devices. Sign in with it."), "success")
            return redirect(url_for("auth.sign_in"), 303)
    return render_template("auth/reset_password.html", form=form, user=user), 200 if not form.errors else 400


@bp.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    form = EmptyForm()
    if form.validate_on_submit():
        services.end_sessions(current_user._get_current_object())
    logout_user()
    reset_browser_session()  # nothing of this account's visit is left for the next person
    flash(_("You are signed out on all your devices."), "info")
    return redirect(url_for("main.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            login_user(user)  # this session carries the new version; all others end
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form), 200 if not form.errors else 400


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = DetailsForm(obj=user)
    if form.validate_on_submit():
        try:
            services.update_details(user, display_name=form.display_name.data, birth_year=form.birth_year.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Your details are saved."), "success")
            return redirect(url_for("auth.account")), 303
    status = 400 if form.errors or form.form_errors else 200
    return render_template("auth/account.html", form=form, role_labels=ROLE_LABELS,
                           resend_form=EmptyForm(formdata=None)), status


@bp.route("/admin/users")
@role_required(Role.ADMIN)
def admin_users():
    query = (request.args.get("q") or "").strip()
    page = page_number()
    statement = sa.select(User).order_by(User.id)
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(
            sa.or_(sa.func.lower(User.email).like(pattern), sa.func.lower(User.display_name).like(pattern))
        )
    pagination = db.paginate(statement, page=page, per_page=USERS_PER_PAGE, error_out=False)
    forms = {}
    for user in pagination.items:
        form = RoleForm(prefix=f"u{user.id}", formdata=None)
        form.role.data = user.role.value
        forms[user.id] = form
    return render_template(
        "auth/admin_users.html", pagination=pagination, forms=forms, query=query, role_labels=ROLE_LABELS
    )


@bp.route("/admin/users/<id:user_id>/role", methods=["POST"])
@role_required(Role.ADMIN)
def admin_set_role(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
        return redirect(url_for("auth.admin_users")), 303
    try:
        services.grant_role(current_user._get_current_object(), user, form.role.data)
    except DomainError as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(
            _("%(name)s is now: %(role)s.", name=user.display_name, role=ROLE_LABELS[user.role]),
            "success",
        )
    return redirect(url_for("auth.admin_users", q=request.args.get("q") or None)), 303


# -- residents' verification (staff) ------------------------------------------------------------

RESIDENTS_PER_PAGE = 50


@bp.route("/staff/residents")
@role_required(Role.STAFF)
def staff_residents():
    query = (request.args.get("q") or "").strip()
    page = page_number()
    statement = sa.select(User).where(User.role == Role.RESIDENT).order_by(User.id)
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(
            sa.or_(sa.func.lower(User.email).like(pattern), sa.func.lower(User.display_name).like(pattern))
        )
    pagination = db.paginate(statement, page=page, per_page=RESIDENTS_PER_PAGE, error_out=False)
    districts = list_districts()
    forms = {}
    for user in pagination.items:
        form = VerifyResidentForm(prefix=f"u{user.id}", formdata=None)
        form.district.choices = [option("", _("No district"))] + [option(d.id, d.name) for d in districts]
        form.district.data = user.home_district_id
        forms[user.id] = form
    return render_template("auth/staff_residents.html", pagination=pagination, forms=forms, query=query)


@bp.route("/staff/residents/<id:user_id>/verify", methods=["POST"])
@role_required(Role.STAFF)
def staff_verify(user_id: int):
    user = db.get_or_404(User, user_id)
    form = VerifyResidentForm(prefix=f"u{user.id}")
    form.district.choices = [option("", "")] + [option(d.id, d.name) for d in list_districts()]
    if form.validate_on_submit():
        district = get_district(form.district.data)
        services.verify_resident(current_user._get_current_object(), user, district.id if district else None)
        flash(_("%(name)s is confirmed as a resident.", name=user.display_name), "success")
    else:
        flash(_("Choose one of the listed districts."), "error")
    return redirect(url_for("auth.staff_residents", q=request.args.get("q") or None)), 303

