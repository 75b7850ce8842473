"""`python run.py` prepares the database, seeds demo data when it is empty, and serves the app.

`flask --app run <command>` runs the CLI (see `flask --app run --help`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from webapp import create_app

app = create_app(os.environ.get("APP_CONFIG", "config.Config"))


def prepare_database(demo_members: int) -> None:
    """Upgrade the schema, sync the roles and seed a demo dataset into an empty database."""
    from seed.demo import seed_demo_data
    from seed.generator import database_is_empty
    from webapp.services.database import upgrade_schema

    with app.app_context():
        upgrade_schema()
        if database_is_empty():
            print(f"Empty database: seeding {demo_members} demo members ...")
            seed_demo_data(members=demo_members, employers=max(50, demo_members // 10), seed=1, months=12,
                           progress=True)


def print_logins(port: int) -> None:
    from webapp.extensions import db
    from webapp.models import DemoAccount

    with app.app_context():
        rows = db.session.query(DemoAccount).order_by(DemoAccount.id).all()
        print(f"\n  Medlemsregister: http://127.0.0.1:{port}/\n")
        print(f"  Demo logins (password for all: {app.config['DEMO_PASSWORD']})")
        for row in rows:
            print(f"    {row.role:<20} {row.username:<12} {row.scope}")
        print()


def start_worker():
    """The background jobs' consumer (with the calendar) in threads of this process, and its heartbeat (the
    demo's one command); None in immediate mode.

    The server runs without the reloader (debug=False), so there is one process and one consumer."""
    from webapp import jobs

    if jobs.huey.immediate:
        return None
    heartbeat = jobs.Heartbeat(app).start()
    consumer = jobs.start_consumer_thread(app.config.get("HUEY_WORKERS", 2), periodic=True)
    print(f"  Background jobs: {jobs.queue_label(app.config.get('HUEY_URL') or '')} (in this process)")
    return consumer, heartbeat


def _stop_on_sigterm(_signum, _frame):
    raise KeyboardInterrupt  # the server returns and main's `finally` stops the jobs' consumer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--demo-members", type=int, default=3000, help="size of the demo dataset for an empty database")
    parser.add_argument("--no-worker", action="store_true",
                        help="run no background jobs here (a separate `flask --app run worker` runs them)")
    args = parser.parse_args(argv)
    prepare_database(args.demo_members)
    print_logins(args.port)
    worker = None if args.no_worker else start_worker()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        app.run(host=args.host, port=args.port, debug=False, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            from webapp.jobs import stop_consumer

            consumer, heartbeat = worker
            stop_consumer(consumer)
            heartbeat.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
