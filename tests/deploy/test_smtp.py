"""Issue 13, point 4: e-mail over SMTP configured from the environment, to a real SMTP server.

The server is aiosmtpd on loopback with STARTTLS (a certificate from a throwaway authority) and
AUTH required over TLS. `manage.py sendtestemail` runs in a process of its own with nothing but
the environment to tell it where and how to send.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import free_port

from .certificates import make_server_certificate
from .production import manage

USER, PASSWORD = "exams@board.example", "relay-password-2026"


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, envelope.rcpt_tos, envelope.content, session.authenticated)
        )
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode(),
        auth_data.password.decode(),
    ) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False)  # unhandled: the server answers 535 itself


@pytest.fixture
def relay(tmp_path) -> Iterator[tuple[Controller, Mailbox, object]]:
    certificate = make_server_certificate(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.certificate, certificate.key)
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
        auth_exclude_mechanism=["CRAM-MD5"],
    )
    controller.start()
    try:
        yield controller, mailbox, certificate
    finally:
        controller.stop()


def _environment(tmp_path, controller, certificate, **changes) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "KEYS_DIR": str(tmp_path / "keys"),
        "EMAIL_HOST": "localhost",
        "EMAIL_PORT": str(controller.port),
        "EMAIL_USE_TLS": "1",
        "EMAIL_HOST_USER": USER,
        "DEFAULT_FROM_EMAIL": "Certification exams <exams@board.example>",
        # The relay's certificate is checked against the trusted authorities: here the test's own.
        "SSL_CERT_FILE": str(certificate.authority),
    }
    password_file = tmp_path / "email_password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    env["EMAIL_HOST_PASSWORD_FILE"] = str(password_file)
    env.update(changes)
    return {name: value for name, value in env.items() if value is not None}


def test_mail_goes_out_over_starttls_with_the_relays_login(relay, tmp_path):
    controller, mailbox, certificate = relay
    result = manage(
        _environment(tmp_path, controller, certificate),
        "sendtestemail",
        "candidate@hospital.example",
    )
    assert result.returncode == 0, result.stderr
    [(sender, recipients, content, authenticated)] = mailbox.messages
    assert sender == "exams@board.example" and recipients == ["candidate@hospital.example"]
    assert authenticated
    assert message_from_bytes(content)["From"] == "Certification exams <exams@board.example>"


def test_a_wrong_password_is_an_error_not_a_silent_loss(relay, tmp_path):
    controller, mailbox, certificate = relay
    (tmp_path / "wrong").write_text("not-the-password", encoding="utf-8")
    env = _environment(
        tmp_path, controller, certificate, EMAIL_HOST_PASSWORD_FILE=str(tmp_path / "wrong")
    )
    result = manage(env, "sendtestemail", "candidate@hospital.example")
    assert result.returncode != 0 and "Authentication" in result.stderr
    assert mailbox.messages == []


def test_a_relay_whose_certificate_is_not_trusted_gets_no_password(relay, tmp_path):
    controller, mailbox, certificate = relay
    env = _environment(tmp_path, controller, certificate, SSL_CERT_FILE="/nonexistent/ca.pem")
    result = manage(env, "sendtestemail", "candidate@hospital.example")
    assert result.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert mailbox.messages == []
