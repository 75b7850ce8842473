"""Phase: logins for the office and the analyst, every current officer, the demo member and the deduction contacts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from seed.context import SeedContext, SeedRefused, insert_rows
from seed.phases.contacts import build_contacts
from seed.sampling import ascii_name
from webapp.extensions import db


def users(ctx: SeedContext) -> None:
    book = UserBook(ctx)
    office_id = book.add(
        "kontor", "Forbundskontoret", "Demo", "kontor@forbundet.example", "kontor@brukere.forbundet.example"
    )
    analyst_id = book.add(
        "analytiker", "Analytiker", "Demo", "analytiker@forbundet.example", "analytiker@brukere.forbundet.example"
    )
    ctx.user_role_rows += [
        {"user_id": office_id, "role_id": book.role_ids["office"]},
        {"user_id": analyst_id, "role_id": book.role_ids["analyst"]},
    ]
    ctx.demo["office_user"] = office_id
    ctx.demo["member"] = _demo_member(ctx)
    _member_logins(ctx, book)
    build_contacts(ctx, book.add, office_id)
    user_table, user_role_table = _user_tables()
    insert_rows(user_table, ctx.user_rows)
    insert_rows(user_role_table, ctx.user_role_rows)
    ctx.result.users = len(ctx.user_rows)


class UserBook:
    """Adds user rows next to the users the database already has, refusing a username or e-mail taken before."""

    def __init__(self, ctx: SeedContext):
        self.ctx = ctx
        existing = _db_rows("SELECT id, username, email FROM ab_user")  # e.g. an admin made before seeding
        ctx.user_offset = max((row[0] for row in existing), default=0)
        ctx.used_usernames = {row[1] for row in existing}
        ctx.used_emails = {(row[2] or "").lower() for row in existing}
        config = current_app.config
        self.password = generate_password_hash(
            config["DEMO_PASSWORD"], method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"), salt_length=16
        )
        self.stamp = dt.datetime.combine(ctx.today, dt.time(6, 0))
        self.role_ids = dict(_db_rows("SELECT name, id FROM ab_role"))

    def add(self, username: str, first: str, last: str, email: str | None, fallback_email: str, active: bool = True):
        """The new user's id; `fallback_email` when `email` is missing or taken."""
        ctx = self.ctx
        if username in ctx.used_usernames:
            raise SeedRefused(f"a user named {username!r} exists already; use --reset")
        candidate = (email or "").lower()
        if not candidate or candidate in ctx.used_emails:
            candidate = fallback_email
        if candidate in ctx.used_emails:
            raise SeedRefused(f"a user with e-mail {candidate!r} exists already; use --reset")
        user_id = ctx.user_offset + len(ctx.user_rows) + 1
        ctx.user_rows.append(
            {
                "id": user_id,
                "first_name": first[:64],
                "last_name": last[:64],
                "username": username,
                "password": self.password,
                "active": active,
                "email": candidate,
                "created_on": self.stamp,
                "changed_on": self.stamp,
                "login_count": 0,
                "fail_login_count": 0,
            }
        )
        ctx.used_usernames.add(username)
        ctx.used_emails.add(candidate)
        return user_id


def _db_rows(sql: str) -> list:
    return db.session.execute(text(sql)).all()


def _demo_member(ctx: SeedContext) -> int | None:
    """The demo member: an active ordinary member with a job on deduction and no positions."""
    people = ctx.people
    if not ctx.members:
        return None
    holding = ctx.demo.get("holding", {})
    candidates = [
        i + 1
        for i in range(people.count)
        if people.category[i] == "ordinary"
        and not people.left[i]
        and holding.get(i + 1, 0) == 0
        and people.job_on_deduction[i]
    ]
    if not candidates:
        candidates = [i + 1 for i in range(people.count) if not people.left[i] and holding.get(i + 1, 0) == 0]
    return candidates[ctx.rng.randrange(len(candidates))] if candidates else None


