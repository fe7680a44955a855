"""The SMTP transport against real aiosmtpd servers: STARTTLS with login, implicit TLS, a wrong
password as one clear line; and the pickup folder."""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import unavailable
from servers import SmtpServer

from triage.config import Smtp
from triage.errors import ServerError
from triage.outbox import PickupTransport, SmtpTransport

RAW = (b"From: klachten@lindendal.example\r\nTo: jan@example.nl\r\n"
       b"Subject: Ontvangstbevestiging [KL-2026-000001]\r\n"
       b"Message-ID: <ack.KL-2026-000001.0@lindendal.example>\r\n\r\n"
       b"U krijgt uiterlijk woensdag 6 mei 2026 antwoord.\r\n")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        unavailable(f"openssl cannot make a test certificate: {exc}")
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _authenticator(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> object:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"triage", b"geheim")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    server = SmtpServer(tls_context=_server_context(certificate), require_starttls=True, auth_required=True,
                        authenticator=_authenticator)
    yield server.start()
    server.stop()


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    # aiosmtpd does not see that an implicit-TLS session is encrypted: let it offer AUTH anyway
    server = SmtpServer(ssl_context=_server_context(certificate), authenticator=_authenticator,
                        auth_required=True, auth_require_tls=False)
    yield server.start()
    server.stop()


def _settings(server: SmtpServer, security: str, password: str) -> Smtp:
    os.environ["TRIAGE_TEST_SMTP_PASSWORD"] = password
    return Smtp(host="127.0.0.1", port=server.port, security=security, user="triage",  # type: ignore[arg-type]
                password_env="TRIAGE_TEST_SMTP_PASSWORD", timeout=10, verify_certificate=False)


def test_starttls_with_login_delivers(starttls_server: SmtpServer) -> None:
    with SmtpTransport(_settings(starttls_server, "starttls", "geheim")) as transport:
        transport.send("klachten@lindendal.example", "jan@example.nl", RAW)
    ((mail_from, rcpt_to, raw),) = starttls_server.sink.received
    assert (mail_from, rcpt_to) == ("klachten@lindendal.example", ["jan@example.nl"])
    assert b"woensdag 6 mei 2026" in raw


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_login_delivers(tls_server: SmtpServer) -> None:
    with SmtpTransport(_settings(tls_server, "tls", "geheim")) as transport:
        transport.send("klachten@lindendal.example", "jan@example.nl", RAW)
    assert len(tls_server.sink.received) == 1


def test_a_wrong_password_is_one_clear_line(starttls_server: SmtpServer) -> None:
    transport = SmtpTransport(_settings(starttls_server, "starttls", "fout"))
    with pytest.raises(ServerError, match="refused the login: 535.*check smtp.user and the password"), transport:
        pass
    assert starttls_server.sink.received == []


def test_the_certificate_is_checked_unless_told_otherwise(starttls_server: SmtpServer) -> None:
    settings = _settings(starttls_server, "starttls", "geheim").model_copy(update={"verify_certificate": True})
    with pytest.raises(ServerError, match="cannot reach SMTP server.*CERTIFICATE_VERIFY_FAILED"), \
            SmtpTransport(settings):
        pass


def test_pickup_folder_holds_one_file_per_message_id(tmp_path: Path) -> None:
    with PickupTransport(tmp_path / "out") as transport:
        transport.send("klachten@lindendal.example", "jan@example.nl", RAW)
        transport.send("klachten@lindendal.example", "jan@example.nl", RAW)  # a resend replaces, never doubles
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ack.KL-2026-000001.0_lindendal.example.eml"]
