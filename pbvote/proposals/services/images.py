"""A proposal's pictures: checked by content and size, stored under a random name outside the static
folder, written and deleted only once the change is committed (:func:`pbvote.unit_of_work.after_commit`)."""
from __future__ import annotations

import hashlib
import os
import secrets
from typing import BinaryIO

from flask import abort, current_app, send_file
from flask_babel import gettext as _

from pbvote import audit, unit_of_work
from pbvote.auth.models import User
from pbvote.errors import Conflict, InvalidInput
from pbvote.extensions import db
from pbvote.proposals.models import Proposal, ProposalImage
from pbvote.proposals.services.access import require_editor

MAX_IMAGES_PER_PROPOSAL = 5
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024

#: Magic numbers of the image types we accept.  Checked by hand — a dozen bytes do not justify an
#: imaging library — and SVG is deliberately absent (it can carry scripts).
IMAGE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def sniff_image_type(head: bytes) -> str | None:
    """The image type of a file from its first bytes, or None if it is not an accepted image."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_checked_image(stream: BinaryIO, field: str = "image") -> tuple[bytes, str]:
    """The uploaded file's bytes and image type, or :class:`InvalidInput` (on ``field``) when it is
    empty, larger than ``PBVOTE_MAX_IMAGE_BYTES`` or not a PNG, JPEG, GIF or WebP by its content.
    Shared with the photos of implementation tracking (results)."""
    limit = current_app.config.get("PBVOTE_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)
    data = stream.read(limit + 1)
    if not data:
        raise InvalidInput(_("The file is empty."), field=field)
    if len(data) > limit:
        raise InvalidInput(_("The picture is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024) or 1),
                           field=field)
    content_type = sniff_image_type(data[:16])
    if content_type is None:
        raise InvalidInput(_("Upload a PNG, JPEG, GIF or WebP picture."), field=field)
    return data, content_type


def new_stored_name(content_type: str) -> str:
    """A random file name with the extension of ``content_type``."""
    return secrets.token_hex(16) + IMAGE_TYPES[content_type]


def upload_dir() -> str:
    return os.path.join(current_app.config["PBVOTE_UPLOAD_DIR"], "proposals")


def image_path(image: ProposalImage) -> str:
    return os.path.join(upload_dir(), image.stored_name)


def add_image(user: User, proposal: Proposal, stream: BinaryIO, alt_text: str = "") -> ProposalImage:
    """Add an uploaded picture under a random name, after checking its type by content and size; its
    file is written once the picture's row is committed (until then the picture's page answers 404)."""
    require_editor(user, proposal)
    if len(proposal.images) >= MAX_IMAGES_PER_PROPOSAL:
        raise Conflict(_("A proposal can have at most %(n)d pictures.", n=MAX_IMAGES_PER_PROPOSAL), field="image")
    data, content_type = read_checked_image(stream)
    stored_name = new_stored_name(content_type)
    path = os.path.join(upload_dir(), stored_name)
    image = ProposalImage(
        stored_name=stored_name, content_type=content_type, size_bytes=len(data),
        alt_text=(alt_text or "").strip()[:200], uploaded_by_id=user.id,
    )
    proposal.images.append(image)
    db.session.flush()
    audit.record("proposal.image_added", actor=user, subject=proposal, image_id=image.id,
                 sha256=hashlib.sha256(data).hexdigest(), content_type=content_type)
    unit_of_work.after_commit(lambda: write_file(path, data))
    return image


def remove_image(user: User, image: ProposalImage) -> None:
    """Remove a picture; its file is deleted once the removal is committed."""
    proposal = db.session.get(Proposal, image.proposal_id)
    require_editor(user, proposal)
    audit.record("proposal.image_removed", actor=user, subject=proposal, image_id=image.id)
    path = image_path(image)
    proposal.images.remove(image)
    db.session.flush()
    unit_of_work.after_commit(lambda: delete_file(path))


def image_response(path: str, content_type: str, download_name: str):
    """A stored picture as a response, shown inline but sandboxed (no script runs, whatever the
    file holds); 404 when its file is not there (not yet written, or gone)."""
    if not os.path.isfile(path):
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=False, download_name=download_name, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def write_file(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "xb") as out:
        out.write(data)


def delete_file(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:  # pragma: no cover - already gone
        pass
