"""Faults a live-stack test injects, without touching the machine's shared services:

- ``TcpProxy``: a loopback TCP proxy in front of a real server (Postgres) that the test can
  cut, as when the database host goes away, and restore on the same port.
- ``RedisServer``: a real redis-server of the test's own, on its own port, that the test may
  stop and start again.
"""

import contextlib
import signal
import socket
import threading
from pathlib import Path

from tests.support import harness
from tests.support.external import free_port, port_open


class TcpProxy:
    """Forwards 127.0.0.1:port to target. ``cut()`` drops every connection through it and
    refuses new ones (the server's host is up, its port closed); ``cut(silent=True)`` drops
    them too but then accepts new ones and never answers (a host that is gone: no reply at
    all). ``restore()`` forwards again, on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._silent = False
        self._held: set[socket.socket] = set()  # accepted while silent
        self.restore()

    def restore(self) -> None:
        self._silent = False
        with self._lock:
            held, self._held = self._held, set()
        for sock in held:
            _close(sock)
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self, silent: bool = False) -> None:
        self._silent = silent
        if not silent:
            listener, self._listener = self._listener, None
            if listener is not None:
                _close(listener)
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            if self._silent:
                with self._lock:
                    self._held.add(client)  # open, never answered
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {source, sink}
            _close(source)
            _close(sink)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.cut()
        self.restore()  # closes what silence held
        self.cut()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class RedisServer(harness.LoggedProcess):
    """redis-server on a free loopback port, in the foreground, keeping nothing on disk (like
    the machine's own): a restart loses every queued message, which the outbox must survive."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.log_path = workdir / f"redis-{self.port}.log"
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        command = [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.workdir)]
        self.process = harness.popen_logged(command, env=None, log_path=self.log_path, cwd=self.workdir)
        self.wait_started(lambda: port_open("127.0.0.1", self.port), "redis-server", timeout)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.process is None:
            return None
        return super().stop(sig, timeout)
