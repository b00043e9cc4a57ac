"""scripts/bench: load-test the production web entry beside a hand-written baseline.

One run, one data set: seed PostgreSQL (manage.py seed_bench), start scripts/web (gunicorn,
DEBUG=false, throttling off) on loopback, drive each endpoint with wrk at a fixed concurrency
and print requests/s, p50/p99 latency, errors and each endpoint's ratio to the baseline
(`.values()` + JsonResponse, no DRF). Also: cold start of scripts/web to the first /health/ 200,
and with --suite the test suite's wall time with `-n auto` against `-n 0`.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/blog_bench"
# Kept in step with bench/management/commands/seed_bench.py.
WRITER = ("bench-writer", "bench-writer-password-123")
FILTERED_QUERY = "published=true&created_after=2025-07-01T00:00:00Z&search=postgres&ordering=-published_at"

# wrk runs one Lua state per thread: done() sums the per-thread counters and prints one
# parseable line, latency in microseconds.
LUA_COMMON = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, t in ipairs(threads) do good = good + t:get("ok"); wrong = wrong + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"ok":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, good, wrong, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=12, help="seconds measured per endpoint (default 12)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold starts measured, the median is shown")
    parser.add_argument("--suite", action="store_true", help="also time the test suite, -n auto against -n 0")
    parser.add_argument("--only", default="", help="comma-separated endpoint names to measure (default all)")
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if not wrk:
        print("scripts/bench: wrk is not installed; install it with `apt-get install -y wrk`.", file=sys.stderr)
        return 2
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    port = _free_port()
    env = _server_env(database_url, port)
    print(f"machine: {os.cpu_count()} cores, load average {_load()}")
    print(f"database: {_redact(database_url)}")

    _create_database(database_url)
    _run(["scripts/release"], env)
    _run([sys.executable, "manage.py", "seed_bench"], env)

    cold = [_cold_start(env, port) for _ in range(args.cold_runs)]

    base = f"http://127.0.0.1:{port}"
    with _server(env, port) as log_path:
        detail_id = _check_same_data(base)
        token = _token(base)
        endpoints = [
            ("baseline", f"{base}/bench/baseline/posts/", {}),
            ("list", f"{base}/api/posts/", {}),
            ("filtered+search", f"{base}/api/posts/?{FILTERED_QUERY}", {}),
            ("detail", f"{base}/api/posts/{detail_id}/", {}),
            # Measured again after the API's reads: the machine's load drifts, the mean of both is
            # the yardstick. Before the creates, so that every read sees the same data.
            ("baseline (again)", f"{base}/bench/baseline/posts/", {}),
            ("create (JWT)", f"{base}/api/posts/", {"method": "POST", "token": token}),
        ]
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        results = {}
        with tempfile.TemporaryDirectory() as scripts_dir:
            for name, url, options in endpoints:
                if wanted and name.split(" ")[0] not in wanted:
                    continue
                script = Path(scripts_dir) / f"{len(results)}.lua"
                script.write_text(_lua(**options))
                if args.warmup:
                    _wrk(wrk, url, script, args.threads, args.connections, args.warmup)
                results[name] = _wrk(wrk, url, script, args.threads, args.connections, args.duration)
                print(f"  measured {name}: {results[name]['rps']:.0f} requests/s", flush=True)
        server_errors = _count_server_errors(log_path)

    _print_table(results, args)
    print(
        f"\ncold start (scripts/web to first /health/ 200), {len(cold)} runs: median {statistics.median(cold):.2f} s "
        f"(min {min(cold):.2f}, max {max(cold):.2f})"
    )
    print(f"server log: {server_errors} lines at ERROR or above")
    if args.suite:
        _time_suite(database_url)
    print(f"load average at the end: {_load()}")
    return 0


# --- The server -----------------------------------------------------------------------------
def _server_env(database_url: str, port: int) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # The benchmark's server is self-contained: no broker, no shared cache, no error reporting.
        if key not in {"REDIS_URL", "CACHE_URL", "SENTRY_DSN", "DATABASE_URL"}
    }
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        THROTTLE_ENABLED="false",
        BENCH_BASELINE_ENABLED="true",
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        JWT_ACCESS_MINUTES="120",
        PORT=str(port),
        # Loopback only: overrides the bind of config/gunicorn.py.
        GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}",
    )
    return env


@contextmanager
def _server(env: dict, port: int):
    with tempfile.NamedTemporaryFile("w+", prefix="bench-web-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            ["scripts/web"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/health/", process, timeout=30)
            yield Path(log.name)
        except BaseException:
            log.flush()
            print(Path(log.name).read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            _stop(process)
            Path(log.name).unlink(missing_ok=True)


def _cold_start(env: dict, port: int) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        ["scripts/web"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health/", process, timeout=30, interval=0.005)
        return time.perf_counter() - started
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for(url: str, process: subprocess.Popen, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scripts/web exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL built here
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


def _count_server_errors(log_path: Path) -> int:
    levels = ("ERROR", "CRITICAL", "Traceback")
    return sum(1 for line in log_path.read_text(errors="replace").splitlines() if any(x in line for x in levels))


# --- Requests made once ---------------------------------------------------------------------
def _get_json(url: str, data: dict | None = None) -> dict:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL built here
        return json.loads(response.read())


def _check_same_data(base: str) -> int:
    """The baseline and the API must answer with the same data, or the comparison means nothing."""
    api = _get_json(f"{base}/api/posts/")
    baseline = _get_json(f"{base}/bench/baseline/posts/")
    if api != baseline:
        raise SystemExit("scripts/bench: the baseline's body differs from GET /api/posts/; fix bench/baseline.py first")
    print(f"data: GET /api/posts/ and the baseline return identical bodies ({api['count']} published posts)")
    return api["results"][0]["id"]


def _token(base: str) -> str:
    return _get_json(f"{base}/api/auth/token/", {"username": WRITER[0], "password": WRITER[1]})["access"]


# --- wrk ------------------------------------------------------------------------------------
def _lua(method: str = "GET", token: str = "") -> str:
    if method == "GET":
        return LUA_COMMON
    body = json.dumps({"title": "A benchmark post", "body": "Written by scripts/bench: " + "lorem ipsum " * 40})
    return (
        f'wrk.method = "{method}"\n'
        f"wrk.body = {_lua_string(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {token}"\n' + LUA_COMMON
    )


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _wrk(wrk: str, url: str, script: Path, threads: int, connections: int, duration: int) -> dict:
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no BENCH line:\n{output}")
    stats = json.loads(line[len("BENCH ") :])
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["errors"] = stats["non2xx"] + stats["connect"] + stats["read"] + stats["write"] + stats["timeout"]
    return stats


def _print_table(results: dict, args) -> None:
    baselines = [results[name]["rps"] for name in ("baseline", "baseline (again)") if name in results]
    yardstick = statistics.mean(baselines) if baselines else None
    print(
        f"\nwrk: {args.connections} connections, {args.threads} threads, {args.duration} s per endpoint "
        f"after {args.warmup} s of warm-up"
    )
    header = (
        f"{'endpoint':<18} {'requests/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'2xx':>8} {'vs baseline':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, stats in results.items():
        ratio = f"{stats['rps'] / yardstick:.0%}" if yardstick and not name.startswith("baseline") else ""
        print(
            f"{name:<18} {stats['rps']:>10.0f} {stats['p50_us'] / 1000:>8.1f} {stats['p99_us'] / 1000:>8.1f} "
            f"{stats['errors']:>7} {stats['ok']:>8} {ratio:>11}"
        )
    print("errors: non-2xx answers plus socket errors (connect, read, write, timeout); 2xx: answers counted by status")
    if "list" in results and yardstick:
        listing = results["list"]
        print("\ntargets:")
        _target(
            "list requests/s >= 70% of the baseline",
            listing["rps"] / yardstick >= 0.7,
            f"{listing['rps'] / yardstick:.0%}",
        )
        _target("list p99 < 100 ms", listing["p99_us"] < 100_000, f"{listing['p99_us'] / 1000:.1f} ms")
        _target("list errors == 0", listing["errors"] == 0, str(listing["errors"]))


def _target(label: str, met: bool, figure: str) -> None:
    print(f"  {'met   ' if met else 'MISSED'} {label}: {figure}")


# --- The test suite -------------------------------------------------------------------------
def _time_suite(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", database_url)}
    print(f"\ntest suite (scripts/test, DATABASE_URL={_redact(env['DATABASE_URL'])}):")
    for workers in ("auto", "0"):
        started = time.perf_counter()
        command = ["scripts/test", "-q", "-p", "no:randomly", "-n", workers]
        completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        # pytest's last line: "1004 passed, 6 warnings in 617.90s (0:10:17)", with or without "=" around.
        summary = next(
            (line for line in reversed(completed.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", line)), "?"
        )
        print(f"  -n {workers:<4} {elapsed:6.1f} s wall, exit {completed.returncode}: {summary.strip('= ')}")


# --- Helpers --------------------------------------------------------------------------------
def _create_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlparse(database_url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"database {name} created")


def _run(command: list[str], env: dict) -> None:
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"scripts/bench: {' '.join(command)} failed with exit status {completed.returncode}")
    for line in completed.stdout.splitlines()[-1:]:
        print(line)


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _redact(url: str) -> str:
    parts = urllib.parse.urlparse(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return parts.geturl()


if __name__ == "__main__":
    sys.exit(main())
