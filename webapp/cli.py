"""Flask CLI commands: `flask --app run <command>`."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.services.database import ensure_roles


@contextmanager
def refused_as(command: str, *errors: type[Exception], status: int = 2):
    """A service's refusal (nothing written) as `command: message` on stderr and exit `status`."""
    try:
        yield
    except errors as exc:
        click.echo(f"{command}: {exc}", err=True)
        sys.exit(status)


@click.group("roles", help="Roles defined in code.")
def roles_group():
    pass


@roles_group.command("sync", help="Create the role rows defined in webapp/security/roles.py.")
@with_appcontext
def roles_sync():
    created = ensure_roles()
    click.echo(f"roles: {len(created)} created" + (f" ({', '.join(created)})" if created else ", all present"))


@click.command("seed", help="Build a deterministic demo dataset.")
@click.option("--members", default=3000, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--employers", default=300, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option("--months", default=12, show_default=True, type=click.IntRange(0, 36),
              help="Months of the deduction cycle and of direct billing to play (0 skips them).")
@click.option("--reset", is_flag=True, help="Empty the database first.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def seed_command(members: int, employers: int, seed_value: int, months: int, reset: bool, quiet: bool):
    from seed.demo import seed_demo_data
    from seed.generator import SeedRefused

    ensure_roles()
    with refused_as("seed", SeedRefused):
        seed_demo_data(members=members, employers=employers, seed=seed_value, months=months, reset=reset,
                       progress=not quiet, echo=click.echo)


@click.command("demo-accounts", help="List the demo logins.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@with_appcontext
def demo_accounts(as_json: bool):
    from webapp.models import DemoAccount

    password = current_app.config["DEMO_PASSWORD"]
    rows = db.session.query(DemoAccount).order_by(DemoAccount.id).all()
    accounts = [{"username": r.username, "password": password, "role": r.role, "scope": r.scope} for r in rows]
    if as_json:
        click.echo(json.dumps(accounts, ensure_ascii=False, indent=2))
        return
    for account in accounts:
        click.echo(f"{account['role']:<20} {account['username']:<12} {account['scope']}")
    if accounts:
        click.echo(f"password for all: {password}")


def _period_argument(period_class, text: str, form: str):
    """A month or quarter argument; a bad one is a usage error naming the form it must have."""
    from webapp.services.periods import PeriodError

    try:
        return period_class.parse(text)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint=form) from None


def _month_argument(text: str):
    from webapp.services.periods import Month

    return _period_argument(Month, text, "YYYY-MM")


def _quarter_argument(text: str):
    from webapp.services.periods import Quarter

    return _period_argument(Quarter, text, "YYYY-Qn")


@click.group("deductions", help="The monthly deduction cycle.")
def deductions_group():
    pass


@deductions_group.command("generate", help="Make the deduction basis of every employer for a month (YYYY-MM).")
@click.argument("month")
@click.option("--refresh", is_flag=True, help="Recompute bases whose notices have not gone out.")
@with_appcontext
def deductions_generate(month: str, refresh: bool):
    from webapp.services.deduction_basis import BasisError, generate

    with refused_as("deductions generate", BasisError):
        result = generate(_month_argument(month), refresh=refresh)
    click.echo(result.summary())


@deductions_group.command("notify", help="E-mail the month's notice to every deduction contact (once per employer).")
@click.argument("month")
@with_appcontext
def deductions_notify(month: str):
    from webapp.services.notices import notify

    click.echo(notify(_month_argument(month)).summary())


@deductions_group.command("remind", help="Remind the deduction contacts of employers without a delivered list for a "
                          "month (YYYY-MM); each reminder (--which) once per employer.")
@click.argument("month")
@click.option("--which", type=click.Choice(["20th", "last_day"]), required=True,
              help="The reminder of the 20th or of the month's last day.")
@with_appcontext
def deductions_remind(month: str, which: str):
    from webapp.services.deduction_reminders import remind

    click.echo(remind(_month_argument(month), which).summary())


@click.group("payments", help="Bank payments.")
def payments_group():
    pass


@payments_group.command("import", help="Import a Nets bank file: OCR giro transactions (also AvtaleGiro payments), "
                                        "matched by KID, or AvtaleGiro agreements (mandates).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def payments_import(path: str):
    import os

    from webapp.services.payments import PaymentFileError, import_file

    with open(path, "rb") as handle:
        data = handle.read()
    with refused_as("payments import", PaymentFileError):
        result = import_file(os.path.basename(path), data, imported_by="cli")
    click.echo(result.summary())


@payments_group.command("rematch", help="Match the unmatched payments whose KID now names an employer-month with a "
                                        "basis or an invoice.")
@with_appcontext
def payments_rematch():
    from webapp.services.payment_matching import rematch_unmatched

    click.echo(f"{rematch_unmatched()} payments matched")


@click.group("refunds", help="The quarterly refund of dues to org units.")
def refunds_group():
    pass


@refunds_group.command("calculate", help="Calculate a quarter (YYYY-Qn) as a draft; again if it is still a draft.")
@click.argument("quarter")
@click.option("--pool", "pool_kroner", help="The pool in kroner (default: set for the quarter, else from the policy).")
@with_appcontext
def refunds_calculate(quarter: str, pool_kroner: str | None):
    from webapp.services.money import kroner, parse_kroner
    from webapp.services.refunds import RefundError, calculate

    pool_ore = None
    if pool_kroner is not None:
        try:
            pool_ore = parse_kroner(pool_kroner)
        except (ValueError, ArithmeticError):
            raise click.BadParameter(f"'{pool_kroner}' is not an amount in kroner", param_hint="--pool") from None
    with refused_as("refunds calculate", RefundError):
        run = calculate(_quarter_argument(quarter), pool_ore, actor="cli")
    click.echo(f"refunds {run.quarter}: draft, pool {kroner(run.pool_ore)} kr ({run.pool_source}), "
               f"{run.member_count} members counted, {run.member_months} member-months, {len(run.units)} units")


@refunds_group.command("approve", help="Approve a calculated quarter (YYYY-Qn): its figures and documents are frozen. "
                                       "The worker then renders and keeps every unit's letter and list (a job).")
@click.argument("quarter")
@with_appcontext
def refunds_approve(quarter: str):
    from reports.document_jobs import start_quarter_documents
    from webapp.services.refunds import RefundError, approve

    with refused_as("refunds approve", RefundError):
        run, changed = approve(_quarter_argument(quarter), actor="cli")
    click.echo(f"refunds {run.quarter}: " + ("approved" if changed else "already approved, nothing changed"))
    if changed:
        job = start_quarter_documents(_quarter_argument(quarter), None)
        click.echo(f"refunds {run.quarter}: documents: job {job.id} {job.status.value} (the worker renders them)")


@click.group("privacy", help="Privacy jobs.")
def privacy_group():
    pass


@privacy_group.command("purge", help="Anonymise members who left more than PRIVACY_RETENTION_MONTHS ago.")
@click.option("--dry-run", is_flag=True, help="Only list what would change.")
@with_appcontext
def privacy_purge(dry_run: bool):
    from webapp.services.retention import purge

    click.echo(purge(dry_run=dry_run).summary())


@click.command("backup", help="Write every row of the database to FILE (gzip JSON lines).")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str):
    from webapp.services.backup import backup

    click.echo(backup(path).summary())


@click.command("restore", help="Replace the database's rows with those of a backup FILE (same schema revision).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Confirm that every row of a non-empty database is replaced.")
@with_appcontext
def restore_command(path: str, replace: bool):
    from webapp.services.backup import BackupError, restore

    with refused_as("restore", BackupError):
        click.echo(restore(path, replace=replace).summary())


@click.group("reports", help="Membership reports to LO / LO Stat and the employer associations.")
def reports_group():
    pass


def _report_options(command):
    command = click.option("--force", is_flag=True,
                           help="Send again although the report was sent for the date.")(command)
    command = click.option("--out", "out_dir", type=click.Path(file_okay=False),
                           help="Directory for the files (default: instance/reports/, setting REPORTS_DIR).")(command)
    command = click.option("--send", is_flag=True,
                           help="E-mail the files to the report's configured recipients.")(command)
    command = click.option("--date", "date_text", required=True, metavar="YYYY-MM-DD",
                           help="Count the members at this date.")(command)
    return command


def _run_report(spec, date_text: str, send: bool, out_dir: str | None, force: bool) -> None:
    from reports import exports, mailing
    from reports.membership import ReportError, parse_date
    from webapp.services.database import reports_reader

    try:
        day = parse_date(date_text, "--date")
    except ReportError as exc:
        raise click.UsageError(str(exc)) from None
    with refused_as("reports", ReportError, status=1):
        if send:
            mailing.check_not_sent(spec, day, force)  # refused before anything is written
            mailing.recipients_for(spec)
        with reports_reader():
            report, files = exports.build(spec, day)
        paths = exports.write_files(files, out_dir or exports.default_directory())
        for path in paths:
            click.echo(path)
        if send:
            result = mailing.send(spec, day, actor="cli", force=force, files=files, report=report)
            if result.delivered:
                click.echo(f"sent {spec.label} for {day} to {result.dispatch.recipients} ({len(files)} files)")
            else:
                click.echo(f"queued {spec.label} for {day} to {result.dispatch.recipients} ({len(files)} files): "
                           "the mail server does not answer; `flask --app run mail retry` sends it")


@reports_group.command("lo", help="The LO / LO Stat report: members at a date by category, gender, age band, "
                                  "county, sector and national association.")
@_report_options
@with_appcontext
def reports_lo(date_text: str, send: bool, out_dir: str | None, force: bool):
    from reports.exports import LO

    _run_report(LO, date_text, send, out_dir, force)


@reports_group.command("employer-association",
                       help="An employer association's report (NAME: spekter, nho, virke, ks, staten): the members "
                            "employed at each of its member enterprises at a date.")
@click.argument("name")
@_report_options
@with_appcontext
def reports_employer_association(name: str, date_text: str, send: bool, out_dir: str | None, force: bool):
    from reports.exports import ReportSpec
    from reports.membership import ReportError, parse_association
    from webapp.models.choices import ReportKind

    try:
        spec = ReportSpec(ReportKind.employer_association, parse_association(name, "NAME"))
    except ReportError as exc:
        hint = " (the LO report is `reports lo`)" if name.strip().lower() == "lo" else ""
        raise click.UsageError(f"{exc}{hint}") from None
    _run_report(spec, date_text, send, out_dir, force)


@click.group("mail", help="Outgoing e-mail (the outbox).")
def mail_group():
    pass


@mail_group.command("retry", help="Send the e-mails that wait in the outbox; exit 1 while some still wait.")
@with_appcontext
def mail_retry():
    from webapp.services.mail import retry_queued

    report = retry_queued()
    click.echo(report.summary())
    if report.waiting:
        sys.exit(1)


@click.group("avtalegiro", help="AvtaleGiro: mandates from the bank, monthly payment claims to it.")
def avtalegiro_group():
    pass


@avtalegiro_group.command("claims", help="Write the month's AvtaleGiro payment-claims file (Nets format) to FILE, "
                                         "after generating the month's AvtaleGiro invoices.")
@click.argument("month")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="The file to write.")
@click.option("--again", is_flag=True, help="Claim again what an earlier file claimed and is still unpaid "
                                            "(when the bank did not receive it).")
