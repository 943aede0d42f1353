"""Pages: my notifications (read one, read all), my notification preferences, and the staff's
view of the e-mail outbox.  Thin: load, check, validate, call one service, redirect; the request's
unit of work commits (:mod:`pbvote.unit_of_work`)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote import unit_of_work
from pbvote.auth.models import Role
from pbvote.auth.session import login_required, role_required
from pbvote.bounds import page_number
from pbvote.errors import DomainError
from pbvote.extensions import db
from pbvote.forms import EmptyForm
from pbvote.notifications import services
from pbvote.notifications.forms import CHANNELS, PreferencesForm, field_name
from pbvote.notifications.kinds import KINDS, render_message
from pbvote.notifications.links import in_app_url
from pbvote.notifications.models import Notification, OutboxEmail, OutboxStatus

bp = Blueprint("notifications", __name__)

NOTIFICATIONS_PER_PAGE = 30
EMAILS_PER_PAGE = 50


@bp.app_template_global()
def unread_notification_count() -> int:
    """For the site header: how many notifications the signed-in person has not read."""
    if not current_user.is_authenticated:
        return 0
    return services.unread_count(current_user)


def _me():
    return current_user._get_current_object()


@bp.route("/notifications")
@login_required
def index():
    me = _me()
    pagination = db.paginate(services.notifications_statement(me), page=page_number(),
                             per_page=NOTIFICATIONS_PER_PAGE, error_out=False)
    failed_emails = services.outbox_counts()["failed"] if me.has_role(Role.STAFF) else 0
    return render_template(
        "notifications/index.html", pagination=pagination, form=EmptyForm(), render_message=render_message,
        in_app_url=in_app_url, unread=services.unread_count(me), failed_emails=failed_emails,
    )


@bp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notification = db.get_or_404(Notification, notification_id)
    if notification.user_id != current_user.id:
        abort(404)  # someone else's: not even its existence is told
    if EmptyForm().validate_on_submit():
        services.mark_read(_me(), notification)
    return redirect(url_for("notifications.index")), 303


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    if EmptyForm().validate_on_submit():
        count = services.mark_all_read(_me())
        if count:
            flash(_("All your notifications are marked as read."), "success")
    return redirect(url_for("notifications.index")), 303


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    me = _me()
    current = services.preferences_of(me)
    # The stored choices fill the boxes; a submitted form's boxes replace them (unticked: off).
    form = PreferencesForm(data={
        field_name(kind, channel): getattr(channels, channel)
        for kind, channels in current.items() for channel in CHANNELS
    })
    if form.validate_on_submit():
        services.set_preferences(me, {kind: services.Channels(**form.channels(kind)) for kind in KINDS})
        flash(_("Your notification choices are saved."), "success")
        return redirect(url_for("notifications.preferences")), 303
    status = 400 if form.errors else 200
    return render_template("notifications/preferences.html", form=form, kinds=KINDS), status


@bp.route("/staff/outbox")
@role_required(Role.STAFF)
def outbox():
    pagination = db.paginate(services.troubled_emails_statement(), page=page_number(),
                             per_page=EMAILS_PER_PAGE, error_out=False)
    return render_template("notifications/outbox.html", pagination=pagination, counts=services.outbox_counts(),
                           form=EmptyForm(), failed=OutboxStatus.FAILED)


@bp.route("/staff/outbox/<id:email_id>/retry", methods=["POST"])
@role_required(Role.STAFF)
def retry(email_id: int):
    email = db.get_or_404(OutboxEmail, email_id)
    if EmptyForm().validate_on_submit():
        try:
            services.requeue_email(_me(), email)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("The e-mail to %(recipient)s will be sent again.", recipient=email.recipient), "success")
    return redirect(url_for("notifications.outbox")), 303
