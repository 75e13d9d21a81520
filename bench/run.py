"""The benchmark: seed, serve with gunicorn (2 workers) on 127.0.0.1, drive each main page with
wrk for a fixed time, and compare with a trivial route served the same way. Then, on the full
data set, import 10,000 more people through the admin page while colleagues keep voting and
reading an idea, and compare their response times with the same load on a quiet server.

    python -m bench.run [--databases sqlite,postgresql] [--seconds 6] [--postgres-url URL]
                        [--import-only]

On PostgreSQL at full scale it also serves the same data through nginx in front of two
instances sharing a Redis (bench/cluster.py), and measures a few main pages that way.

Prints one table per database and writes bench/results/<time>.json.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.seed import BENCH_EMAIL, BENCH_PASSWORD, SCALES, seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CONNECTIONS = 10
TARGETS = {  # page: share of the trivial route's requests per second
    "/ideas": 0.15,
    "/ideas?status=implemented&q=customer": 0.15,
    # What the submit form asks while a title is typed (docs/product.md, "Similar ideas and
    # duplicates"): a fragment, asked on every pause in typing.
    "/ideas/similar?title=Refund+for+a+late+delivery+van": 0.25,
    "/ideas/review": 0.15,  # the review queue, with each idea's likely duplicates
    "/ideas/1": 0.15,
    "vote": 0.20,
    "/training": 0.15,
    "/training/coverage": 0.10,
    "/dashboard": 0.25,
    "/leaderboard": 0.25,
}
VOTE_SCRIPT = """
local n = 0
request = function()
  n = n + 1
  local body = "vote=" .. (n % 2)
  return wrk.format("POST", "/ideas/2/vote", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = os.getenv("BENCH_COOKIE"),
    ["X-CSRFToken"] = os.getenv("BENCH_CSRF"),
    ["HX-Request"] = "true",
  }, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving bench.app with two sync workers."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-" + "x" * 40,
            "SERVICEIDEAS_ASSETS": "local",
        }
        env.pop("SERVICEIDEAS_ENV", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "bench.app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def worker_rss_mb(self) -> list[float]:
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        sizes = []
        for pid in children:
            status = Path(f"/proc/{pid}/status").read_text()
            sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
        return sizes

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=10)


def sign_in(base: str) -> tuple[str, str]:
    """The session cookie and a CSRF token, as a browser would get them."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token}
    ).encode()
    opener.open(base + "/login", data)
    page = opener.open(base + "/ideas").read().decode()
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, csrf


def warm_up(base: str, path: str, cookie: str, csrf: str) -> int:
    """A few requests at once before measuring, so that each worker has compiled the page's
    templates and read its remembered figures once, as on a server that has been running.
    Returns the page's queries per request."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda _: queries_per_request(base, path, cookie, csrf), range(8)))
    return counts[-1]


def queries_per_request(base: str, path: str, cookie: str, csrf: str) -> int:
    if path == "vote":
        request = urllib.request.Request(
            base + "/ideas/2/vote",
            data=b"vote=1",
            headers={"Cookie": cookie, "X-CSRFToken": csrf, "HX-Request": "true"},
        )
    else:
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request) as response:
        return int(response.headers["X-Query-Count"])


def wrk(base: str, path: str, seconds: int, cookie: str, csrf: str) -> dict[str, float]:
    env = {**os.environ, "BENCH_COOKIE": cookie, "BENCH_CSRF": csrf}
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency"]
    script = None
    if path == "vote":
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script.write(VOTE_SCRIPT)
        script.close()
        command += ["-s", script.name, base + "/"]
    else:
        command += ["-H", f"Cookie: {cookie}", base + path]
    output = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    if script:
        os.unlink(script.name)

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


CLUSTER_PAGES = [
    "/ideas",
    "/ideas/1",
    "vote",
    "/training",
    "/dashboard",
    "/leaderboard",
    "/bench/trivial",
]


