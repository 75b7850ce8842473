"""Background jobs: long work (a send-out to 100,000 members, say) runs in a Huey worker, not in the request.

How to write one (the work's owner):

    from webapp.jobs import job_task, report_progress, set_result, start_job

    @job_task("sendout")                     # a Huey task named after the kind; its body runs through run_job
    def send_out_work(job_id: int, params: dict) -> None:
        ...                                  # commit each batch, then report_progress(job_id, done, total, line)

    job = start_job("sendout", title, send_out_work, {"send_out_id": 7}, user_id)   # in the request

- The work runs in an app context of its own (a fresh database session), never in the request's.
- It must be idempotent: a job that failed can be retried by the office (a new attempt of the same Job row),
  and the retry runs the work again from the start with the same params. Skip what is already done (the
  send-out's recipients already marked sent, say) rather than doing it twice.
- An exception marks the job failed with the error (the work's uncommitted changes are rolled back); its
  committed batches stay. Huey itself never retries: the office decides (`retry_job`).
- `report_progress` and `set_result` write in their own short transaction on a connection of their own, so the
  job page sees the progress while the work's session is still busy. On SQLite a second writer waits for the
  first: commit the work's batch before reporting its progress.

Where the queue lives: `HUEY_URL` (config.py). `sqlite:///path` (default: instance/huey.db) for one machine,
`redis://host:port/db` in production, `memory://` for a process of its own. `HUEY_IMMEDIATE` (TestConfig: on)
runs every task at once, synchronously, in the caller's thread, with Huey's in-memory storage: tests see the
finished job when start_job returns. The worker is `flask --app run worker`; `python run.py` runs one in
threads of its own process for the demo (`start_consumer_thread`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import gettext as _
from huey import Huey
from huey.api import TaskWrapper
from huey.consumer import Consumer
from huey.signals import SIGNAL_INTERRUPTED
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from webapp.extensions import db
from webapp.models.choices import JobStatus
from webapp.models.outreach import Job, JobFile, WorkerHeartbeat
from webapp.services.transitions import claim

logger = logging.getLogger(__name__)

# One Huey for the process. Tasks register on it at import; init_jobs points its storage where HUEY_URL says.
huey = Huey("medlem", storage_class=MemoryStorage)

Work = Callable[[int, dict], Any]

_state: dict[str, Any] = {"app": None}
# kind -> the Huey task that runs it (filled by job_task and by start_job), so a retry can enqueue it again.
_TASKS: dict[str, TaskWrapper] = {}

ERROR_MAX = 4000
LOG_LINE_MAX = 500


class JobConfigError(ValueError):
    """HUEY_URL names a storage this app does not know."""


class JobInputMissing(LookupError):
    """The job's input file is gone (purged after JOB_FILE_KEEP_DAYS)."""


PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def storage_for(url: str) -> tuple[type, dict]:
    """The Huey storage class and its arguments for a HUEY_URL (a relative SQLite path: from the project folder,
    as DATABASE_URL's)."""
    if url.startswith("sqlite:///"):
        filename = url[len("sqlite:///"):]
        if not os.path.isabs(filename):
            filename = os.path.join(PROJECT_DIR, filename)
        return SqliteStorage, {"filename": filename}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage, {"url": url}
    if url == "memory://":
        return MemoryStorage, {}
    raise JobConfigError(f"HUEY_URL: {url!r} is not sqlite:///<file>, redis://<host>/<db> or memory://")


def configure(url: str, immediate: bool = False) -> None:
    """Point the process's Huey at the storage `url` names (or Huey's immediate mode)."""
    storage_class, kwargs = storage_for(url)
    huey.storage_class = storage_class
    huey.storage_kwargs = kwargs
    huey.immediate = immediate
    huey.storage = huey.create_storage()


def init_jobs(app: Flask) -> None:
    """Called by create_app: tasks run in an app context of this app."""
    url = app.config.get("HUEY_URL") or "sqlite:///" + os.path.join(app.instance_path, "huey.db")
    configure(url, bool(app.config.get("HUEY_IMMEDIATE")))
    use_app(app)
    app.extensions["huey"] = huey
    import webapp.schedule  # noqa: F401  the calendar's periodic tasks register on this Huey


def job_task(kind: str) -> Callable[[Work], TaskWrapper]:
    """Decorator: `work(job_id, params)` as the Huey task of this kind, run through `run_job`."""

    def decorate(work: Work) -> TaskWrapper:
        def body(job_id: int) -> None:
            run_job(job_id, work)

        body.__doc__ = work.__doc__
        task = huey.task(name=f"job_{kind}")(body)
        task.work = work
        _TASKS[kind] = task
        return task

    return decorate


def _now() -> dt.datetime:
    return dt.datetime.now()


