"""Phase: the demo logins listed on the login page, one per role, plus an officer with several roles."""

from __future__ import annotations

from seed.context import SeedContext, insert_rows
from webapp.models import DemoAccount

OFFICER_NOTES = {
    "leader": "Leader of {scope} (the union, root of the tree)",
    "treasurer": "Treasurer of {scope} and the units below it",
    "member_data_admin": "Member-data admin of {scope} and the units below it",
    "workplace_trustee": "Workplace trustee; scope is the workplace id",
}


def demo_accounts(ctx: SeedContext) -> None:
    rows = ctx.demo_rows
    rows.append(_account("kontor", "office", "", "Union office: everything"))
    rows.append(_account("analytiker", "analyst", "", "Aggregated reports, no national ids"))
    rows.extend(_officer_accounts(ctx))
    rows.extend(_contact_accounts(ctx))
    rows.extend(_member_accounts(ctx))
    rows.extend(_multi_role_accounts(ctx))
    for k, row in enumerate(rows, start=1):
        row["id"] = k
    insert_rows(DemoAccount.__table__, rows)
    ctx.result.demo_accounts = len(rows)


def _account(username: str, role: str, scope: str, note: str) -> dict:
    return {"username": username, "role": role, "scope": scope, "note": note}


def _member_no(ctx: SeedContext, member_id: int) -> str:
    return ctx.people.member_no[member_id - 1]


def _officer_accounts(ctx: SeedContext) -> list[dict]:
    picks = ctx.demo.get("picks", {})
    return [
        _account(_member_no(ctx, picks[role][0]), role, picks[role][1], note.format(scope=picks[role][1]))
        for role, note in OFFICER_NOTES.items()
        if role in picks
    ]


def _contact_accounts(ctx: SeedContext) -> list[dict]:
    if "contact" not in ctx.demo:
        return []
    user_id, customer_no = ctx.demo["contact"]
    username = next(row["username"] for row in ctx.user_rows if row["id"] == user_id)
    note = "Deduction contact for several employers; scope is the customer number of the largest"
    return [_account(username, "deduction_contact", customer_no, note)]


def _member_accounts(ctx: SeedContext) -> list[dict]:
    if not ctx.demo.get("member"):
        return []
    member_no = _member_no(ctx, ctx.demo["member"])
    return [_account(member_no, "member", member_no, "Ordinary member without positions: own page only")]


def _multi_role_accounts(ctx: SeedContext) -> list[dict]:
    if not ctx.demo.get("multi"):
        return []
    member_id, club_id, branch_id = ctx.demo["multi"]
    club, branch = ctx.units[club_id - 1]["code"], ctx.units[branch_id - 1]["code"]
    note = f"Several roles: leader of {club} and treasurer of {branch}; chooses a role after login"
    return [_account(_member_no(ctx, member_id), "leader", club, note)]