def measure_cluster(url: str, seconds: int) -> dict[str, Any] | None:
    """The same pages through nginx (deploy/nginx/serviceideas.conf) in front of two gunicorn
    instances of two workers each, sharing a throwaway Redis (REDIS_URL): what several servers
    cost (bench/cluster.py). On the data already seeded; None when nginx or Redis is missing."""
    from bench.cluster import Cluster, Throwaway, nginx_binary

    if nginx_binary() is None or not shutil.which("redis-server"):
        print("    cluster run skipped: it needs nginx and redis-server", flush=True)
        return None
    redis = Throwaway("redis")
    folder = Path(tempfile.mkdtemp(prefix="serviceideas-bench-cluster-"))
    try:
        with Cluster(url, redis.url, folder, app="bench.app:app") as cluster:
            cookie, csrf = sign_in(cluster.base)
            pages: dict[str, Any] = {}
            for path in CLUSTER_PAGES:
                queries = warm_up(cluster.base, path, cookie, csrf)
                figures = wrk(cluster.base, path, seconds, cookie, csrf)
                figures["queries"] = queries
                pages[path] = figures
                print(
                    f"    nginx, 2 instances, Redis: {path:20} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms",
                    flush=True,
                )
            served = cluster.served()
    finally:
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {"pages": pages, "served_by_each_instance": served}


def measure(
    url: str, scale: str, seconds: int, *, pages_too: bool = True, cluster_too: bool = False
) -> dict[str, Any]:
    staff, ideas = SCALES[scale]
    counts = seed(url, staff, ideas)
    print(f"  seeded {scale}: {counts}", flush=True)
    server = Server(url)
    try:
        cookie, csrf = sign_in(server.base)
        if not pages_too:
            return {
                "seed": counts,
                "assign": measure_assign_everyone(server.base, cookie, csrf),
                "import": measure_import(server.base, url, cookie, csrf),
            }
        pages: dict[str, Any] = {}
        # The trivial route last: each worker's first 10,000 requests are then the app's own
        # pages, and its memory after them is compared with its memory at the end.
        for path in [*TARGETS, "/bench/trivial"]:
            queries = warm_up(server.base, path, cookie, csrf)
            figures = wrk(server.base, path, seconds, cookie, csrf)
            figures["queries"] = queries
            figures["rss_mb"] = max(server.worker_rss_mb())
            pages[path] = figures
            print(
                f"    {path:40} {figures['rps']:8.0f} req/s  p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms",
                flush=True,
            )
        memory = worker_memory(server.base)
        # Before the import below adds 10,000 people, so both runs see the same data; the direct
        # server waits meanwhile, idle.
        cluster = measure_cluster(url, seconds) if cluster_too else None
        full = scale == "full"
        assign = measure_assign_everyone(server.base, cookie, csrf) if full else None
        staff_import = measure_import(server.base, url, cookie, csrf) if full else None
    finally:
        server.stop()
    return {
        "seed": counts,
        "pages": pages,
        "memory": memory,
        "cluster": cluster,
        "assign": assign,
        "import": staff_import,
    }


def measure_assign_everyone(base: str, cookie: str, csrf: str) -> dict[str, Any]:
    """A trainer assigns a module to everyone: the request enrols and tells every active
    person (about 10,000 on the full data set). Three modules, one request each."""
    times = []
    opener = urllib.request.build_opener(NoRedirect)
    for module in (1, 2, 3):
        form = {
            "audience": "everyone",
            "due_kind": "relative",
            "due_days": "14",
            "repeat": "none",
            "submit": "Assign",
        }
        request = urllib.request.Request(
            f"{base}/training/modules/{module}/assign",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Cookie": cookie, "X-CSRFToken": csrf},
        )
        began = time.perf_counter()
        try:
            opener.open(request)
            raise RuntimeError("assigning answered without sending on to the assignments")
        except urllib.error.HTTPError as answer:
            if answer.code != 303:
                raise
        times.append((time.perf_counter() - began) * 1000)
    figures = {"requests_ms": [round(t) for t in times], "median_ms": round(sorted(times)[1])}
    print(f"    assigning a module to everyone: {figures['requests_ms']} ms", flush=True)
    return figures


IMPORT_ROWS = 10_000
COLLEAGUES = 4  # threads: half vote (a write), half read an idea's page