@with_appcontext
def avtalegiro_claims(month: str, out_path: str, again: bool):
    from webapp.services import avtalegiro, invoices

    period = _month_argument(month)
    invoices.generate_avtalegiro_month(period)
    claims = avtalegiro.build_claims(period, again=again)
    if not claims.count:
        db.session.rollback()
        hint = "" if again else " (the claims already sent are claimed again with --again)"
        click.echo(f"{claims.summary()}: nothing to claim, no file written{hint}")
        return
    with open(out_path, "wb") as handle:
        handle.write(claims.data)
    avtalegiro.mark_claimed(claims.invoice_ids)
    db.session.commit()
    click.echo(f"{claims.summary()}; written to {out_path}")


@click.group("postcodes", help="The postcode register (postcode → place, municipality and county).")
def postcodes_group():
    pass


@postcodes_group.command("import", help="Import Posten's postcode register (Postnummerregister: tab separated, "
                                        "UTF-8 or Latin-1): new postcodes added, changed ones updated; a file with a "
                                        "bad line is refused whole.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--prune", is_flag=True, help="Also remove the postcodes the file no longer has.")
@with_appcontext
def postcodes_import(path: str, prune: bool):
    from pathlib import Path

    from webapp.services.postcodes import PostcodeImportError, import_register

    with refused_as("postcodes import", PostcodeImportError):
        result = import_register(Path(path), prune=prune)
    click.echo(result.summary())


