"""Reports, report jobs and notebooks read from REPORTS_DATABASE_URL (a read replica) when it is set.

Two SQLite files stand in for the primary and its replica, seeded with different numbers of members: what a
report counts shows which database it read."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.exports import LO
from reports.membership import lo_report, members_counted
from reports.notebook_support import app_reader
from seed.generator import generate
from webapp import create_app
from webapp.extensions import db
from webapp.models import Member
from webapp.services.database import reports_reader, upgrade_schema

DAY = dt.date(2025, 6, 15)


def _seeded_file(path, members: int) -> str:
    url = f"sqlite:///{path}"
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade_schema()
        generate(members=members, employers=20, seed=3, reset=False, progress=False, today=DAY)
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    directory = tmp_path_factory.mktemp("replica")
    return _seeded_file(directory / "primary.db", 120), _seeded_file(directory / "replica.db", 60)


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        with reports_reader():
            inside = members_counted(DAY)
        return inside, members_counted(DAY)


def test_a_report_reads_the_replica_and_the_app_its_own_database_around_it(databases):
    primary, replica = databases
    plain = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=primary)
    with_replica = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=primary, REPORTS_DATABASE_URL=replica)
    own, _ = _counts(plain)
    from_replica, after = _counts(with_replica)
    with create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=replica).app_context():
        replica_count = members_counted(DAY)

    assert own != replica_count
    assert (from_replica, after) == (replica_count, own)
    with with_replica.app_context():
        before = db.session()
        with reports_reader() as session:
            assert db.session() is session is not before
            assert db.session.query(Member).count() == 60
            assert lo_report(DAY).total == replica_count
        assert db.session() is before
        assert db.session.query(Member).count() == 120


def test_the_report_command_and_the_notebooks_read_the_replica(databases, tmp_path):
    primary, replica = databases
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=primary, REPORTS_DATABASE_URL=replica)
    with app.app_context():
        with reports_reader():
            expected = lo_report(DAY).total
        result = app.test_cli_runner().invoke(args=["reports", "lo", "--date", DAY.isoformat(),
                                                    "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    csv_path = next(path for path in tmp_path.iterdir() if path.suffix == ".csv")
    assert f"{DAY.isoformat()};Sum;total;Sum;{expected}\n" in csv_path.read_text(encoding="utf-8-sig")

    read = app_reader(config="config.TestConfig", SQLALCHEMY_DATABASE_URI=primary, REPORTS_DATABASE_URL=replica)
    assert read(members_counted, DAY) == expected
    assert read(lambda: LO.code) == LO.code