def _enqueue(job_id: int, task: TaskWrapper) -> None:
    """Hand the job to the queue; a queue that is down fails the job (the office can retry), not the caller."""
    try:
        task(job_id)
    except Exception as exc:  # any broker error: the job is failed and kept for a retry
        logger.exception("job %s could not be queued", job_id)
        _write(job_id, status=JobStatus.failed, finished_at=_now(),
               error=_error_text(exc, prefix="Could not be queued: "))


def start_job(kind: str, title: str, task: TaskWrapper, params: dict, user_id: int | None,
              key: str | None = None, inputs: tuple[tuple[str, str, bytes], ...] = ()) -> Job:
    """Create the Job row (committed), enqueue `task` with its id, and return the row as it is now.

    With a `key`, the same work asked for while a job of that key waits or runs joins it: that job is returned
    and nothing new is queued (two requests at the same moment: one job, by the partial unique index).
    `inputs`: (filename, content_type, data) of files the job reads (an upload), kept as its input files in the
    row's own commit, before it is queued (the work reads them with `input_file`).
    In immediate mode the task has run when this returns (the row is read afresh)."""
    _TASKS.setdefault(kind, task)
    if key is not None and (active := active_job(key)) is not None:
        return active
    job = Job(kind=kind, title=title[:200], status=JobStatus.queued, params=json.dumps(params, sort_keys=True),
              done=0, created_by_id=user_id, created_at=_now(), attempts=0, key=key)
    db.session.add(job)
    try:
        db.session.flush()
        for filename, content_type, data in inputs:
            add_file(job.id, filename, content_type, data, purpose="input")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        active = active_job(key) if key is not None else None
        if active is None:
            raise
        return active
    job_id = job.id
    _enqueue(job_id, task)
    db.session.expire(job)
    return db.session.get(Job, job_id)


def active_job(key: str) -> Job | None:
    """The job of this key that waits or runs, if any."""
    return db.session.scalars(
        select(Job).where(Job.key == key, Job.status.in_((JobStatus.queued, JobStatus.running)))
    ).first()


def last_done_job(key: str) -> Job | None:
    """The latest finished job of this key (the calendar's: has today's run been done?)."""
    return db.session.scalars(
        select(Job).where(Job.key == key, Job.status == JobStatus.done).order_by(Job.id.desc())
    ).first()


def retry_job(job_id: int) -> bool:
    """Queue a failed job again (the office's retry); True when this caller made it (one winner)."""
    job = db.session.get(Job, job_id)
    if job is None:
        return False
    task = _TASKS.get(job.kind)
    if task is None:
        raise LookupError(f"no task is registered for the job kind {job.kind!r}")
    won = claim(Job, job_id, JobStatus.failed, status=JobStatus.queued, finished_at=None)
    db.session.commit()
    if won:
        _enqueue(job_id, task)
    return won


def use_app(app: Flask) -> None:
    """The app whose context a worker thread runs jobs in (init_jobs sets it; a test may set its own)."""
    _state["app"] = app


def app_context():
    """A fresh app context (and so a database session of its own): of the caller's app when there is one (a task
    run at once in immediate mode), else of the app the worker was built with."""
    app = current_app._get_current_object() if has_app_context() else _state["app"]
    if app is None:
        raise RuntimeError("webapp.jobs: no app; create_app calls init_jobs before any job runs")
    return app.app_context()


def _error_text(exc: BaseException, prefix: str = "") -> str:
    """The error as the office sees it on the job's page: the message of one of the app's own errors (they say
    what was wrong, in the user's words), the class and message of anything else, never a database's text (its
    SQL and values stay in the server log)."""
    if isinstance(exc, SQLAlchemyError):
        return (prefix + f"{type(exc).__name__}: the database refused the work (details in the server log)")[:ERROR_MAX]
    if type(exc).__module__.split(".")[0] in ("webapp", "reports") and str(exc):
        return (prefix + str(exc))[:ERROR_MAX]
    return (prefix + f"{type(exc).__name__}: {exc}")[:ERROR_MAX]


def run_job(job_id: int, work: Work) -> None:
    """Run `work(job_id, params)` for a queued job in an app context of its own: running, then done or failed.

    The job is claimed queued → running (one winner: a job queued twice runs once); the attempt is counted."""
    with app_context():
        try:
            won = claim(Job, job_id, JobStatus.queued, status=JobStatus.running, started_at=_now(),
                        finished_at=None, error=None, attempts=Job.attempts + 1, worker=worker_name())
            db.session.commit()
            if not won:
                logger.warning("job %s is not waiting (gone, or another worker has it): not run", job_id)
                return
            params = json.loads(db.session.get(Job, job_id).params or "{}")
            db.session.commit()
            _run_work(job_id, work, params)
        finally:
            db.session.remove()