@click.command("worker", help="Run the background jobs (send-outs and the like): a Huey consumer on HUEY_URL's queue, "
                                "until stopped (Ctrl-C or SIGTERM finishes the running jobs first).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker threads (default: HUEY_WORKERS, 2).")
@with_appcontext
def worker_command(workers: int | None):
    from webapp import jobs

    if jobs.huey.immediate:
        click.echo("worker: HUEY_IMMEDIATE is on, so jobs run at once where they are started; nothing to consume",
                   err=True)
        sys.exit(2)
    app = current_app._get_current_object()
    jobs.use_app(app)
    count = workers or app.config.get("HUEY_WORKERS", 2)
    click.echo(f"worker: {count} thread(s) on {jobs.queue_label(app.config.get('HUEY_URL') or '')}")
    heartbeat = jobs.Heartbeat(app).start()
    try:
        jobs.huey.create_consumer(workers=count, worker_type="thread", periodic=True).run()
    finally:
        heartbeat.stop()


def register_cli(app) -> None:
    from webapp.cli_invoices import invoices_group

    for command in (roles_group, seed_command, demo_accounts, deductions_group, payments_group, privacy_group,
                    backup_command, restore_command, refunds_group, reports_group, mail_group, invoices_group,
                    avtalegiro_group, postcodes_group, worker_command):
        app.cli.add_command(command)
