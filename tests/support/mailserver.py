"""A small SMTP server on loopback, so tests send real email over a real socket.

Django's SMTP backend (EMAIL_URL=smtp://127.0.0.1:<port>) talks to it with smtplib exactly as
it would to a mail relay. It records every message, and can misbehave on demand the ways mail
servers do: refuse connections with 421 (try later), refuse some recipients with a 4xx or 5xx
reply, or hold a connection without a greeting (a hung server) until the test lets it go.
Only the commands smtplib sends are spoken.
"""

import email
import email.policy
import socketserver
import threading
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_to: tuple[str, ...]
    message: EmailMessage


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30  # a client that died mid-conversation must not keep a thread for ever

    def handle(self):
        smtp: SMTPServer = self.server.smtp
        try:
            if not smtp._on_connect():
                self._reply(f"{smtp.greeting_code} 127.0.0.1 service not available, try again later")
                return
            self._reply("220 127.0.0.1 ESMTP test server")
            self._conversation(smtp)
        except OSError:  # the client went away (killed worker, timeout): nothing to answer
            return

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def _conversation(self, smtp: "SMTPServer") -> None:
        mail_from, rcpt_to = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-127.0.0.1\r\n250 8BITMIME")
            elif verb in ("HELO", "NOOP"):
                self._reply("250 ok")
            elif verb == "RSET":
                mail_from, rcpt_to = "", []
                self._reply("250 ok")
            elif verb == "MAIL":
                mail_from = _address(command)
                self._reply("250 ok")
            elif verb == "RCPT":
                address = _address(command)
                code = smtp.refuse.get(address)
                if code:
                    self._reply(f"{code} <{address}> refused")
                else:
                    rcpt_to.append(address)
                    self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                smtp._store(Received(mail_from, tuple(rcpt_to), self._read_data()))
                mail_from, rcpt_to = "", []
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 command not implemented")

    def _read_data(self) -> EmailMessage:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        return email.message_from_bytes(b"".join(lines), policy=email.policy.default)


def _address(command: str) -> str:
    return command.split(":", 1)[1].strip().split(" ", 1)[0].strip("<>")


class SMTPServer:
    """Start with ``with SMTPServer() as server:``; ``server.port`` is where it listens."""

    def __init__(self):
        self.greeting_code = 220  # 421: refuse every connection ("service not available")
        self.refuse: dict[str, int] = {}  # recipient address → reply code to RCPT (e.g. 450, 550)
        self.connections = 0
        self._received: list[Received] = []
        self._lock = threading.Condition()
        self._hold_next = 0
        self._held = 0
        self._release = threading.Event()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler, bind_and_activate=True)
        self._server.daemon_threads = True
        self._server.smtp = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def hold(self, count: int = 1) -> None:
        """The next `count` connections get no greeting (a hung server) until release()."""
        with self._lock:
            self._hold_next = count
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def wait_held(self, count: int = 1, timeout: float = 60.0) -> None:
        """Block until `count` connections are being held (the client is waiting mid-send)."""
        with self._lock:
            if not self._lock.wait_for(lambda: self._held >= count, timeout):
                raise TimeoutError(f"no client connected to be held within {timeout}s ({self._held} held)")

    def wait_received(self, count: int, timeout: float = 60.0) -> list[Received]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._received) >= count, timeout):
                raise TimeoutError(f"{len(self._received)} messages received within {timeout}s, expected {count}")
            return list(self._received)

    def _on_connect(self) -> bool:
        with self._lock:
            self.connections += 1
            held = self._hold_next > 0
            if held:
                self._hold_next -= 1
                self._held += 1
                self._lock.notify_all()
        if held:
            self._release.wait()
        return self.greeting_code == 220

    def _store(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)
            self._lock.notify_all()
