"""Real servers for tests: a Dovecot IMAP server on a free loopback port with a generated config,
and an aiosmtpd SMTP server in the test process."""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imapclient import IMAPClient

PASSWORD = "geheim-test-wachtwoord"
NO_MOVE_CAPABILITIES = (
    "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES "
    "THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE "
    "UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH "
    "LIST-STATUS BINARY SPECIAL-USE"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )


@dataclass
class Dovecot:
    """A running Dovecot with a static password for every user name: one user per test."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    mail_uid: int
    mail_gid: int
    host: str = "127.0.0.1"
    users: list[str] = field(default_factory=list)
    conf: Path | None = None

    def new_user(self) -> str:
        name = "u" + uuid.uuid4().hex[:12]
        self.users.append(name)
        return name

    def client(self, user: str) -> IMAPClient:
        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        c.login(user, PASSWORD)
        return c

    def append(self, user: str, messages: list[bytes], folder: str = "INBOX",
               flags: tuple[bytes, ...] = ()) -> None:
        with self.client(user) as c:
            for raw in messages:
                c.append(folder, raw, flags=flags)

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        with self.client(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return list(c.search(["NOT", "DELETED"]))

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user

    def halt(self) -> None:
        """Stop the server and every process it started, as `systemctl restart` does (so every
        connection drops at once), keeping its mail for restart()."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def restart(self) -> None:
        """Start a halted server again on the same port with the same mail."""
        binary = dovecot_binary()
        assert binary is not None and self.conf is not None
        self.process = _launch(binary, self.conf, self.root, self.port)

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot(capability: str | None = None) -> Dovecot:
    binary = dovecot_binary()
    if binary is None:
        raise FileNotFoundError("dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("nobody")
        login_user, internal_user = "dovenull", "dovecot"
    else:
        mail_user = pwd.getpwuid(os.getuid())
        login_user = internal_user = mail_user.pw_name
    for sub in ("mail", "home"):
        os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid) if os.geteuid() == 0 else None
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_fsync = never
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
{"protocol imap {" + chr(10) + "  imap_capability = " + capability + chr(10) + "}" if capability else ""}
""")
    process = _launch(binary, conf, root, port)
    return Dovecot(root=root, port=port, process=process, mail_uid=mail_user.pw_uid, mail_gid=mail_user.pw_gid,
                   conf=conf)


def _launch(binary: str, conf: Path, root: Path, port: int) -> subprocess.Popen[bytes]:
    """Start Dovecot in the foreground and wait until it greets on its port."""
    process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own process group: halt() stops all of it
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"dovecot exited: {out} {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("dovecot did not start listening in 15 s")
    return process


class SmtpSink:
    """An aiosmtpd handler that keeps what it receives and refuses the recipients it is told to."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.times: list[float] = []  # time.time() at which each of `received` was accepted
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply, e.g. "451 4.3.0 try again later"

    async def handle_RCPT(self, server: object, session: object, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        self.times.append(time.time())
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        out = []
        for _from, _to, raw in self.received:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(msg, email.message.EmailMessage)
            out.append(msg)
        return out


class SmtpServer:
    """aiosmtpd on a loopback port in this process; stop() and start() simulate an outage."""

    def __init__(self, **controller_options: Any) -> None:
        self.sink = SmtpSink()
        self.port = free_port()
        self.options = controller_options
        self.controller: Any = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class TcpProxy:
    """A loopback TCP proxy in front of a server (PostgreSQL in the tests): cut() drops every
    connection and refuses new ones, as a server that went away; restore() lets them through again."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
