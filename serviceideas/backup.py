"""A complete, re-importable dump of the data: every table, every row, as JSON lines.

    flask --app wsgi export backup.jsonl      # while the app runs: one consistent snapshot
    flask --app wsgi restore backup.jsonl     # into an empty database, migrated to the same version

The first line names the schema version (the Alembic revision); each further line is one
row: {"table": ..., "row": {...}}. Tables come parents first, so a restore never breaks a
foreign key, and PostgreSQL's id sequences are moved past the restored ids.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

import sqlalchemy as sa

from serviceideas.extensions import db

FORMAT = "serviceideas-dump/1"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    return value


def _typed(value: Any, column: sa.Column[Any]) -> Any:
    if isinstance(value, dict) and "$date" in value:
        text = value["$date"]
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    if isinstance(value, dict) and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value


def _schema_version(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def export(out: IO[str]) -> dict[str, int]:
    """Write every row of every table; one transaction, so the dump is consistent."""
    counts: dict[str, int] = {}
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        out.write(json.dumps({"format": FORMAT, "schema": _schema_version(connection)}) + "\n")
        for table in db.metadata.sorted_tables:
            counts[table.name] = 0
            order = list(table.primary_key.columns)
            for row in connection.execute(sa.select(table).order_by(*order)).mappings():
                out.write(
                    json.dumps({"table": table.name, "row": {k: _plain(v) for k, v in row.items()}})
                    + "\n"
                )
                counts[table.name] += 1
    return counts


class RestoreError(ValueError):
    pass


def _lines(source: IO[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(source, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                raise RestoreError(f"line {number} is not JSON: {error}") from None


def restore(source: IO[str], batch: int = 5000) -> dict[str, int]:
    """Load a dump into an empty database of the same schema version, in one transaction."""
    lines = _lines(source)
    header = next(lines, None)
    if not header or header.get("format") != FORMAT:
        raise RestoreError("This is not a serviceideas dump.")
    tables = {table.name: table for table in db.metadata.sorted_tables}
    counts: dict[str, int] = dict.fromkeys(tables, 0)
    with db.engine.begin() as connection:
        version = _schema_version(connection)
        # Both sides know their migration version (databases made by migrations do): they
        # must match, or columns could be missing on one side.
        if header.get("schema") and version and header["schema"] != version:
            raise RestoreError(
                f"The dump is of schema {header.get('schema')}, the database of {version}: "
                "migrate the database to the dump's version first."
            )
        for name, table in tables.items():
            if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                raise RestoreError(f"The database is not empty ({name} has rows).")
        pending: list[dict[str, Any]] = []
        current: sa.Table | None = None
        for entry in lines:
            target = tables.get(entry.get("table", ""))
            if target is None:
                raise RestoreError(f"Unknown table {entry.get('table')!r}.")
            if current is not None and target is not current and pending:
                connection.execute(sa.insert(current), pending)
                pending = []
            current = target
            pending.append({k: _typed(v, target.c[k]) for k, v in entry["row"].items()})
            counts[target.name] += 1
            if len(pending) >= batch:
                connection.execute(sa.insert(current), pending)
                pending = []
        if current is not None and pending:
            connection.execute(sa.insert(current), pending)
        if connection.dialect.name == "postgresql":
            for table in tables.values():
                if "id" in table.c and table.c.id.autoincrement is not False and counts[table.name]:
                    sequence = sa.func.pg_get_serial_sequence(table.name, "id")
                    highest = sa.select(sa.func.max(table.c.id)).scalar_subquery()
                    connection.execute(sa.select(sa.func.setval(sequence, highest)))
    return counts
