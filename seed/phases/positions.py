"""Phase: officers of every unit, workplace trustees, one officer with several roles, and ended positions as history."""

from __future__ import annotations

import datetime as dt

from seed.context import SeedContext, number_rows


def positions(ctx: SeedContext) -> None:
    if not ctx.members:
        return
    officers = Officers(ctx)
    current = _appoint_unit_officers(ctx, officers)
    ctx.demo["trustees"] = _appoint_trustees(ctx, officers)
    ctx.demo["current"] = current
    ctx.demo["multi"] = _appoint_multi_role_officer(ctx, officers, current)
    ctx.demo["holding"] = officers.holding
    number_rows(ctx.position_rows, key=lambda row: (row["start_date"], row["type"], row["member_id"]))


class Officers:
    """Who may hold a position where, and who holds how many now."""

    def __init__(self, ctx: SeedContext):
        self.ctx, self.rng, self.people = ctx, ctx.rng, ctx.people
        self.today_ord = ctx.today.toordinal()
        self.parent = {u["id"]: u["parent_id"] for u in ctx.units}
        self.subtrees = {u["id"]: self._subtree(u["id"]) for u in ctx.units}
        # Officers are active ordinary members, and now and then a retired veteran.
        people, born_by = self.people, self.today_ord - 20 * 365
        self.eligible = [
            i + 1
            for i in range(people.count)
            if not people.left[i]
            and people.birth[i] <= born_by
            and (people.category[i] == "ordinary" or (people.category[i] == "retired" and self.rng.random() < 0.15))
        ]
        self.eligible_set = set(self.eligible)
        self.pools = self._pools()
        unit_level = {u["id"]: u["level"] for u in ctx.units}
        self.movable = [
            m
            for m in self.eligible
            if not people.current_wp[m - 1] and unit_level[people.home_unit[m - 1]] == "branch"
        ]
        self.rng.shuffle(self.movable)
        self.holding: dict[int, int] = {}  # member id -> number of current positions

    def _subtree(self, unit_id: int) -> set:
        out, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            out.add(current)
            stack.extend(self.ctx.unit_children.get(current, ()))
        return out

    def _pools(self) -> dict[int, list[int]]:
        """Eligible members per unit subtree: each member counts for its home unit and every unit above it."""
        pools: dict[int, list[int]] = {u["id"]: [] for u in self.ctx.units}
        for member_id in self.eligible:
            unit = self.people.home_unit[member_id - 1]
            while unit is not None:
                pools[unit].append(member_id)
                unit = self.parent[unit]
        return pools

    def pick(self, unit_id: int, exclude: tuple = ()) -> int | None:
        """A member from the unit's subtree, preferably one without a position yet."""
        pool, allowed = self.pools[unit_id], self.subtrees[unit_id]
        for attempt in range(40):
            if not pool:
                break
            candidate = pool[self.rng.randrange(len(pool))]
            if candidate in exclude or self.people.home_unit[candidate - 1] not in allowed:
                continue
            if self.holding.get(candidate, 0) == 0 or attempt >= 30:
                return candidate
        return self._move_here(unit_id, exclude) or self._anyone(pool, allowed, exclude)

    def _move_here(self, unit_id: int, exclude: tuple) -> int | None:
        """Nobody free in the subtree: move a member without a job here (their home unit is a free choice)."""
        while self.movable:
            candidate = self.movable.pop()
            if self.holding.get(candidate, 0) == 0 and candidate not in exclude:
                self.people.home_unit[candidate - 1] = unit_id
                self.ctx.member_changes.setdefault(candidate, {})["home_unit_id"] = unit_id
                self.pools[unit_id].append(candidate)
                return candidate
        return None

    def _anyone(self, pool: list[int], allowed: set, exclude: tuple) -> int | None:
        for candidate in pool:
            if candidate not in exclude and self.people.home_unit[candidate - 1] in allowed:
                return candidate
        fallback = [m for m in (self.eligible or range(1, self.people.count + 1)) if m not in exclude]
        return fallback[self.rng.randrange(len(fallback))] if fallback else None

    def start_for(self, member_id: int, earliest: int) -> int:
        joined = self.people.joined[member_id - 1]
        return min(max(joined, earliest, self.today_ord - 30 - self.rng.randrange(6 * 365)), self.today_ord)

    def add(self, member_id: int, kind: str, start: int, end: int | None, unit_id=None, workplace_id=None) -> dict:
        row = {
            "member_id": member_id,
            "type": kind,
            "org_unit_id": unit_id,
            "workplace_id": workplace_id,
            "start_date": dt.date.fromordinal(start),
            "end_date": dt.date.fromordinal(end) if end else None,
        }
        self.ctx.position_rows.append(row)
        if end is None:
            self.holding[member_id] = self.holding.get(member_id, 0) + 1
        return row

    def history(self, unit_id, workplace_id, kind: str, current_start: int, pool: list[int]) -> None:
        """An earlier holder of the position, whose term ended the day before the current one began."""
        if not pool:
            return
        previous = pool[self.rng.randrange(len(pool))]
        end = current_start - 1
        start = max(self.people.joined[previous - 1], end - 365 * self.rng.randint(2, 8))
        if start < end:
            self.add(previous, kind, start, end, unit_id, workplace_id)


