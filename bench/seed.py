"""Fill a database with a company of a given size, fast: bulk inserts, never the ORM row by row.

    python -m bench.seed --database-url URL --scale full      # 10,000 staff, 100,000 ideas
    python -m bench.seed --database-url URL --scale small     # 1/100 of that
    python -m bench.seed --database-url URL --staff 500 --ideas 4000

The database is emptied and rebuilt with the app's migrations first. The data obeys every
constraint the app's own rules would (legal status histories, one vote per person, evidence
for implemented ideas), so the pages see what a real company's database holds.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

SCALES = {"full": (10_000, 100_000), "small": (100, 1_000)}
BENCH_EMAIL = "bench@example.com"
BENCH_PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway benchmark database
VOTES_PER_IDEA = 10
COMMENTS_PER_IDEA = 2
BUSY_IDEA_COMMENTS = 50
ASSIGNMENTS = 45
BATCH = 20_000

STATUS_MIX = [
    ("implemented", 30),
    ("in_progress", 10),
    ("approved", 10),
    ("under_review", 15),
    ("submitted", 25),
    ("declined", 10),
]
PATHS = {
    "submitted": [],
    "under_review": ["under_review"],
    "approved": ["under_review", "approved"],
    "in_progress": ["under_review", "approved", "in_progress"],
    "implemented": ["under_review", "approved", "in_progress", "implemented"],
    "declined": ["declined"],
}
LENSES = ["learn", "care", "teach", "remove_go_away"]
WORDS = [
    "customer",
    "delivery",
    "store",
    "phone",
    "queue",
    "refund",
    "invoice",
    "engineer",
    "van",
    "stock",
    "return",
    "callback",
    "order",
    "booking",
    "password",
    "laptop",
    "report",
    "shelf",
    "parcel",
    "warranty",
    "appointment",
    "message",
    "app",
]


def _insert(connection: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert in batches; returns the number of rows."""
    batch: list[dict[str, Any]] = []
    total = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            connection.execute(sa.insert(table), batch)
            total += len(batch)
            batch = []
    if batch:
        connection.execute(sa.insert(table), batch)
        total += len(batch)
    return total


