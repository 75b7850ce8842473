"""Backup and restore of the whole database, the same way on SQLite and PostgreSQL.

A backup is a gzip file of JSON lines: a header (format, schema revision,
time, row counts), then one line per row, table by table in foreign-key
order. Restore needs a database at the same schema revision (run
`flask --app run db upgrade` first); it replaces every row in one transaction,
so a failure leaves the database as it was.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby, islice
from operator import itemgetter

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, LargeBinary, Numeric, insert, select, text

from webapp.extensions import db
from webapp.services.database import reset_sequences

FORMAT = "medlemsregister-backup"
VERSION = 1
CHUNK = 2000


class BackupError(ValueError):
    pass


@dataclass
class BackupResult:
    path: str
    revision: str
    counts: dict[str, int]

    def summary(self) -> str:
        rows = sum(self.counts.values())
        return f"{self.path}: {rows} rows in {len(self.counts)} tables, schema {self.revision}"


def _revision() -> str:
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""


def _tables():
    return [table for table in Model.metadata.sorted_tables if table.name != "alembic_version"]


def json_value(value):
    """A column value as JSON can hold it (dates ISO, decimals as text, enums by name, bytes base64)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decoder(column):
    if isinstance(column.type, DateTime):
        return dt.datetime.fromisoformat
    if isinstance(column.type, Date):
        return dt.date.fromisoformat
    if isinstance(column.type, Numeric):
        return decimal.Decimal
    if isinstance(column.type, LargeBinary):
        return base64.b64decode
    return None


def backup(path: str) -> BackupResult:
    tables = _tables()
    counts = {table.name: db.session.execute(select(db.func.count()).select_from(table)).scalar() for table in tables}
    revision = _revision()
    with gzip.open(path, "wt", encoding="utf-8") as out:
        header = {"format": FORMAT, "version": VERSION, "revision": revision,
                  "created_at": dt.datetime.now().isoformat(), "counts": counts}
        out.write(json.dumps(header) + "\n")
        for table in tables:
            order = [c for c in table.primary_key.columns] or list(table.columns)
            result = db.session.execute(select(table).order_by(*order)).mappings()
            for row in result:
                out.write(json.dumps({"t": table.name, "r": {k: json_value(v) for k, v in row.items()}}) + "\n")
    return BackupResult(path, revision, counts)


# The calendar's nightly backups (webapp/schedule.py): one file a day in BACKUP_DIR, named by its date; rotation
# deletes only files of this name, so other files in the folder (a backup taken by hand, say) are never touched.
DATED_PREFIX = "medlem-backup-"
DATED_SUFFIX = ".jsonl.gz"
_DATED = re.compile(r"^" + re.escape(DATED_PREFIX) + r"(\d{4}-\d{2}-\d{2})" + re.escape(DATED_SUFFIX) + r"$")


def dated_name(day: dt.date) -> str:
    return f"{DATED_PREFIX}{day.isoformat()}{DATED_SUFFIX}"


def dated_backup(directory: str, day: dt.date) -> BackupResult:
    """The backup of `day` in `directory` (made if missing). Written to a hidden file first and renamed when
    complete, so a backup cut off half-way never counts as one (and a second run of the day replaces it)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, dated_name(day))
    partial = os.path.join(directory, f".{dated_name(day)}.partial")
    result = backup(partial)
    os.replace(partial, path)
    result.path = path
    return result


def dated_backups(directory: str) -> list[str]:
    """The file names of the calendar's backups in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory)
                  if _DATED.match(name) and os.path.isfile(os.path.join(directory, name)))


def rotate(directory: str, keep: int) -> list[str]:
    """Delete the calendar's backups in `directory` but the newest `keep` (at least one is always kept); the
    names deleted. Files of other names are left alone."""
    if keep < 1:
        raise ValueError(f"BACKUP_KEEP: keep at least 1 backup, not {keep}")
    names = dated_backups(directory)
    old = names[:-keep]
    for name in old:
        os.remove(os.path.join(directory, name))
    return old


def read_header(path: str) -> dict:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            header = json.loads(source.readline())
    except (OSError, ValueError) as exc:
        raise BackupError(f"file: {path} is not a backup of this system ({exc})") from None
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BackupError(f"file: {path} is not a backup of this system (format {header.get('format')})")
    return header


def database_has_rows() -> bool:
    return any(db.session.execute(select(table).limit(1)).first() for table in _tables())


def restore(path: str, replace: bool = False) -> BackupResult:
    header = read_header(path)
    revision = _revision()
    _check_restorable(header, revision, replace)
    tables = {table.name: table for table in _tables()}
    try:
        for table in reversed(list(tables.values())):
            db.session.execute(table.delete())
        _insert_rows(tables, _backup_rows(path, tables))
        reset_sequences(tables.values())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return BackupResult(path, revision, header["counts"])


def _check_restorable(header: dict, revision: str, replace: bool) -> None:
    if header["revision"] != revision:
        raise BackupError(
            f"file: the backup has schema {header['revision']}, the database {revision}; "
            "upgrade (flask --app run db upgrade) to the backup's revision first"
        )
    if database_has_rows() and not replace:
        raise BackupError("database: it is not empty; restore replaces every row, confirm with --replace")


def _backup_rows(path: str, tables: dict) -> Iterator[tuple[str, dict]]:
    """(table name, row) for each row line of the file, its values decoded back to Python."""
    decoders = {
        name: {column.name: _decoder(column) for column in table.columns if _decoder(column)}
        for name, table in tables.items()
    }
    with gzip.open(path, "rt", encoding="utf-8") as source:
        source.readline()  # the header
        for line in source:
            item = json.loads(line)
            name, row = item["t"], item["r"]
            if name not in tables:
                raise BackupError(f"file: unknown table {name} in the backup")
            for column, decode in decoders[name].items():
                if row.get(column) is not None:
                    row[column] = decode(row[column])
            yield name, row


def _insert_rows(tables: dict, rows: Iterator[tuple[str, dict]]) -> None:
    """Insert each table's run of rows in batches of CHUNK, in the order of the file."""
    for name, run in groupby(rows, key=itemgetter(0)):
        records = (row for _, row in run)
        while batch := list(islice(records, CHUNK)):
            db.session.execute(insert(tables[name]), batch)
