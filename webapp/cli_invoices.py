"""Flask CLI commands of direct billing: `flask --app run invoices ...`."""

from __future__ import annotations

import click


@click.group("invoices", help="Direct billing: invoices to members who pay the union themselves.")
def invoices_group():
    pass
