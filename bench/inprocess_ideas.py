"""Time the idea pages in-process, without a server: the app's own cost per request.

    python -m bench.inprocess_ideas [--ideas 2000] [--staff 200] [--requests 300]
                                    [--rounds 5] [--database-url URL]

Seeds a company (bench/seed.py) into a throwaway SQLite file unless a database is given,
then asks Flask's test client for each page `--requests` times per round, signed in as the
benchmark's manager, with 25 cards a page. Prints milliseconds per request for each page:
the median round's wall time, and this process's CPU time in the median and in the best
round. On a machine others share, the best round's CPU time is the steadiest figure; compare
a change with and without it on the same machine, runs interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

PAGES = ["/ideas", "/ideas?q=phone", "/ideas/1"]
WARM_UP = 20


def measure(url: str, requests: int, rounds: int) -> dict[str, tuple[float, float, float]]:
    """Per page, per request: wall ms (median round), CPU ms (median and best round)."""
    from serviceideas import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-" + "x" * 40,
            "ENV_NAME": "development",
            "SERVICEIDEAS_ASSETS": "local",
            "PAGE_SIZE": 25,
        }
    )
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token1"  # the benchmark's manager, as bench/seed.py makes them
        session["_fresh"] = True
    for page in PAGES:
        response = client.get(page)
        if response.status_code != 200:
            raise SystemExit(f"{page} answered {response.status_code}: is the seed signed in?")
        for _ in range(WARM_UP):
            client.get(page)
    timings: dict[str, tuple[float, float, float]] = {}
    for page in PAGES:
        walls, cpus = [], []
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                client.get(page)
            walls.append((time.perf_counter() - wall) * 1000 / requests)
            cpus.append((time.process_time() - cpu) * 1000 / requests)
        timings[page] = (statistics.median(walls), statistics.median(cpus), min(cpus))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="a database to empty and seed (default: SQLite)")
    args = parser.parse_args()

    from bench.seed import seed

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        seed(url, args.staff, args.ideas)
        timings = measure(url, args.requests, args.rounds)
    print(f"{args.ideas} ideas, {args.requests} requests a round, median of {args.rounds} rounds")
    print(f"{'page':<20} {'wall ms':>8} {'CPU ms':>8} {'best CPU':>9}")
    for page, (wall, cpu, best) in timings.items():
        print(f"{page:<20} {wall:>8.2f} {cpu:>8.2f} {best:>9.2f}")


if __name__ == "__main__":
    main()
