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

Requests gunicorn refuses before Django sees them (a request line over 8190 bytes, too many or
too large headers, a malformed request) get gunicorn's HTML error page otherwise; API clients
parse every error body as JSON.
"""

import errno
import json

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker


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


class DrainingThreadWorker(ThreadWorker):
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