def _member_logins(ctx: SeedContext, book: UserBook) -> None:
    """Every current officer and every demo person logs in with the member number."""
    holding = ctx.demo.get("holding", {})
    demo_member = ctx.demo["member"]
    officer_ids = sorted({member_id for member_id, count in holding.items() if count > 0})
    demo_people = set(demo_officer_ids(ctx)) | ({demo_member} if demo_member else set())
    logins = sorted(set(officer_ids) | demo_people)
    for member_id, member in zip(logins, _member_contacts(logins)):
        if member_id in demo_people and not (member["email_private"] or member["email_work"]):
            # A demo login needs an address for its mail.
            local = f"{ascii_name(member['first_name'])}.{ascii_name(member['last_name'])}{member['member_no'][-3:]}"
            member["email_private"] = f"{local}@gmail.com"
            member["email_to"] = "private"
            ctx.member_changes.setdefault(member_id, {}).update(email_private=member["email_private"],
                                                                 email_to="private")
        chosen = member["email_work"] if member["email_to"] == "work" else member["email_private"]
        user_id = book.add(
            member["member_no"],
            member["first_name"],
            member["last_name"],
            chosen,
            f"{member['member_no']}@brukere.forbundet.example",
        )
        ctx.member_changes.setdefault(member_id, {})["user_id"] = user_id


def _member_contacts(member_ids: list[int]) -> Iterator[dict]:
    """Number, names, e-mail addresses and the mail choice of the members (written already), in the given order."""
    from webapp.models import Member

    columns = (Member.id, Member.member_no, Member.first_name, Member.last_name, Member.email_private,
               Member.email_work, Member.email_to)
    for start in range(0, len(member_ids), 500):
        part = member_ids[start : start + 500]
        found = {row.id: row._asdict() for row in db.session.execute(select(*columns).where(Member.id.in_(part)))}
        for member_id in part:
            row = found[member_id]
            row["email_to"] = getattr(row["email_to"], "name", row["email_to"])
            yield row


def demo_officer_ids(ctx: SeedContext) -> list[int]:
    """Members who get a demo login as officers: the root's leader, a treasurer, an association's member-data
    admin, a trustee and the multi-role officer."""
    current = ctx.demo.get("current", {})
    holding = ctx.demo.get("holding", {})
    multi = ctx.demo.get("multi")
    picks: dict[str, tuple[int, str]] = {}
    if (1, "leader") in current:
        picks["leader"] = (current[(1, "leader")]["member_id"], "NTF")
    # Units with active members in them: a demo officer whose unit has nobody shows empty lists.
    members = _active_members_below(ctx)
    sole_treasurers = [b for b in ctx.branch_ids if (not multi or b != multi[2]) and members[b]]
    _pick_sole_holder(ctx, picks, "treasurer", sole_treasurers)
    _pick_sole_holder(ctx, picks, "member_data_admin", [unit_id for unit_id in ctx.lf_ids if members[unit_id]])
    _pick_trustee(picks, ctx.demo.get("trustees", []), holding)
    # Fall back to any holder when nobody holds exactly one position (tiny datasets).
    for (unit_id, kind), row in current.items():
        if kind in ("treasurer", "member_data_admin") and kind not in picks and unit_id != 1:
            picks[kind] = (row["member_id"], ctx.units[unit_id - 1]["code"])
    if multi:
        picks["multi"] = (multi[0], ctx.units[multi[1] - 1]["code"])
    ctx.demo["picks"] = picks
    return [member_id for member_id, _scope in picks.values()]


def _active_members_below(ctx: SeedContext) -> Counter:
    """Unit id -> the active members whose home unit is the unit or a unit below it."""
    people = ctx.people
    members = Counter(unit for unit, left in zip(people.home_unit, people.left) if not left)
    parent = {unit["id"]: unit["parent_id"] for unit in ctx.units}
    below = Counter()
    for unit, count in members.items():
        while unit is not None:
            below[unit] += count
            unit = parent.get(unit)
    return below


def _pick_sole_holder(ctx: SeedContext, picks: dict, kind: str, unit_ids: list[int]) -> None:
    """The first of the units whose `kind` holds no other position; scope is the unit's code."""
    current, holding = ctx.demo.get("current", {}), ctx.demo.get("holding", {})
    for unit_id in unit_ids:
        row = current.get((unit_id, kind))
        if row and holding.get(row["member_id"]) == 1:
            picks[kind] = (row["member_id"], ctx.units[unit_id - 1]["code"])
            return


def _pick_trustee(picks: dict, trustees: list[dict], holding: dict) -> None:
    """A trustee who holds no other position, else the first; scope is the workplace id."""
    sole = [row for row in trustees if holding.get(row["member_id"]) == 1]
    for row in (sole or trustees)[:1]:
        picks["workplace_trustee"] = (row["member_id"], str(row["workplace_id"]))


def _user_tables():
    from flask_appbuilder.security.sqla.models import User, assoc_user_role

    return User.__table__, assoc_user_role
