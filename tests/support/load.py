"""A bounded mixed load of reads and writes from client threads, every outcome recorded, so a
test can check that no request failed and that the database holds exactly the posts that
were answered 201.

Each thread waits for the answer to its last request before it stops: unlike wrk, which
drops the requests in flight when its time is up, every write sent has a known outcome.
One request per connection, as a client behind a proxy mostly does.
"""

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

from tests.support import harness


@dataclass(frozen=True)
class Outcome:
    method: str
    status: int | None  # None: no HTTP answer at all (refused, reset, timed out)
    error: str = ""
    title: str = ""  # the title a write sent
    created_id: int | None = None  # the id a 201 answered with
    seconds: float = 0.0


@dataclass
class Load:
    """``threads`` clients, each cycling through GET /api/posts/, GET /api/posts/<detail>/
    (when a detail id is given) and POST /api/posts/ (titles ``<tag>-<thread>-<n>``, unique)
    against base_url until stop()."""

    base_url: str
    token: str
    tag: str
    threads: int = 8
    detail: int | None = None
    timeout: float = 30.0
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started_at: float = 0.0
    _stopped_at: float = 0.0

    @property
    def seconds(self) -> float:
        """How long the load ran (so far, or until it stopped)."""
        return (self._stopped_at or time.monotonic()) - self._started_at

    def __enter__(self) -> "Load":
        self._started_at = time.monotonic()
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(number,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=self.timeout + 5)
        self._stopped_at = self._stopped_at or time.monotonic()
        return self.outcomes

    def wait_for(self, count: int, timeout: float = 60.0) -> None:
        """Until at least `count` requests have been answered (the load is really running)."""
        deadline = time.monotonic() + timeout
        while len(self.outcomes) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.outcomes)} requests answered in {timeout}s")
            time.sleep(0.05)

    def _run(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        steps = ["list", "detail", "create"] if self.detail is not None else ["list", "create"]
        sent = 0
        while not self._stop.is_set():
            step = steps[sent % len(steps)]
            if step == "create":
                title = f"{self.tag}-{number}-{sent}"
                outcome = self._call("POST", "/api/posts/", headers, {"title": title, "body": "Under load."}, title)
            elif step == "detail":
                outcome = self._call("GET", f"/api/posts/{self.detail}/", headers, None, "")
            else:
                outcome = self._call("GET", "/api/posts/?page_size=10", headers, None, "")
            with self._lock:
                self.outcomes.append(outcome)
            sent += 1

    def _call(self, method: str, path: str, headers: dict, body, title: str) -> Outcome:
        started = time.monotonic()
        try:
            url = self.base_url + path
            response = harness.request(method, url, headers=headers, json_body=body, timeout=self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            return Outcome(method, None, f"{type(exc).__name__}: {exc}", title, seconds=time.monotonic() - started)
        seconds = time.monotonic() - started
        created_id = None
        if response.status == 201:
            created_id = json.loads(response.body)["id"]
        error = "" if response.status < 400 else response.body[:200].decode(errors="replace")
        return Outcome(method, response.status, error, title, created_id, seconds)


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    """Everything a client would count as failed: no answer, or any status but 200/201."""
    return [outcome for outcome in outcomes if outcome.status not in (200, 201)]


def created_ids(outcomes: list[Outcome]) -> set[int]:
    return {outcome.created_id for outcome in outcomes if outcome.created_id is not None}


def summary(outcomes: list[Outcome], seconds: float) -> str:
    """One line of figures for the test's output (`pytest -s`): never asserted on."""
    latencies = sorted(outcome.seconds for outcome in outcomes) or [0.0]
    statuses = sorted({outcome.status for outcome in outcomes}, key=str)
    counts = ", ".join(f"{status}: {sum(o.status == status for o in outcomes)}" for status in statuses)
    return (
        f"{len(outcomes)} requests in {seconds:.1f}s ({len(outcomes) / seconds:.0f}/s), statuses {{{counts}}}, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"
    )