def seed(url: str, staff: int, ideas: int, *, seed_value: int = 42) -> dict[str, Any]:
    from flask_migrate import upgrade

    from serviceideas import create_app
    from serviceideas.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "ENV_NAME": "development"}
    )
    started = time.perf_counter()
    _empty_database(url)
    with app.app_context():
        upgrade()
        metadata = db.metadata
        with db.engine.begin() as connection:
            counts = _fill(connection, metadata.tables, staff, ideas, random.Random(seed_value))
        db.engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _empty_database(url: str) -> None:
    """Start from nothing: the file goes, or PostgreSQL's schema is made anew. Not a downgrade:
    the migrations' downgrades carry data back, which the bench does not need and which failed
    on the seeded data (training's 'no lost work', e0a74f3b1c85)."""
    address = sa.engine.make_url(url)
    if address.get_backend_name() == "sqlite":
        if address.database:
            Path(address.database).unlink(missing_ok=True)
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _fill(
    connection: sa.Connection, t: Any, staff: int, ideas: int, rng: random.Random
) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=3 * 365)
    password = generate_password_hash(BENCH_PASSWORD, method="pbkdf2:sha256:600000")

    # Departments: about one per 250 people, a third of them back office.
    department_count = max(4, staff // 250)
    departments = [
        {
            "id": i + 1,
            "name": f"Team {i + 1:03d}",
            "kind": "back_office" if i % 3 == 0 else "front_line",
            "created_at": start,
        }
        for i in range(department_count)
    ]
    _insert(connection, t["departments"], departments)

    def person(i: int) -> dict[str, Any]:
        bench = i == 1
        return {
            "id": i,
            "email": BENCH_EMAIL if bench else f"person{i}@example.com",
            "name": "Bench Admin" if bench else f"Person {i:05d}",
            "password_hash": password if bench else None,
            "department_id": 1 if bench else rng.randint(1, department_count),
            "is_trainer": bench,
            "is_manager": bench,
            "is_admin": bench,  # the staff import's benchmark signs in as an admin
            "active": bench or rng.random() > 0.03,
            "session_token": f"token{i}",
            "created_at": start,
            "updated_at": start,
        }

    people = [person(i) for i in range(1, staff + 1)]
    _insert(connection, t["users"], people)
    department_of = {p["id"]: p["department_id"] for p in people}

    # Ideas, each with a legal history; one of them is the "50 comments" idea.
    statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
    idea_rows, changes, vote_rows, comment_rows = [], [], [], []
    change_id = comment_id = 0
    for idea_id in range(1, ideas + 1):
        author = rng.randint(1, staff) if idea_id != 2 else min(3, staff)
        created = start + timedelta(
            seconds=rng.randint(0, int((now - start).total_seconds()) - 86_400 * 40)
        )
        status = rng.choice(statuses) if idea_id != 2 else "submitted"  # the vote benchmark's idea
        moment = created
        change_id += 1
        changes.append(
            {
                "id": change_id,
                "idea_id": idea_id,
                "actor_id": author,
                "from_status": None,
                "to_status": "submitted",
                "note": "",
                "changed_at": created,
            }
        )
        previous = "submitted"
        for step in PATHS[status]:
            moment += timedelta(days=rng.randint(1, 9), seconds=rng.randint(0, 80_000))
            change_id += 1
            changes.append(
                {
                    "id": change_id,
                    "idea_id": idea_id,
                    "actor_id": 1,
                    "from_status": previous,
                    "to_status": step,
                    "note": "Reviewed." if step != "implemented" else "It works.",
                    "changed_at": moment,
                }
            )
            previous = step
        voters = rng.sample(
            range(2, staff + 1), k=min(staff - 1, rng.randint(0, 2 * VOTES_PER_IDEA))
        )
        voters = [v for v in voters if v != author]
        for voter in voters:
            vote_rows.append(
                {"idea_id": idea_id, "user_id": voter, "created_at": created + timedelta(hours=1)}
            )
        n_comments = BUSY_IDEA_COMMENTS if idea_id == 1 else rng.randint(0, 2 * COMMENTS_PER_IDEA)
        for _ in range(n_comments):
            comment_id += 1
            comment_rows.append(
                {
                    "id": comment_id,
                    "idea_id": idea_id,
                    "author_id": rng.randint(1, staff),
                    "body": " ".join(rng.choices(WORDS, k=12)),
                    "created_at": created + timedelta(hours=2),
                    "edited_at": None,
                    "removed_at": None,
                    "removed_by_id": None,
                }
            )
        words = rng.choices(WORDS, k=6)
        idea_rows.append(
            {
                "id": idea_id,
                "title": " ".join(words[:4]).capitalize(),
                "problem": " ".join(rng.choices(WORDS, k=30)),
                "proposal": " ".join(rng.choices(WORDS, k=30)),
                "lens": rng.choice(LENSES),
                "beneficiary_department_id": None
                if rng.random() < 0.6
                else rng.randint(1, department_count),
                "author_id": author,
                "author_department_id": department_of[author],
                "status": status,
                "owner_id": None,
                "implemented_on": moment.date() if status == "implemented" else None,
                "implementation_note": "It works." if status == "implemented" else None,
                "merged_into_id": None,
                "vote_count": len(voters),
                "created_at": created,
                "status_changed_at": moment,
                "version": 1 + len(PATHS[status]),
            }
        )
    _insert(connection, t["ideas"], idea_rows)
    _insert(connection, t["status_changes"], changes)
    _insert(connection, t["votes"], vote_rows)
    _insert(connection, t["comments"], comment_rows)

    # Training: modules, assignments to everyone and to departments, enrolments.
    kinds = ["reading", "reflection", "activity"]
    modules = [
        {
            "id": m,
            "title": f"Module {m}",
            "summary": "Everyone serves someone.",
            "body": "## Why\n\nBecause.",
            "kind": kinds[m % 3],
            "prompt": None if kinds[m % 3] == "reading" else "What did you notice?",
            "minutes": 15,
            "status": "published",
            "version": 1,
            "author_id": 1,
            "created_at": start,
            "updated_at": start,
            "published_at": start,
        }
        for m in range(1, 21)
    ]
    _insert(connection, t["modules"], modules)
    assignments, audience_rows = [], []
    for a in range(1, ASSIGNMENTS + 1):
        everyone = a % 3 == 0
        starts = (now - timedelta(days=rng.randint(10, 700))).date()
        assignments.append(
            {
                "id": a,
                "module_id": (a % 20) + 1,
                "audience": "everyone" if everyone else "departments",
                "due_on": None,
                "due_days": 30,
                "repeat": "none",
                "starts_on": starts,
                "assigned_by_id": 1,
                "created_at": now,
                "withdrawn_at": None,
            }
        )
        if not everyone:
            for d in rng.sample(range(1, department_count + 1), k=max(1, department_count // 2)):
                audience_rows.append({"assignment_id": a, "department_id": d})
    _insert(connection, t["assignments"], assignments)
    _insert(connection, t["assignment_departments"], audience_rows)
    targeted: dict[int, set[int]] = {}
    for row in audience_rows:
        targeted.setdefault(row["assignment_id"], set()).add(row["department_id"])
    today = now.date()
    enrolments, reflections = [], []
    enrolment_id = 0
    for assignment in assignments:
        kind = modules[assignment["module_id"] - 1]["kind"]
        for p in people:
            if not p["active"] or (
                assignment["audience"] == "departments"
                and p["department_id"] not in targeted[assignment["id"]]
            ):
                continue
            enrolment_id += 1
            due = assignment["starts_on"] + timedelta(days=30)
            done = rng.random() < 0.6
            completed = (
                datetime.combine(
                    assignment["starts_on"] + timedelta(days=rng.randint(1, 40)),
                    datetime.min.time(),
                    tzinfo=UTC,
                )
                if done
                else None
            )
            if completed and completed.date() > today:
                completed = now
            enrolments.append(
                {
                    "id": enrolment_id,
                    "assignment_id": assignment["id"],
                    "user_id": p["id"],
                    "period_start": assignment["starts_on"],
                    "enrolled_on": assignment["starts_on"],
                    "due_on": due,
                    "completed_at": completed,
                    "completed_version": 1 if done else None,
                }
            )
            if done and kind != "reading":
                reflections.append(
                    {
                        "enrolment_id": enrolment_id,
                        "text": "I noticed that " + " ".join(rng.choices(WORDS, k=20)),
                        "written_at": completed,
                        "feedback": None,
                        "feedback_by_id": None,
                        "feedback_at": None,
                    }
                )
    _insert(connection, t["enrolments"], enrolments)
    _insert(connection, t["reflections"], reflections)

    if connection.dialect.name == "postgresql":  # ids were given: move the sequences on
        for table in (
            "departments",
            "users",
            "ideas",
            "status_changes",
            "comments",
            "modules",
            "assignments",
            "enrolments",
        ):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        connection.exec_driver_sql("ANALYZE")
    else:
        connection.exec_driver_sql("ANALYZE")
    return {
        "staff": staff,
        "ideas": ideas,
        "votes": len(vote_rows),
        "comments": len(comment_rows),
        "status_changes": len(changes),
        "enrolments": len(enrolments),
        "reflections": len(reflections),
        "busy_idea": 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", choices=sorted(SCALES))
    parser.add_argument("--staff", type=int)
    parser.add_argument("--ideas", type=int)
    args = parser.parse_args()
    staff, ideas = SCALES[args.scale or "small"]
    counts = seed(args.database_url, args.staff or staff, args.ideas or ideas)
    print(", ".join(f"{key} {value}" for key, value in counts.items()))


if __name__ == "__main__":
    main()