def _run_work(job_id: int, work: Work, params: dict) -> None:
    started = time.monotonic()
    try:
        work(job_id, params)
        db.session.commit()
    except Exception as exc:  # the job's failure is stored for the office, not raised to Huey
        db.session.rollback()
        logger.exception("job %s failed", job_id)
        _write(job_id, status=JobStatus.failed, finished_at=_now(), error=_error_text(exc))
        _log_finished(job_id, JobStatus.failed, started)
        return
    _write(job_id, status=JobStatus.done, finished_at=_now(), done=func.coalesce(Job.total, Job.done))
    _log_finished(job_id, JobStatus.done, started)


def _log_finished(job_id: int, status: JobStatus, started: float) -> None:
    """One structured log line per job run (webapp/logs.py writes `fields` as JSON): never its params or log."""
    row = db.session.execute(select(Job.kind, Job.created_by_id, Job.attempts).where(Job.id == job_id)).first()
    fields = {"event": "job", "job_id": job_id, "status": status.value,
              "duration_ms": round((time.monotonic() - started) * 1000)}
    if row is not None:
        fields.update(kind=row.kind, user_id=row.created_by_id, attempt=row.attempts)
    logger.info("job %s %s", job_id, status.value, extra={"fields": fields})


def _write(job_id: int, **values: Any) -> None:
    """An update of one job row in its own short transaction, on a connection apart from the session's."""
    with db.engine.begin() as connection:
        connection.execute(update(Job).where(Job.id == job_id).values(**values))


INTERRUPTED = "Interrupted: the worker stopped before the job finished. Retry it to finish the work."


@huey.signal(SIGNAL_INTERRUPTED)
def _mark_interrupted(_signal: str, task, *_args) -> None:
    """A worker stopped at once (SIGTERM, or run.py shutting down) while a job ran: the job is failed, so the
    office sees it and can retry it, rather than left running for ever."""
    job_id = task.args[0] if task.args else None
    if not isinstance(job_id, int):
        return
    with app_context():
        with db.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.running)
                               .values(status=JobStatus.failed, finished_at=_now(), error=INTERRUPTED))


def queue_label(url: str) -> str:
    """HUEY_URL for a message: without a password."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def report_progress(job_id: int, done: int, total: int | None = None, line: str | None = None) -> None:
    """The job has done `done` of `total` steps (total unchanged when None); `line` is added to its log."""
    if done < 0 or (total is not None and total < 0):
        raise ValueError(f"report_progress: done ({done}) and total ({total}) must not be negative")
    values: dict[str, Any] = {"done": done}
    if total is not None:
        values["total"] = total
    if line:
        stamped = f"{_now():%H:%M:%S} {' '.join(line.split())[:LOG_LINE_MAX]}\n"
        values["log"] = func.coalesce(Job.log, "") + stamped
    _write(job_id, **values)


def set_result(job_id: int, url: str) -> None:
    """The page the finished job's result is on: a path inside this app (`/sendouts/7`), never another site."""
    if not url.startswith("/") or url.startswith("//") or len(url) > 300:
        raise ValueError(f"set_result: the result url {url!r} must be a path of this app (starting with one /)")
    _write(job_id, result_url=url)


FILE_PURPOSES = ("input", "result")


def add_file(job_id: int, filename: str, content_type: str, data: bytes, purpose: str = "result") -> int:
    """Keep a file the job read (`input`: an upload, stored before the job is queued, in the caller's session)
    or made (`result`: in a transaction of its own, so the job page lists it at once); its id.

    A job run again (a retry) replaces its result file of the same name rather than adding a second."""
    if purpose not in FILE_PURPOSES:
        raise ValueError(f"add_file: purpose must be one of {FILE_PURPOSES}, not {purpose!r}")
    values = {"job_id": job_id, "purpose": purpose, "filename": filename[:200], "content_type": content_type[:100],
              "size": len(data), "data": data, "created_at": _now()}
    if purpose == "input":
        row = JobFile(**values)
        db.session.add(row)
        db.session.flush()
        return row.id
    with db.engine.begin() as connection:
        connection.execute(JobFile.__table__.delete().where(
            JobFile.job_id == job_id, JobFile.purpose == purpose, JobFile.filename == values["filename"]))
        return connection.execute(JobFile.__table__.insert().values(**values)).inserted_primary_key[0]


def input_file(job_id: int) -> JobFile:
    """The file the job was started with (LookupError when it has none: purged, say)."""
    row = db.session.scalars(select(JobFile).where(JobFile.job_id == job_id, JobFile.purpose == "input")
                             .order_by(JobFile.id)).first()
    if row is None:
        raise JobInputMissing(_("The file this job was started with is gone (files are deleted after %(days)s days): "
                                "upload it again.", days=current_app.config.get("JOB_FILE_KEEP_DAYS", 7)))
    return row