def measure_import(base: str, url: str, cookie: str, csrf: str) -> dict[str, Any]:
    """Import IMPORT_ROWS new people through the admin page (a background import in one of
    the workers) while colleagues vote and read; the same colleagues on a quiet server first.
    Returns the import's time (started to finished, as the database recorded it) and the
    colleagues' response times in both cases."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        teams = connection.execute(sa.text("SELECT name FROM departments ORDER BY id")).scalars()
        teams = list(teams)
    rows = "".join(
        f"new{n}@example.com,New Person {n:05d},{teams[n % len(teams)]},\n"
        for n in range(IMPORT_ROWS)
    )
    quiet = Colleagues(base, cookie, csrf).run_for(5)

    request = urllib.request.Request(
        base + "/admin/import",
        data=urllib.parse.urlencode(
            {"text": "email,name,department,roles\n" + rows, "apply": "Import"}
        ).encode(),
        headers={"Cookie": cookie, "X-CSRFToken": csrf},
    )
    colleagues = Colleagues(base, cookie, csrf).start()
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request)
        raise RuntimeError("the import page answered without starting an import")
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            raise
        job = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    while True:
        with engine.connect() as connection:
            started, finished, done, failure = connection.execute(
                sa.text(
                    "SELECT started_at, finished_at, rows_done, failure FROM staff_imports "
                    "WHERE id = :id"
                ),
                {"id": job},
            ).one()
        if failure:
            raise RuntimeError(f"the import stopped: {failure}")
        if finished is not None:
            break
        time.sleep(0.2)
    during = colleagues.stop()
    engine.dispose()
    seconds = (_as_datetime(finished) - _as_datetime(started)).total_seconds()
    figures = {"rows": done, "seconds": round(seconds, 1), "quiet": quiet, "during": during}
    print(
        f"    import of {done} people: {seconds:.1f} s ({done / seconds:.0f} rows/s); "
        f"colleagues' p99 {quiet['p99_ms']:.0f} ms quiet, {during['p99_ms']:.0f} ms during "
        f"(max {during['max_ms']:.0f} ms, {during['errors']} errors)",
        flush=True,
    )
    return figures


def _as_datetime(value: Any) -> datetime:
    """A timestamp as the driver gives it (SQLite: text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Colleagues:
    """COLLEAGUES threads voting (toggling a vote) and reading an idea's page in a loop,
    recording each response's time."""

    def __init__(self, base: str, cookie: str, csrf: str) -> None:
        self.base, self.cookie, self.csrf = base, cookie, csrf
        self.times_ms: list[float] = []
        self.errors = 0
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> Colleagues:
        for n in range(COLLEAGUES):
            thread = threading.Thread(target=self._work, args=(n % 2 == 0,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def run_for(self, seconds: float) -> dict[str, float]:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        times = sorted(self.times_ms)
        return {
            "requests": len(times),
            "p50_ms": round(times[len(times) // 2], 1),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
            "max_ms": round(times[-1], 1),
            "errors": self.errors,
        }

    def _work(self, votes: bool) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            if votes:
                request = urllib.request.Request(
                    self.base + "/ideas/2/vote",
                    data=f"vote={n % 2}".encode(),
                    headers={"Cookie": self.cookie, "X-CSRFToken": self.csrf, "HX-Request": "true"},
                )
            else:
                request = urllib.request.Request(
                    self.base + "/ideas/1", headers={"Cookie": self.cookie}
                )
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
            except (urllib.error.URLError, TimeoutError):
                self.errors += 1
            self.times_ms.append((time.perf_counter() - began) * 1000)


def worker_memory(base: str) -> list[dict[str, Any]]:
    """Each worker's requests served and resident memory after its first 10,000 and now."""

    def ask(_: int) -> dict[str, Any]:
        with urllib.request.urlopen(base + "/bench/memory") as response:
            return json.load(response)

    seen: dict[int, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:  # at once, so both workers answer
        for _ in range(20):
            for worker in pool.map(ask, range(16)):
                seen[worker["pid"]] = worker
            if len(seen) == 2:
                break
    return sorted(seen.values(), key=lambda w: w["pid"])


def table(database: str, full: dict[str, Any], small: dict[str, Any]) -> str:
    trivial = full["pages"]["/bench/trivial"]["rps"]
    lines = [
        f"{database}: {full['seed']['staff']} staff, {full['seed']['ideas']} ideas, {full['seed']['votes']} votes, "
        f"{full['seed']['comments']} comments, {full['seed']['enrolments']} enrolments (seeded in {full['seed']['seconds']} s)",
        f"{'page':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'queries':>8} {'vs trivial':>11} {'target':>7} {'p50 full/small':>15}",
    ]
    for path, figures in full["pages"].items():
        ratio = figures["rps"] / trivial
        target = TARGETS.get(path)
        flat = figures["p50_ms"] / max(small["pages"][path]["p50_ms"], 0.001)
        lines.append(
            f"{path:40} {figures['rps']:8.0f} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f} {figures['queries']:8d} "
            f"{ratio:10.0%} {'' if target is None else f'{target:.0%}':>7} {flat:14.2f}x"
        )
    assign = full.get("assign")
    if assign:
        lines.append(
            f"assigning a module to everyone ({full['seed']['staff']} staff), one request: "
            f"median {assign['median_ms']} ms of {assign['requests_ms']}"
        )
    staff_import = full.get("import")
    if staff_import:
        quiet, during = staff_import["quiet"], staff_import["during"]
        lines.append(
            f"import of {staff_import['rows']} people through the admin page: {staff_import['seconds']} s; "
            f"colleagues voting and reading meanwhile: p50 {during['p50_ms']} ms, p99 {during['p99_ms']} ms, "
            f"max {during['max_ms']} ms, {during['errors']} errors (quiet server: p50 {quiet['p50_ms']} ms, "
            f"p99 {quiet['p99_ms']} ms)"
        )
    cluster = full.get("cluster")
    if cluster:
        lines.append(cluster_table(full["pages"], cluster))
    worst = max(p["rss_mb"] for p in full["pages"].values())
    lines.append(f"largest worker: {worst:.0f} MB resident")
    for worker in full.get("memory", []):
        first = worker["rss_mb_after_first"]
        growth = f"{worker['now_mb'] / first - 1:+.1%}" if first else "n/a (fewer than 10,000)"
        lines.append(
            f"worker {worker['pid']}: {worker['requests']} requests, {first or 0:.0f} MB after the first 10,000, "
            f"{worker['now_mb']:.0f} MB at the end ({growth})"
        )
    return "\n".join(lines)


def cluster_table(direct: dict[str, Any], cluster: dict[str, Any]) -> str:
    """The cluster run beside the direct one: what nginx, a second instance and Redis cost."""
    lines = [
        "through nginx, 2 instances of 2 workers, Redis (direct: gunicorn alone, 2 workers, no Redis); "
        f"requests answered by each instance: {cluster['served_by_each_instance']}",
        f"{'page':40} {'req/s':>8} {'direct':>8} {'p50 ms':>8} {'direct':>8} {'p99 ms':>8} {'direct':>8} {'queries':>8} {'vs trivial':>11}",
    ]
    trivial = cluster["pages"]["/bench/trivial"]["rps"]
    for path, figures in cluster["pages"].items():
        alone = direct[path]
        lines.append(
            f"{path:40} {figures['rps']:8.0f} {alone['rps']:8.0f} {figures['p50_ms']:8.1f} {alone['p50_ms']:8.1f} "
            f"{figures['p99_ms']:8.1f} {alone['p99_ms']:8.1f} {figures['queries']:8d} {figures['rps'] / trivial:10.0%}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--postgres-url", default=os.environ.get("SERVICEIDEAS_BENCH_POSTGRES_URL"))
    parser.add_argument(
        "--import-only", action="store_true", help="only the staff import, on the full data set"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    work = Path(tempfile.mkdtemp(prefix="serviceideas-bench-"))
    for database in args.databases.split(","):
        if database == "sqlite":
            url = f"sqlite:///{work / 'bench.sqlite'}"
        elif args.postgres_url:
            url = args.postgres_url
        else:
            print("postgresql: no --postgres-url given; skipped", flush=True)
            continue
        print(f"{database}:", flush=True)
        if args.import_only:
            results[database] = {"full": measure(url, "full", args.seconds, pages_too=False)}
            continue
        small = measure(url, "small", args.seconds)
        full = measure(url, "full", args.seconds, cluster_too=database == "postgresql")
        results[database] = {"small": small, "full": full}
        print("\n" + table(database, full, small) + "\n", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{results['when'].replace(':', '-')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out.relative_to(ROOT)}")


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    return f"{os.cpu_count()} cores, {cpu}"


if __name__ == "__main__":
    main()
