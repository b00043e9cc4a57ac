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
DEFAULT_READ_CACHE_URL = "redis://127.0.0.1:6379/0"
SEARCH_TERM = "postgres"
FILTERED_QUERY = f"published=true&created_after=2025-07-01T00:00:00Z&search={SEARCH_TERM}&ordering=-published_at"

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


# Per data set size: (name, path and query, signed in?, connections or None for --connections).
# Anonymous reads of the post list and detail are answered by the read cache (after the first
# request); signed-in ones, and the baseline, by the database every time.
ENDPOINTS = [
    ("baseline", "/bench/baseline/posts/", False, None),
    ("health", "/health/", False, None),
    ("list anon (cache)", "/api/posts/", False, None),
    ("list signed-in", "/api/posts/", True, None),
    ("search signed-in", f"/api/posts/?search={SEARCH_TERM}", True, None),
    ("search ranked", f"/api/posts/?search={SEARCH_TERM}&ordering=-rank", True, None),
    ("filtered+search", f"/api/posts/?{FILTERED_QUERY}", True, None),
    ("deep page signed-in", "/api/posts/?page=50", True, None),
    ("detail anon (cache)", "/api/posts/{detail}/", False, None),
    ("detail signed-in", "/api/posts/{detail}/", True, None),
    ("list anon, 4 conn", "/api/posts/", False, 4),
    ("list signed-in, 4 conn", "/api/posts/", True, 4),
    # Measured again after the API's reads: the machine's load drifts, the mean of both is the
    # yardstick. Before the creates, so that every read sees the same data.
    ("baseline (again)", "/bench/baseline/posts/", False, None),
    ("create (JWT)", "/api/posts/", True, None),
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--posts",
        default="10000,100000",
        help="comma-separated data set sizes, in posts (default 10000,100000); each size has its own "
        "database (BENCH_DATABASE_URL's name plus _<posts>), seeded once, with posts/20 authors and 5 "
        "comments a post",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per endpoint (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts measured, the median is shown")
    parser.add_argument("--suite", action="store_true", help="also time the test suite, -n auto against -n 0")
    parser.add_argument("--only", default="", help="comma-separated endpoint names to measure (default all)")
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if not wrk:
        print("scripts/bench: wrk is not installed; install it with `apt-get install -y wrk`.", file=sys.stderr)
        return 2
    sizes = [int(size) for size in args.posts.split(",") if size.strip()]
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    cache_url = os.environ.get("BENCH_READ_CACHE_URL", DEFAULT_READ_CACHE_URL)
    port = _free_port()
    print(f"machine: {os.cpu_count()} cores, load average {_load()}")
    answering = "answering" if _redis_answers(cache_url) else "NOT answering: no read cache"
    print(f"read cache: {_redact(cache_url)} ({answering})")
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    results, cold = {}, []
    for posts in sizes:
        url = _sized(database_url, posts)
        env = _server_env(url, cache_url, port)
        print(f"\n== {posts:,} posts: database {_redact(url)}", flush=True)
        _create_database(url)
        _run(["scripts/release"], env)
        sizes_args = [f"--posts={posts}", f"--authors={max(posts // 20, 10)}", f"--comments={posts * 5}"]
        _run([sys.executable, "manage.py", "seed_bench", *sizes_args], env)
        if not cold:
            cold = [_cold_start(env, port) for _ in range(args.cold_runs)]
        results[posts] = _measure(wrk, env, port, args, wanted)
    server_errors = sum(stats.pop("_server_errors") for stats in results.values())

    print(
        f"\nwrk: {args.connections} connections unless the row says otherwise, {args.threads} threads, "
        f"{args.duration} s per endpoint after {args.warmup} s of warm-up"
    )
    for posts, measured in results.items():
        _print_table(posts, measured)
    if len(results) > 1:
        _print_growth(results)
    _print_targets(results)
    if cold:
        print(
            f"\ncold start (scripts/web to first /health/ 200), {len(cold)} runs: "
            f"median {statistics.median(cold):.2f} s (min {min(cold):.2f}, max {max(cold):.2f})"
        )
    print(f"server log: {server_errors} lines at ERROR or above")
    if args.suite:
        _time_suite(database_url)
    print(f"load average at the end: {_load()}")
    return 0


def _measure(wrk: str, env: dict, port: int, args, wanted: set) -> dict:
    base = f"http://127.0.0.1:{port}"
    results = {}
    with _server(env, port) as log_path:
        detail_id = _check_same_data(base)
        token = _token(base)
        with tempfile.TemporaryDirectory() as scripts_dir:
            for name, path, signed_in, connections in ENDPOINTS:
                if wanted and name not in wanted and name.split(" ")[0] not in wanted:
                    continue
                url = base + path.format(detail=detail_id)
                method = "POST" if name.startswith("create") else "GET"
                script = Path(scripts_dir) / f"{len(results)}.lua"
                script.write_text(_lua(method=method, token=token if signed_in else ""))
                conns = connections or args.connections
                if args.warmup:
                    _wrk(wrk, url, script, args.threads, conns, args.warmup)
                results[name] = _wrk(wrk, url, script, min(args.threads, conns), conns, args.duration)
                results[name]["connections"] = conns
                print(f"  measured {name}: {results[name]['rps']:.0f} requests/s", flush=True)
        results["_server_errors"] = _count_server_errors(log_path)
    return results


# --- The server -----------------------------------------------------------------------------
def _server_env(database_url: str, cache_url: str, port: int) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # The benchmark's server is self-contained: no broker, no shared cache, no error reporting;
        # the read cache in its own Redis database.
        if key not in {"REDIS_URL", "CACHE_URL", "SENTRY_DSN", "DATABASE_URL", "READ_CACHE_URL", "READ_CACHE_ENABLED"}
    }
    env.update(
        DATABASE_URL=database_url,
        READ_CACHE_URL=cache_url,
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
    lines = [f'wrk.method = "{method}"']
    if method != "GET":
        body = json.dumps({"title": "A benchmark post", "body": "Written by scripts/bench: " + "lorem ipsum " * 40})
        lines += [f"wrk.body = {_lua_string(body)}", 'wrk.headers["Content-Type"] = "application/json"']
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    return "\n".join(lines) + "\n" + LUA_COMMON


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


def _yardstick(measured: dict) -> float | None:
    baselines = [measured[name]["rps"] for name in ("baseline", "baseline (again)") if name in measured]
    return statistics.mean(baselines) if baselines else None


def _print_table(posts: int, measured: dict) -> None:
    """A Markdown table: docs/performance.md takes it as printed."""
    yardstick = _yardstick(measured)
    print(f"\n{posts:,} posts\n")
    print("| endpoint | conn | requests/s | p50 ms | p99 ms | errors | vs baseline |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, stats in measured.items():
        ratio = f"{stats['rps'] / yardstick:.0%}" if yardstick and not name.startswith("baseline") else ""
        print(
            f"| {name} | {stats['connections']} | {stats['rps']:.0f} | {stats['p50_us'] / 1000:.1f} | "
            f"{stats['p99_us'] / 1000:.1f} | {stats['errors']} | {ratio} |"
        )
    print("\nerrors: non-2xx answers plus socket errors (connect, read, write, timeout)")


def _print_growth(results: dict) -> None:
    small, large = min(results), max(results)
    print(f"\ngrowth: each figure at {large:,} posts over the same at {small:,}\n")
    print(f"| endpoint | requests/s {small:,} | requests/s {large:,} | ratio | p99 ms {small:,} | p99 ms {large:,} |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, stats in results[small].items():
        if name not in results[large]:
            continue
        other = results[large][name]
        print(
            f"| {name} | {stats['rps']:.0f} | {other['rps']:.0f} | {other['rps'] / stats['rps']:.0%} | "
            f"{stats['p99_us'] / 1000:.1f} | {other['p99_us'] / 1000:.1f} |"
        )


def _print_targets(results: dict) -> None:
    print("\ntargets:")
    small, large = min(results), max(results)
    if small != large:
        for name, stats in results[small].items():
            if name in results[large] and name not in ("health", "create (JWT)"):
                ratio = results[large][name]["rps"] / stats["rps"]
                label = f"{name} at {large:,} keeps >= 80% of its requests/s at {small:,}"
                _target(label, ratio >= 0.8, f"{ratio:.0%}")
    for posts, measured in results.items():
        for search in ("search signed-in", "search ranked"):
            if search in measured and "list signed-in" in measured:
                ratio = measured[search]["rps"] / measured["list signed-in"]["rps"]
                _target(f"{search} >= 70% of list signed-in at {posts:,}", ratio >= 0.7, f"{ratio:.0%}")
        for cached in ("list anon (cache)", "detail anon (cache)"):
            if cached in measured and "health" in measured:
                ratio = measured[cached]["rps"] / measured["health"]["rps"]
                _target(f"{cached} >= 50% of /health/ at {posts:,}", ratio >= 0.5, f"{ratio:.0%}")
    for name in ("list anon, 4 conn", "list signed-in, 4 conn"):
        if name in results[large]:
            p99 = results[large][name]["p99_us"] / 1000
            _target(f"{name}: p99 < 50 ms at {large:,}", p99 < 50, f"{p99:.1f} ms")
    for posts, measured in results.items():
        errors = sum(stats["errors"] for stats in measured.values())
        _target(f"no errors at {posts:,}", errors == 0, str(errors))


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


def _sized(database_url: str, posts: int) -> str:
    parts = urllib.parse.urlparse(database_url)
    return parts._replace(path=f"{parts.path}_{posts}").geturl()


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


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