def _appoint_unit_officers(ctx: SeedContext, officers: Officers) -> dict[tuple[int, str], dict]:
    """Root first (its officers hold nothing else), then associations, branches and clubs."""
    current: dict[tuple[int, str], dict] = {}
    for unit_id in [1] + ctx.lf_ids + ctx.branch_ids + ctx.club_ids:
        kinds = ("leader", "treasurer") if unit_id == 1 else ("leader", "treasurer", "member_data_admin")
        chosen: list[int] = []
        for kind in kinds:
            holder = officers.pick(unit_id, tuple(chosen))
            if holder is None:
                continue
            chosen.append(holder)
            start = officers.start_for(holder, officers.today_ord - 6 * 365)
            current[(unit_id, kind)] = officers.add(holder, kind, start, None, unit_id=unit_id)
            if kind != "member_data_admin" and ctx.rng.random() < 0.35:
                officers.history(unit_id, None, kind, start, officers.pools[unit_id])
    return current


def _appoint_trustees(ctx: SeedContext, officers: Officers) -> list[dict]:
    """Workplace trustees at about one in ten workplaces, chosen among the ordinary members working there."""
    rng = ctx.rng
    workers: dict[int, list[int]] = {}
    people = ctx.people
    for member_index, wp_id in enumerate(people.current_wp):
        member_id = member_index + 1
        if wp_id and member_id in officers.eligible_set and people.category[member_index] == "ordinary":
            workers.setdefault(wp_id, []).append(member_id)
    staffed = sorted(workers)
    trustee_count = min(len(staffed), max(1, round(len(ctx.workplace_rows) * 0.10)))
    trustees = []
    for wp_id in sorted(rng.sample(staffed, trustee_count)) if trustee_count else []:
        pool = workers[wp_id]
        free = [m for m in pool if officers.holding.get(m, 0) == 0]
        holder = (free or pool)[rng.randrange(len(free or pool))]
        start = officers.start_for(holder, people.job_start[holder - 1])
        trustees.append(officers.add(holder, "workplace_trustee", start, None, workplace_id=wp_id))
        if rng.random() < 0.2:
            officers.history(None, wp_id, "workplace_trustee", start, pool)
    return trustees


def _appoint_multi_role_officer(ctx: SeedContext, officers: Officers, current: dict) -> tuple[int, int, int] | None:
    """The multi-role demo officer: a club leader who also takes over as treasurer of a branch elsewhere."""
    for club_id in ctx.club_ids:
        club_leader = current.get((club_id, "leader"))
        if club_leader is None or officers.holding.get(club_leader["member_id"], 0) != 1:
            continue
        branches = [b for b in ctx.branch_ids if b != officers.parent[club_id] and (b, "treasurer") in current]
        if not branches:
            continue
        branch_id = branches[ctx.rng.randrange(len(branches))]
        member_id = club_leader["member_id"]
        _hand_over_treasurer(ctx, officers, current, branch_id, member_id)
        return (member_id, club_id, branch_id)
    return None


def _hand_over_treasurer(ctx: SeedContext, officers: Officers, current: dict, branch_id: int, member_id: int) -> None:
    """The branch's treasurer steps down a month ago (or never was, if they only just began); the member takes over."""
    handover = officers.today_ord - 30
    old = current[(branch_id, "treasurer")]
    if old["start_date"].toordinal() < handover:
        old["end_date"] = dt.date.fromordinal(handover - 1)
    else:
        ctx.position_rows.remove(old)
    officers.holding[old["member_id"]] -= 1
    start = max(handover, ctx.people.joined[member_id - 1])
    current[(branch_id, "treasurer")] = officers.add(member_id, "treasurer", start, None, unit_id=branch_id)
