"""Phase: the union's tree (union, national associations, branches, clubs), the employers and their workplaces."""

from __future__ import annotations

from flask import current_app

from seed.context import SeedContext, insert_rows
from seed.identifiers import bank_account, is_valid_account
from seed.phases.employers import build_employers
from seed.reference import AREAS, ASSOCIATIONS
from webapp.models import Employer, OrgUnit, Workplace


def organisation(ctx: SeedContext) -> None:
    accounts: set = set()  # bank accounts taken, shared by all units
    _add_union(ctx, accounts)
    _add_associations(ctx, accounts)
    _add_branches(ctx, accounts)
    build_employers(ctx)
    _add_clubs(ctx, accounts)
    _link_children(ctx)
    insert_rows(OrgUnit.__table__, ctx.units)
    insert_rows(Employer.__table__, ctx.employer_rows)
    insert_rows(Workplace.__table__, ctx.workplace_rows)
    ctx.result.org_units = len(ctx.units)
    ctx.result.employers = len(ctx.employer_rows)
    ctx.result.workplaces = len(ctx.workplace_rows)


def _unit(ctx: SeedContext, code: str, name: str, level: str, parent_id, account: str | None, refunds: bool) -> int:
    unit_id = len(ctx.units) + 1
    ctx.units.append(
        {
            "id": unit_id,
            "code": code,
            "name": name,
            "level": level,
            "parent_id": parent_id,
            "bank_account": account,
            "receives_refunds": refunds,
        }
    )
    return unit_id


def _add_union(ctx: SeedContext, accounts: set) -> None:
    """The root, with the configured account number when it is a valid one."""
    union_account = str(current_app.config.get("UNION_ACCOUNT_NUMBER") or "")
    if not is_valid_account(union_account):
        union_account = bank_account(ctx.rng, accounts)
    accounts.add(union_account)
    union_name = current_app.config.get("UNION_NAME") or "Norsk Tjenesteforbund"
    _unit(ctx, "NTF", union_name, "union", None, union_account, False)


def _add_associations(ctx: SeedContext, accounts: set) -> None:
    for lf, association in enumerate(ASSOCIATIONS):
        unit_id = _unit(
            ctx, f"LF{lf + 1:02d}", association.name, "national_association", 1, bank_account(ctx.rng, accounts), True
        )
        ctx.lf_ids.append(unit_id)
        ctx.unit_lf[unit_id] = lf


def _add_branches(ctx: SeedContext, accounts: set) -> None:
    """Each association partitions the counties into the areas of its branches."""
    for lf, association in enumerate(ASSOCIATIONS):
        for b, area in enumerate(association.branch_areas, start=1):
            unit_id = _unit(
                ctx,
                f"AV{lf + 1:02d}{b:02d}",
                f"Avdeling {area} {association.branch_suffix}",
                "branch",
                ctx.lf_ids[lf],
                bank_account(ctx.rng, accounts),
                True,
            )
            ctx.branch_ids.append(unit_id)
            ctx.unit_lf[unit_id] = lf
            for county in AREAS[area]:
                ctx.branch_for[(lf, county)] = unit_id


def _add_clubs(ctx: SeedContext, accounts: set) -> None:
    """Clubs under about half of the branches, 1-4 each, named after their biggest workplaces."""
    rng = ctx.rng
    wp_by_branch: dict[int, list[dict]] = {}
    for wp in ctx.workplace_rows:
        wp_by_branch.setdefault(wp["org_unit_id"], []).append(wp)
    for branch_id in list(ctx.branch_ids):
        if rng.random() >= 0.5:
            continue
        want = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        ranked = _employers_by_size(ctx, wp_by_branch.get(branch_id, []))
        for k in range(min(want, len(ranked))):
            _add_club(ctx, accounts, branch_id, k, ranked[k][1])


def _employers_by_size(ctx: SeedContext, workplaces: list[dict]) -> list[tuple[int, list[dict]]]:
    """(employer id, its workplaces in the branch), the biggest employer first."""
    by_employer: dict[int, list[dict]] = {}
    for wp in workplaces:
        by_employer.setdefault(wp["employer_id"], []).append(wp)
    return sorted(
        by_employer.items(), key=lambda item: (-sum(ctx.workplace_weight[w["id"] - 1] for w in item[1]), item[0])
    )


def _add_club(ctx: SeedContext, accounts: set, branch_id: int, k: int, employer_wps: list[dict]) -> None:
    """A club organises the members at one employer's workplaces in the branch."""
    unit_id = len(ctx.units) + 1
    biggest = max(employer_wps, key=lambda w: (ctx.workplace_weight[w["id"] - 1], -w["id"]))
    for wp in employer_wps:
        wp["org_unit_id"] = unit_id
    refunds = ctx.rng.random() < 0.85
    branch_code = ctx.units[branch_id - 1]["code"]
    name = f"{biggest['name']} klubb"
    account = bank_account(ctx.rng, accounts) if refunds else None
    _unit(ctx, f"KL{branch_code[2:]}{k + 1:02d}", name[:150], "club", branch_id, account, refunds)
    ctx.club_ids.append(unit_id)
    ctx.unit_lf[unit_id] = ctx.unit_lf[branch_id]


def _link_children(ctx: SeedContext) -> None:
    for unit in ctx.units:
        ctx.unit_children.setdefault(unit["id"], [])
        if unit["parent_id"]:
            ctx.unit_children[unit["parent_id"]].append(unit["id"])
