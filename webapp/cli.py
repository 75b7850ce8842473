"""Flask CLI commands: `flask --app run <command>`."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import db


def ensure_roles() -> list[str]:
    """Create the role rows that exist in code and are missing in the database."""
    from webapp.security.roles import ROLE_GRANTS

    sm = current_app.appbuilder.sm
    created = []
    for name in ROLE_GRANTS:
        if sm.find_role(name) is None:
            sm.add_role(name)
            created.append(name)
    db.session.commit()
    return created


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
              help="Months of the deduction cycle to play (0 skips it).")
@click.option("--reset", is_flag=True, help="Empty the database first.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@with_appcontext
def seed_command(members: int, employers: int, seed_value: int, months: int, reset: bool, quiet: bool):
    from seed.cycle import play_cycle
    from seed.generator import SeedRefused, generate

    ensure_roles()
    try:
        result = generate(members=members, employers=employers, seed=seed_value, reset=reset, progress=not quiet)
    except SeedRefused as exc:
        click.echo(f"seed: {exc}", err=True)
        sys.exit(2)
    click.echo(result.summary())
    click.echo(play_cycle(months, seed_value, progress=not quiet).summary())


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


def _month_argument(text: str):
    from webapp.services.periods import Month, PeriodError

    try:
        return Month.parse(text)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="YYYY-MM") from None


@click.group("deductions", help="The monthly deduction cycle.")
def deductions_group():
    pass


@deductions_group.command("generate", help="Make the deduction basis of every employer for a month (YYYY-MM).")
@click.argument("month")
@click.option("--refresh", is_flag=True, help="Recompute bases whose notices have not gone out.")
@with_appcontext
def deductions_generate(month: str, refresh: bool):
    from webapp.services.deduction_basis import BasisError, generate

    try:
        result = generate(_month_argument(month), refresh=refresh)
    except BasisError as exc:
        click.echo(f"deductions generate: {exc}", err=True)
        sys.exit(2)
    click.echo(result.summary())


@deductions_group.command("notify", help="E-mail the month's notice to every deduction contact (once per employer).")
@click.argument("month")
@with_appcontext
def deductions_notify(month: str):
    from webapp.services.notices import notify

    click.echo(notify(_month_argument(month)).summary())


@click.group("payments", help="Bank payments.")
def payments_group():
    pass


@payments_group.command("import", help="Import a bank OCR giro file (Nets format) and match payments by KID.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def payments_import(path: str):
    import os

    from webapp.services.payments import PaymentFileError, import_file

    with open(path, "rb") as handle:
        data = handle.read()
    try:
        result = import_file(os.path.basename(path), data, imported_by="cli")
    except PaymentFileError as exc:
        click.echo(f"payments import: {exc}", err=True)
        sys.exit(2)
    click.echo(result.summary())


def register_cli(app) -> None:
    for command in (roles_group, seed_command, demo_accounts, deductions_group, payments_group):
        app.cli.add_command(command)
