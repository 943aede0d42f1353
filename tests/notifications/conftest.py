"""Fixtures for notification tests: a real SMTP server on loopback (aiosmtpd), started in the test."""
from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pbvote.extensions import db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MailServer:
    """A local SMTP server: what it received, and knobs to make it refuse or dawdle."""

    port: int
    messages: list = field(default_factory=list)
    #: Recipients refused with 550 at RCPT.
    refuse: set = field(default_factory=set)
    #: Seconds to wait before accepting each message (to overlap several workers).
    delay: float = 0.0
    #: (username, password) the server accepts; None: no AUTH offered.
    credentials: tuple | None = None
    #: "starttls" or "ssl" with a certificate (:func:`tls_files`); None: plain SMTP.
    tls: str | None = None
    tls_files: tuple | None = None
    logins: list = field(default_factory=list)
    controller: Controller | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # aiosmtpd handler hooks ---------------------------------------------------------------------
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = self.credentials is not None and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    # control ------------------------------------------------------------------------------------
    def start(self) -> None:
        kwargs = {}
        if self.credentials is not None:
            # aiosmtpd sees TLS only when it came by STARTTLS; on an SSL port the link is encrypted anyway
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.tls == "starttls")
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.tls_files)
            if self.tls == "ssl":
                kwargs["ssl_context"] = context
            else:
                kwargs.update(tls_context=context, require_starttls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (made with the openssl command) and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return str(cert), str(key)


def use_mail_server(app, port: int, **settings) -> None:
    app.config.update({"PBVOTE_MAIL_SERVER": "127.0.0.1", "PBVOTE_MAIL_PORT": port, "PBVOTE_MAIL_TIMEOUT": 5,
                       **settings})


@pytest.fixture
def mail_server(app):
    """A running SMTP server the app sends through (``server.stop()`` takes it down)."""
    server = MailServer(port=free_port())
    server.start()
    use_mail_server(app, server.port)
    yield server
    server.stop()


@pytest.fixture
def down_mail_server(app):
    """The app's mail server is down: nothing listens on its port until ``server.start()``."""
    server = MailServer(port=free_port())
    use_mail_server(app, server.port)
    yield server
    server.stop()


@pytest.fixture
def base_url(app):
    app.config["PBVOTE_BASE_URL"] = "https://budget.example.org"
    app.config["PBVOTE_SITE_NAME"] = "Greenhill Budget"
    return "https://budget.example.org"


def in_fresh_context(app, function, *args, **kwargs):
    """Run ``function`` as the worker does: in an app context of its own, its own session."""
    with app.app_context():
        try:
            return function(*args, **kwargs)
        finally:
            db.session.remove()
