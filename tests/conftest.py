"""Fixtures for every test: an app per set of settings, empty tables per test, factories, helpers.

The database comes from SERVICEIDEAS_TEST_DATABASE_URL (scripts/test-all sets it for the
PostgreSQL run); without it, a SQLite file in a temporary folder. Under pytest-xdist each
worker has a database of its own: its own temporary folder on SQLite, and on PostgreSQL a
database named after the given one and the worker (`serviceideas_test_gw0`), made afresh at the
start of the run and dropped at its end.

The suite does not use pytest-flask (`-p no:flask` in pyproject.toml blocks it where it is still
installed): its autouse fixture pushes one request context for a whole test, so Flask-Login's
cached user and the database session would leak from one request to the next, and a
signed-out client could appear signed in. The `app` and `client` fixtures below and
`IsolatedClient` are the one place that decides how a test and its requests share contexts.
"""

from __future__ import annotations

import contextvars
import fcntl
import itertools
import os
import pickle
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient

from serviceideas import create_app, figures
from serviceideas.extensions import db, limiter
from serviceideas.people.models import Department, DepartmentKind, Role, User
from serviceideas.people.services import password_set_token
from tests.identity_provider import IdentityProvider, skip_unless_available

# Generated input (tests/test_fuzz.py): a modest number of examples in `make test`, many more in
# `make fuzz` (`pytest --hypothesis-profile=fuzz`). Examples are not kept between runs.
hypothesis.settings.register_profile(
    "ci",
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
hypothesis.settings.register_profile(
    "fuzz", hypothesis.settings.get_profile("ci"), max_examples=200
)
hypothesis.settings.load_profile("ci")

PASSWORD = "correct horse battery"
# Test people's passwords are hashed with few rounds: the suite signs many people in.
FAST_PASSWORD_HASH = "pbkdf2:sha256:1000"
_counter = itertools.count(1)


def on_postgresql_run() -> bool:
    url = os.environ.get("SERVICEIDEAS_TEST_DATABASE_URL")
    return bool(url) and sa.engine.make_url(url).get_backend_name() == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres_only` (advisory locks, a server that goes away) belong to the
    PostgreSQL run: the SQLite run leaves them out (deselected, not skipped, so a skip in
    CI always means something is missing)."""
    if on_postgresql_run():
        return
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker("postgres_only") else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def xdist_worker() -> str:
    """This pytest-xdist worker's name (gw0, gw1, …), or "" in a run without workers."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


@contextmanager
def database_of_its_own(url: str, name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database `name` on the server of `url`, dropped afterwards."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("SERVICEIDEAS_TEST_DATABASE_URL")
    if not url:
        # pytest-xdist gives each worker a temporary folder of its own.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    elif not xdist_worker() or sa.engine.make_url(url).get_backend_name() != "postgresql":
        yield url
    else:
        name = f"{sa.engine.make_url(url).database}_{xdist_worker()}"
        with database_of_its_own(url, name) as worker_url:
            yield worker_url


def settings_for_tests(database_url: str, **overrides: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVICEIDEAS_ASSETS": "local",
        "WTF_CSRF_ENABLED": False,  # tests of CSRF itself turn it back on
        "PASSWORD_HASH_METHOD": FAST_PASSWORD_HASH,  # production uses scrypt
        "FIGURES_CACHE_SECONDS": 0,  # tests read figures fresh (test_figures.py tests the cache)
        **overrides,
    }


@pytest.fixture(scope="session")
def _schema(database_url: str) -> Iterator[None]:
    """Create the tables once per run; each test then starts from empty tables."""
    app = app_for(settings_for_tests(database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield


_SEQUENCES: dict[str, tuple[str, ...]] = {}  # per database: the schema is made once a run


def _sequences(connection: sa.Connection) -> tuple[str, ...]:
    url = str(connection.engine.url)
    if url not in _SEQUENCES:
        _SEQUENCES[url] = tuple(
            connection.execute(
                sa.text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                    "FROM pg_sequences WHERE schemaname = current_schema()"
                )
            ).scalars()
        )
    return _SEQUENCES[url]


def _emptying_script(connection: sa.Connection, tables: list[sa.Table]) -> str:
    """Empty `tables` (children first) and start their ids from 1 again, as TRUNCATE …
    RESTART IDENTITY would."""
    sequences = _sequences(connection)
    return "; ".join(
        [f'DELETE FROM "{table.name}"' for table in tables]  # noqa: S608 (the models' own names)
        + [f"ALTER SEQUENCE {sequence} RESTART" for sequence in sequences]
    )


def empty_all_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # One round trip of DELETEs and sequence restarts: a TRUNCATE of every table
                # made new files for each table and index, 35 ms a test against 7.
                connection.exec_driver_sql(_emptying_script(connection, tables))
            else:
                # Rows may point at rows of their own table (a merged idea at its target).
                connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                for table in tables:
                    connection.execute(table.delete())
        # PostgreSQL's connections stay pooled for the next test of this app: a new one costs
        # 10 ms or more (a server process each), several a test, and made the PostgreSQL run a
        # minute longer. Dropped when the app is (app_for keeps a few).
        if db.engine.dialect.name != "postgresql":
            db.engine.dispose()


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The test itself holds an app context (to use `db.session`); a request started inside it
    would reuse it, sharing `g` (Flask-Login's cached user) and the database session. So each
    request runs in a new, empty `contextvars.Context`, where Flask pushes fresh contexts of
    its own. The test's own session is committed around each request, so the request sees
    what the test set up and the test then reads what the request stored.

    Never use it as `with client:` (Flask would keep the request's contexts, pushed in the
    request's own `Context`, for the test to inspect): read the database instead.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.commit()
        return response


_apps: dict[str, Flask] = {}  # the most recently used last
KEEP_APPS = 8  # settings that change per test (a free port) would otherwise pile up


def app_for(settings: dict[str, Any]) -> Flask:
    """The app for these settings, made once per test process (per pytest-xdist worker).

    Making an app costs more than most tests: a new engine compiles every SQL statement again,
    a new Jinja environment every template, and Werkzeug every URL rule. So tests with the same
    settings share one app, which the `app` fixture puts back as it was after each test.
    """
    key = repr(sorted(settings.items()))
    app = _apps.pop(key, None)
    if app is None:
        app = create_app(settings)
        app.test_client_class = IsolatedClient
    _apps[key] = app
    while len(_apps) > KEEP_APPS:
        dropped = _apps.pop(next(iter(_apps)))
        with dropped.app_context():
            db.engine.dispose()  # its pooled connections go with it
    return app


@pytest.fixture
def app(_schema: None, database_url: str, app_settings: dict[str, Any]) -> Iterator[Flask]:
    """The app on empty tables, its app context held for the test (for `db.session`).

    Afterwards the tables are emptied, the settings the test changed are put back, and the
    rate limits and remembered figures are forgotten, so the next test finds the app as new.
    """
    app = app_for(settings_for_tests(database_url, **app_settings))
    settings = dict(app.config)
    with app.app_context():
        yield app
    with app.app_context():  # this app's counters only: another test's app may be unreachable
        # Before the tables are emptied, which ends with the engine's connections closed: so
        # the test's own connection serves both (a new one is 10 ms or more on PostgreSQL).
        limiter.reset()
    empty_all_tables(app)
    app.config.clear()
    app.config.update(settings)
    figures.init_app(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A signed-out test client (an `IsolatedClient`)."""
    return app.test_client()


# The demo company


@dataclass(frozen=True)
class Seeded:
    """What `flask seed-demo` answered when it made the demo company."""

    exit_code: int
    output: str


@pytest.fixture
def demo_company(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The demo company (`flask seed-demo`) in this test's tables (see `put_demo_company`)."""
    return put_demo_company(tmp_path_factory)


def put_demo_company(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """Put the demo company (`flask seed-demo`) into the current app's empty tables.

    Seeding runs the demo's every service call, seconds each time, and several tests want the
    company. So the first of a run to ask seeds it for real and writes every row down, in a
    folder all pytest-xdist workers of the run share; every later one, on any worker, puts
    those rows back into its empty tables (a tenth of a second) and gets the command's answer
    as it was. The rows are the demo's own, so a change to the demo shows in every test that
    reads them. Their times are those of the seeding, minutes before at most.
    """
    shared = tmp_path_factory.getbasetemp()
    if xdist_worker():
        shared = shared.parent  # the run's folder, above each worker's own
    dump = shared / f"demo-company-{db.engine.dialect.name}.pickle"
    with (shared / "demo-company.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one seeding a run: the others wait for its rows
        if dump.exists():
            seeded, rows = pickle.loads(dump.read_bytes())  # noqa: S301 (this run's own file)
            _put_back(rows)
            return seeded
        result = current_app.test_cli_runner().invoke(args=["seed-demo"])
        seeded = Seeded(result.exit_code, result.output)
        if seeded.exit_code == 0:
            written = dump.with_suffix(".partial")
            written.write_bytes(pickle.dumps((seeded, _every_row())))
            written.rename(dump)
        return seeded


def _every_row() -> dict[str, list[dict[str, Any]]]:
    db.session.commit()
    return {
        table.name: [
            dict(zip(table.columns.keys(), row, strict=True))
            for row in db.session.execute(sa.select(table).order_by(*table.primary_key.columns))
        ]
        for table in db.metadata.sorted_tables
    }


def _put_back(rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert rows `_every_row` wrote down into the empty tables, and move PostgreSQL's
    sequences past them (as the seeding left them)."""
    postgresql = db.engine.dialect.name == "postgresql"
    for table in db.metadata.sorted_tables:
        if not rows[table.name]:
            continue
        # A row may point at a later row of its own table (a merged idea at its target), and
        # checks may want the pointer from the start: rows go in once those they point at are.
        own = [fk for fk in table.foreign_keys if fk.column.table is table]
        waiting, there = rows[table.name], set()
        while waiting:
            ready, later = [], []
            for row in waiting:
                pointers = [row[fk.parent.key] for fk in own]
                (ready if all(p is None or p in there for p in pointers) else later).append(row)
            assert ready, f"{table.name}: rows point at each other in a circle"
            db.session.execute(table.insert(), ready)
            there |= {row[fk.column.key] for row in ready for fk in own}
            waiting = later
        column = table.autoincrement_column
        if postgresql and column is not None:
            sequence = sa.func.pg_get_serial_sequence(table.name, column.name)
            db.session.execute(sa.select(sa.func.setval(sequence, sa.func.max(column))))
    db.session.commit()


# Factories


@pytest.fixture
def make_department(app: Flask) -> Callable[..., Department]:
    def make(
        name: str | None = None, kind: DepartmentKind = DepartmentKind.FRONT_LINE
    ) -> Department:
        department = Department(name=name or f"Department {next(_counter)}", kind=kind)
        db.session.add(department)
        db.session.commit()
        return department

    return make


@pytest.fixture
def make_user(app: Flask, make_department: Callable[..., Department]) -> Callable[..., User]:
    def make(
        role: Role | str | None = None,
        *,
        roles: tuple[Role | str, ...] = (),
        email: str | None = None,
        name: str | None = None,
        department: Department | None = None,
        password: str | None = PASSWORD,
        active: bool = True,
    ) -> User:
        from werkzeug.security import generate_password_hash

        n = next(_counter)
        user = User(
            email=email or f"person{n}@example.com",
            name=name or f"Person {n}",
            department=department or make_department(),
            active=active,
            password_hash=generate_password_hash(password, method=FAST_PASSWORD_HASH)
            if password
            else None,
        )
        user.set_roles({Role(r) for r in (*roles, *([role] if role else []))} - {Role.EMPLOYEE})
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_idea(make_user: Callable[..., User]) -> Callable[..., Any]:
    """An idea, moved through the pipeline to `status` by a manager if asked."""
    from serviceideas.ideas import services as ideas
    from serviceideas.ideas.models import Lens, Status

    path = {
        Status.SUBMITTED: [],
        Status.UNDER_REVIEW: [Status.UNDER_REVIEW],
        Status.APPROVED: [Status.UNDER_REVIEW, Status.APPROVED],
        Status.IN_PROGRESS: [Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS],
        Status.IMPLEMENTED: [
            Status.UNDER_REVIEW,
            Status.APPROVED,
            Status.IN_PROGRESS,
            Status.IMPLEMENTED,
        ],
        Status.DECLINED: [Status.DECLINED],
    }

    def make(
        status: Any = None,
        *,
        author: User | None = None,
        title: str | None = None,
        problem: str = "Customers wait too long on the phone.",
        proposal: str = "Call them back instead.",
        lens: Any = None,
        beneficiary: Department | None = None,
        reviewer: User | None = None,
        **when: Any,
    ) -> Any:
        author = author or make_user()
        draft = ideas.IdeaDraft(
            title=title or f"Idea {next(_counter)}",
            problem=problem,
            proposal=proposal,
            lens=lens or Lens.CARE,
            beneficiary=beneficiary,
        )
        idea = ideas.submit_idea(author, draft, **when)
        reviewer = reviewer or (make_user(Role.MANAGER) if status else None)
        for step in path[Status(status or Status.SUBMITTED)]:
            note = "Done, and it worked." if step is Status.IMPLEMENTED else "Because."
            ideas.change_status(
                reviewer,
                idea,
                ideas.Decision(
                    step,
                    note=note,
                    implemented_on=idea.created_at.date() if step is Status.IMPLEMENTED else None,
                ),
                **when,
            )
        db.session.commit()
        return idea

    return make


@pytest.fixture
def make_module(make_user: Callable[..., User]) -> Callable[..., Any]:
    """A training module, published unless asked otherwise."""
    from serviceideas.training import services as training
    from serviceideas.training.models import ModuleKind

    def make(
        kind: str = "reading",
        *,
        title: str | None = None,
        body: str = "Everyone serves someone.",
        publish: bool = True,
        author: User | None = None,
    ) -> Any:
        author = author or make_user(Role.TRAINER)
        module = training.create_module(
            author,
            training.ModuleDraft(
                title=title or f"Module {next(_counter)}",
                summary="What creating value for others means.",
                body=body,
                kind=ModuleKind(kind),
                prompt=None if kind == "reading" else "What did you notice?",
                minutes=15,
            ),
        )
        if publish:
            training.publish(author, module)
        db.session.commit()
        return module

    return make


@pytest.fixture
def make_enrolment(make_user: Callable[..., User], make_module: Callable[..., Any]) -> Any:
    """One person enrolled in a module through an assignment to them; completed if `answer`."""
    from datetime import timedelta

    from serviceideas.database import utcnow
    from serviceideas.training import services as training
    from serviceideas.training.models import Audience, Enrolment

    def make(
        kind: str = "reading",
        *,
        learner: User | None = None,
        module: Any = None,
        answer: str | None = None,
        due_days: int = 14,
        today: Any = None,
    ) -> Enrolment:
        learner = learner or make_user()
        module = module or make_module(kind)
        today = today or utcnow().date()
        assignment = training.create_assignment(
            module.author,
            module,
            training.AssignmentDraft(Audience.PEOPLE, people=[learner], due_days=due_days),
            today=today,
        )
        enrolment = db.session.scalar(
            sa.select(Enrolment).where(Enrolment.assignment_id == assignment.id)
        )
        if answer is not None:  # "" completes a reading
            training.complete(learner, enrolment, answer, now=utcnow() + timedelta(seconds=1))
        db.session.commit()
        return enrolment

    return make


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    """One person per role, keyed by role name."""
    return {role.value: make_user(role) for role in Role}


def add_failed_delivery(name: str, registered_by: User, message_id: str) -> Any:
    """A webhook endpoint `registered_by` registered, named `name`, with one delivery that
    failed (so it can be sent again); added to the session, ids assigned."""
    from serviceideas.webhooks.models import (
        DeliveryState,
        EndpointKind,
        WebhookDelivery,
        WebhookEndpoint,
        WebhookEvent,
    )

    endpoint = WebhookEndpoint(
        name=name,
        url="https://93.184.216.34/hooks",
        kind=EndpointKind.JSON,
        events="idea.submitted",
        secret="whsec_" + "A" * 43,
        created_by=registered_by,
    )
    event = WebhookEvent(type="idea.submitted", payload="{}")
    db.session.add_all([endpoint, event])
    db.session.flush()
    delivery = WebhookDelivery(
        endpoint=endpoint,
        event_id=event.id,
        message_id=message_id,
        state=DeliveryState.FAILED,
        attempts=1,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery


@pytest.fixture
def url_values(
    app: Flask,
    make_user: Callable[..., User],
    make_department: Callable[..., Department],
    make_idea: Callable[..., Any],
    make_enrolment: Callable[..., Any],
) -> dict[str, Any]:
    """A real object for each kind of URL parameter, and a working token for each kind of link.

    The objects belong to someone other than the person a test signs in, so routes for an
    object's owner refuse everyone here (each feature's tests cover the owner's own use).
    """
    from serviceideas.ideas import services as ideas
    from serviceideas.notifications.services import calendar_token, unsubscribe_token

    target = make_user(password=None)
    idea = make_idea(author=target)
    comment = ideas.add_comment(make_user(), idea, "Someone else's comment")
    enrolment = make_enrolment(kind="reflection", answer="A" * 60)
    from serviceideas.notifications.models import Category, Target
    from serviceideas.notifications.services import notify

    notify(target.id, Category.IDEAS, "someone-elses", "For someone else", Target.IDEA, idea.id)
    from serviceideas.database import utcnow
    from serviceideas.people.models import StaffImport

    # A finished staff import, which therefore can be neither resumed nor imported again.
    job = StaffImport(
        started_by=target, applies=True, file_name="staff.csv", rows_total=0, finished_at=utcnow()
    )
    db.session.add(job)
    from serviceideas.ideas.models import JourneyStage

    stage = JourneyStage(name="Paying", explanation="The customer pays us.")
    db.session.add(stage)
    # A webhook endpoint someone else registered, with a delivery that failed (so it can be
    # sent again).
    delivery = add_failed_delivery("Reporting", target, "msg_matrix")
    endpoint = delivery.endpoint
    from serviceideas.scim.models import ScimToken

    # A live SCIM token someone else made (its hash is of no token anyone holds).
    scim_token = ScimToken(
        name="Okta", token_hash="0" * 64, prefix="scim_0000000", created_by=target
    )
    db.session.add(scim_token)
    from datetime import timedelta

    from serviceideas.api.models import ApiToken

    # Someone else's live API token (its hash is of no token anyone holds).
    api_token = ApiToken(
        user_id=target.id,
        name="Report script",
        token_hash="1" * 64,
        prefix="si_0000000",
        scopes="read",
        expires_at=utcnow() + timedelta(days=30),
    )
    db.session.add(api_token)
    db.session.commit()
    notification_id = db.session.scalar(sa.text("SELECT max(id) FROM notifications"))
    values = {
        "endpoint_id": endpoint.id,
        "delivery_id": delivery.id,
        "enrolment_id": enrolment.id,
        "module_id": enrolment.assignment.module_id,
        "assignment_id": enrolment.assignment_id,
        "user_id": target.id,
        "idea_id": idea.id,
        "comment_id": comment.id,
        "department_id": make_department().id,
        "password_token": password_set_token(target),
        "unsubscribe_token": unsubscribe_token(target.id, Category.IDEAS),
        "calendar_token": calendar_token(enrolment.user),  # the learner's: a feed with an event
        "filename": "css/app.css",
        "table": "departments",
        "notification_id": notification_id,
        "job_id": job.id,
        "stage_id": stage.id,
        "token_id": scim_token.id,
        "api_token_id": api_token.id,
    }
    db.session.commit()  # the calendar token turned the learner's feed on
    return values


def login_as(client: FlaskClient, user: User) -> FlaskClient:
    """Sign `user` in on `client` the way Flask-Login remembers them, without the form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def client_as(app: Flask) -> Callable[[User | None], FlaskClient]:
    """A new test client signed in as the given person (or signed out for None)."""

    def make(user: User | None) -> FlaskClient:
        client = app.test_client()
        return login_as(client, user) if user is not None else client

    return make


# Pages' tables


class _TableRows(HTMLParser):
    """The text of every cell of every table row on a page (whitespace collapsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td") and self.rows:
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None


def table_rows(page: str) -> list[list[str]]:
    """Every table row of `page`, as the text of its cells, in page order."""
    parser = _TableRows()
    parser.feed(page)
    return parser.rows


# Query counting


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class QueryLog(list[str]):
    @property
    def count(self) -> int:
        return len(self)


@contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Collect the SQL statements run inside the block (on the current app's engine)."""
    log = QueryLog()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            log.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# Redis (REDIS_URL): a throwaway server per test process, started when a test first asks for it


class ThrowawayRedis:
    """A Redis on 127.0.0.1 started by scripts/throwaway-redis; `down()` and `up()` stop it
    and start it again on the same port (empty: it keeps nothing on disk)."""

    SCRIPT = str(Path(__file__).resolve().parent.parent / "scripts" / "throwaway-redis")

    def __init__(self) -> None:
        started = subprocess.run(
            [self.SCRIPT, "start"], check=True, capture_output=True, text=True
        ).stdout.split()
        self.folder, self.url = started[0], started[-1]

    def down(self) -> None:
        subprocess.run([self.SCRIPT, "down", self.folder], check=True)

    def up(self) -> None:
        subprocess.run([self.SCRIPT, "up", self.folder], check=True)

    def stop(self) -> None:
        subprocess.run([self.SCRIPT, "stop", self.folder], check=True)

    def flush(self) -> None:
        import redis

        with redis.Redis.from_url(self.url) as client:
            client.flushdb()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    """A Redis of this test process's own. In CI a missing redis-server is a failure."""
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI: redis-server is required (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI runs this")
    server = ThrowawayRedis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: ThrowawayRedis) -> Iterator[str]:
    """The URL of an empty Redis, up; for app settings: `{"REDIS_URL": redis_url}`."""
    if not _answers(redis_server.url):
        redis_server.up()
    redis_server.flush()
    yield redis_server.url
    if not _answers(redis_server.url):
        redis_server.up()  # a test that stopped it leaves it running for the next


def _answers(url: str) -> bool:
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


# OpenID Connect: a real provider (oidc-provider from npm, tests/identity_provider) per test process


TEST_BASE_URL = "http://127.0.0.1:5000"  # Config.BASE_URL, which settings_for_tests keeps


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    """An OpenID provider of this test process's own, with the app registered at
    TEST_BASE_URL. In CI a missing node or oidc-provider is a failure."""
    skip_unless_available()
    provider = IdentityProvider(
        [f"{TEST_BASE_URL}/login/oidc/callback"], [f"{TEST_BASE_URL}/login"]
    )
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def oidc(identity_provider: IdentityProvider) -> IdentityProvider:
    """The provider, knowing nobody and behaving (no mischief); for app settings:
    `oidc.settings()`."""
    identity_provider.reset()
    return identity_provider
