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


def measure(kind: str, counts: list[int], threads: str, wait: float) -> None:
    """For each count, that many slow clients against a fresh scripts/web (the shipped settings
    but WEB_THREADS), then one ordinary GET /health/: how long it took, and what the slow ones got.
    Run: DATABASE_URL=... python -m tests.support.slow_clients header 0,1,2,4,8 [threads] [wait]"""
    import os
    import time

    from tests.support import harness

    env = harness.app_env(os.environ["DATABASE_URL"], WEB_THREADS=threads)
    with harness.scratch_dir() as workdir, harness.Gunicorn.start(env, workdir) as web:
        for count in counts:
            slow = [SlowClient.open("127.0.0.1", web.port, KINDS[kind]) for _ in range(count)]
            time.sleep(1.0)
            started = time.monotonic()
            try:
                status = harness.request("GET", web.url + "/health/", timeout=wait).status
                result = f"{status} in {time.monotonic() - started:.2f} s"
            except OSError:
                result = f"no answer within {wait} s"
            got = {(client.answer(0.5) or b"still open").split(b"\r\n")[0].decode() or "closed" for client in slow}
            print(f"{kind}: {count} slow clients, threads={threads}: {result}; slow clients got {sorted(got)}")
            for client in slow:
                client.close()
            time.sleep(1.5)


KINDS = {"header": SLOW_HEADERS, "body": SLOW_BODY}

if __name__ == "__main__":
    import sys

    arguments = sys.argv[1:]
    measure(
        arguments[0],
        [int(count) for count in arguments[1].split(",")],
        arguments[2] if len(arguments) > 2 else "1",
        float(arguments[3]) if len(arguments) > 3 else 45.0,
    )
