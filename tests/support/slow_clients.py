"""Clients that send their request a little at a time and never finish: slow headers
(slowloris) and a slow body. Each trickles a byte every `every` seconds from a thread of its own
until it is closed or the server ends the connection; `.answer()` reads what the server sent."""

import socket
import threading
from dataclasses import dataclass, field

SLOW_HEADERS = (b"GET /api/posts/ HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-a: b\r\n")
# A body of 100,000 bytes announced, one byte sent.
SLOW_BODY = (
    b"POST /api/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n{",
    b" ",
)


@dataclass(eq=False)
class SlowClient:
    sock: socket.socket
    drip: bytes
    every: float
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def open(cls, host: str, port: int, kind: tuple[bytes, bytes], every: float = 1.0) -> "SlowClient":
        start, drip = kind
        sock = socket.create_connection((host, port), timeout=5)
        sock.sendall(start)
        client = cls(sock, drip, every)
        threading.Thread(target=client._trickle, daemon=True).start()
        return client

    def _trickle(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sock.sendall(self.drip)
            except OSError:
                return

    def answer(self, timeout: float) -> bytes | None:
        """What the server sent before closing (b"" if it closed without a word), or None if the
        connection is still open after timeout seconds."""
        self.sock.settimeout(timeout)
        received = b""
        try:
            while chunk := self.sock.recv(4096):
                received += chunk
        except TimeoutError:
            return received or None
        except ConnectionResetError:
            pass
        return received

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
