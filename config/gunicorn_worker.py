"""The gunicorn worker scripts/web runs: gunicorn's threaded worker, which stops listening as
soon as it is told to stop, and answers the errors gunicorn raises itself in JSON.

A stopping gunicorn worker (SIGTERM to the master: a deploy, a scale-down) finishes the
requests it holds. gunicorn's own workers keep the listening socket open while they do, and
the kernel goes on queueing new connections on it; when the socket is finally closed those
are reset, and a proxy in front answers 502 for every POST among them (nginx retries only
idempotent requests on another server). This worker takes whatever is already queued and
closes the socket at once: from then on a connection is refused, which a proxy retries on
another instance whatever the method, because nothing was sent.

The threaded worker (not the sync one) also takes connections off the queue as soon as they
arrive, so little waits in the kernel at any time, and it serves nginx's kept-alive upstream
connections (nginx.conf `keepalive`).

A client has REQUEST_READ_TIMEOUT_SECONDS (config/limits.py) to send each request, headers and
body, counted from when the connection is handed to a thread. gunicorn reads a request in the
thread that will serve it and waits as long as the client takes: a few clients sending a byte
now and then (slow headers, or a slow body read by config/middleware.py) held every thread of
every worker, and nobody else was answered. Bytes that have already arrived are read whatever
the time, so a request that waited in the queue behind such clients is still served.

Requests gunicorn refuses before Django sees them (a request line over 8190 bytes, too many or
too large headers, a malformed request) get gunicorn's HTML error page otherwise; API clients
parse every error body as JSON.
"""

import errno
import json
import select
import socket
import time

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from config import limits


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn's util.write_error, with a JSON body in the app's one error shape (api/errors.py;
    Django is not imported here). The message is left out: it echoes the client's request, which
    an error body should not reflect."""
    error = {"code": reason.lower().replace(" ", "_"), "detail": f"{reason}.", "attr": None}
    body = json.dumps({"type": "server_error" if status_int >= 500 else "client_error", "errors": [error]}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class RequestReadTimeout(TimeoutError):
    """The client did not send its request body in time: Django's request.body raises
    UnreadablePostError from it, which config/middleware.py answers with a 408."""


class RequestSocket(socket.socket):
    """A client connection whose reads wait no longer than the current request's deadline.

    The worker sets `deadline` when it hands the connection to a thread, and `reading_body` once
    the headers are parsed. Past the deadline, a read that would have to wait ends the request:
    an end of file while headers are read (gunicorn closes the connection quietly, as for a
    client that went away), a RequestReadTimeout while the application reads the body.
    """

    deadline: float | None = None
    reading_body = False

    @classmethod
    def adopt(cls, sock: socket.socket) -> "RequestSocket":
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.setblocking(False)  # as gunicorn's TConn leaves a new connection
        return adopted

    def _timed_out(self) -> bool:
        if self.deadline is None:
            return False
        remaining = self.deadline - time.monotonic()
        poller = select.poll()
        poller.register(self, select.POLLIN)
        return not poller.poll(max(remaining, 0) * 1000)

    def recv(self, bufsize, flags=0):
        if self._timed_out():
            if self.reading_body:
                raise RequestReadTimeout(f"request body not received within {limits.REQUEST_READ_TIMEOUT_SECONDS} s")
            return b""
        return super().recv(bufsize, flags)

    def recv_into(self, buffer, nbytes=0, flags=0):
        if self._timed_out():
            if self.reading_body:
                raise RequestReadTimeout(f"request body not received within {limits.REQUEST_READ_TIMEOUT_SECONDS} s")
            return 0
        return super().recv_into(buffer, nbytes, flags)


class DrainingThreadWorker(ThreadWorker):
    def enqueue_req(self, conn):
        # Every request starts here: a new connection, a kept-alive one with a new request, one
        # that sent nothing for a while and then did.
        if not isinstance(conn.sock, RequestSocket):
            conn.sock = RequestSocket.adopt(conn.sock)
        conn.sock.deadline = time.monotonic() + limits.REQUEST_READ_TIMEOUT_SECONDS
        conn.sock.reading_body = False
        super().enqueue_req(conn)

    def handle_request(self, req, conn):
        conn.sock.reading_body = True
        return super().handle_request(req, conn)

    def init_process(self):
        # gunicorn's workers write their own errors through util.write_error: replaced in this
        # worker process only (init_process runs after the fork).
        util.write_error = write_json_error
        super().init_process()

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:  # the graceful stop, not a full connection table
            self._stop_listening()

    def _stop_listening(self):
        for listener in self.sockets:
            while self._take_queued(listener):
                pass
            listener.close()

    def _take_queued(self, listener) -> bool:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return False
            if exc.errno == errno.ECONNABORTED:
                return True
            raise
        self.nr_conns += 1
        client.setblocking(True)
        self.enqueue_req(TConn(self.cfg, client, address, listener.getsockname()))
        return True