def result_files(job_id: int) -> list[JobFile]:
    """The files the job made, without loading their contents."""
    from sqlalchemy.orm import defer

    return list(db.session.scalars(select(JobFile).options(defer(JobFile.data))
                                   .where(JobFile.job_id == job_id, JobFile.purpose == "result")
                                   .order_by(JobFile.id)))


# Workers' heartbeats: a worker writes one every HEARTBEAT_SECONDS while it runs; /health calls the worker gone
# when none is newer than WORKER_GONE_SECONDS (config), and a job running on a worker without a recent heartbeat
# (killed outright: SIGKILL, power loss) is marked interrupted by the next live worker's beat.
HEARTBEAT_SECONDS = 10.0  # the default of WORKER_HEARTBEAT_SECONDS


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(name: str, started_at: dt.datetime) -> None:
    """Write this worker's heartbeat (insert or update), in a transaction of its own."""
    table = WorkerHeartbeat.__table__
    now = _now()
    with db.engine.begin() as connection:
        updated = connection.execute(table.update().where(table.c.name == name).values(seen_at=now)).rowcount
        if not updated:
            try:
                with connection.begin_nested():
                    connection.execute(table.insert().values(name=name, started_at=started_at, seen_at=now))
            except IntegrityError:  # a beat of the same name at the same moment: that one counts
                pass


def worker_seen_at() -> dt.datetime | None:
    """The newest heartbeat of any worker."""
    return db.session.scalar(select(func.max(WorkerHeartbeat.seen_at)))


def sweep_stale_jobs(gone_after: float) -> int:
    """Mark failed (interrupted: the office can retry) every running job whose worker has not beaten for
    `gone_after` seconds; how many. Old heartbeats (a day) are deleted."""
    now = _now()
    cutoff = now - dt.timedelta(seconds=gone_after)
    live = select(WorkerHeartbeat.name).where(WorkerHeartbeat.seen_at >= cutoff)
    with db.engine.begin() as connection:
        count = connection.execute(
            update(Job).where(Job.status == JobStatus.running, or_(Job.worker.is_(None), Job.worker.not_in(live)),
                              Job.started_at < cutoff)
            .values(status=JobStatus.failed, finished_at=now, error=INTERRUPTED)
        ).rowcount
        connection.execute(WorkerHeartbeat.__table__.delete().where(
            WorkerHeartbeat.seen_at < now - dt.timedelta(days=1)))
    if count:
        logger.warning("%s job(s) were running on a worker that is gone: marked interrupted", count,
                       extra={"fields": {"event": "jobs_interrupted", "count": count}})
    return count


class Heartbeat:
    """A thread that beats for this worker process and sweeps the jobs of dead workers, until stopped."""

    def __init__(self, app: Flask):
        self.app = app
        self.interval = float(app.config.get("WORKER_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))
        self.name = worker_name()
        self.started_at = _now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._once()  # seen before the first job is taken
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)

    def _once(self) -> None:
        with self.app.app_context():
            try:
                beat(self.name, self.started_at)
                sweep_stale_jobs(self.app.config.get("WORKER_GONE_SECONDS", 120))
            except SQLAlchemyError:  # the database is away for a moment: beat again next time
                logger.exception("worker heartbeat failed")
            finally:
                db.session.remove()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._once()


def percent(job: Job) -> int:
    """0-100 for the progress bar: done of total; a finished job is 100; unknown total: 0 until done."""
    if job.status == JobStatus.done:
        return 100
    if not job.total:
        return 0
    return max(0, min(100, (job.done or 0) * 100 // job.total))


def log_lines(job: Job) -> list[str]:
    return [line for line in (job.log or "").splitlines() if line]


class InProcessConsumer(Consumer):
    """A consumer in threads of a process that has its own signal handling (run.py, tests): it leaves the
    process's signal handlers alone (Huey's would swallow SIGTERM, which only its own loop reads)."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumer_thread(workers: int = 2, periodic: bool = False) -> InProcessConsumer:
    """Start a consumer in threads of this process (with the calendar's periodic tasks when `periodic`);
    `stop_consumer` ends it."""
    if huey.immediate:
        raise RuntimeError("webapp.jobs: immediate mode runs jobs at once; there is no queue to consume")
    consumer = InProcessConsumer(huey, workers=workers, worker_type="thread", periodic=periodic,
                                 initial_delay=0.05, max_delay=1.0, check_worker_health=False)
    consumer.start()
    return consumer


def stop_consumer(consumer: Consumer, wait: float = 5.0) -> None:
    """Stop taking jobs; give the running ones `wait` seconds to finish, and mark those still running failed
    (interrupted: the office can retry them)."""
    consumer.stop()
    deadline = time.monotonic() + wait
    for _name, thread in consumer.worker_threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    consumer.scheduler.join(max(0.0, deadline - time.monotonic()))
    huey.notify_interrupted_tasks()
