"""Member list and page of a workplace representative for an employer's region, on the 100,000-member dataset.

    python bench/bench_region_member_list.py [--db URL] [--runs 30]

The database (default: its own SQLite file, instance/bench_regions_100k.db) is seeded when empty. When it has no
operating units yet, the employer with the most people at work is made as big as a large state agency or a hospital
trust: it takes over the workplaces (and the employments there) of the next biggest employers until it has
`--workplaces` of them (default 600; this changes only the benchmark's own database). It gets a tree of regions over
them (4 regions with 3 operating units in each, the workplaces spread over the 12), and one of the people working in
its first region a login and a representative position for that region. Measured in-process (Flask test client:
routing, the scope with its recursive queries, the row filter, rendering; no network): the region's page, the member
list's first page, a name search, a sort, and the first page after switching to an operating unit below, each list
beside one SQL statement reading the same page (bench_member_list's table, in milliseconds).
Target (issue 18): median under 150 ms at 1M members on both engines.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_member_list import ListOperation, median_ms, page_sql, print_table
from bench.common import bench_app, bench_arguments

DEFAULT_DB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance",
                          "bench_regions_100k.db")
REGIONS, UNITS_PER_REGION = 4, 3


def build_regions(app, wanted_workplaces: int) -> None:
    """The biggest employer's workplaces under a tree of regions, and a representative for its first region."""
    from sqlalchemy import func, select, update

    from webapp.extensions import db
    from webapp.models import ConfidentialityDeclaration, Employment, Member, OperatingUnit, Position, Workplace
    from webapp.models.choices import PositionType
    from webapp.services.periods import current_clause

    today = dt.date.today()
    by_size = db.session.execute(
        select(Employment.employer_id).where(current_clause(Employment, today))
        .group_by(Employment.employer_id).order_by(func.count().desc(), Employment.employer_id)
    ).scalars().all()
    employer_id = by_size[0]
    for other in by_size[1:]:
        have = db.session.scalar(select(func.count(Workplace.id)).where(Workplace.employer_id == employer_id))
        if have >= wanted_workplaces:
            break
        db.session.execute(update(Workplace).where(Workplace.employer_id == other).values(employer_id=employer_id))
        db.session.execute(update(Employment).where(Employment.employer_id == other).values(employer_id=employer_id))
    leaves = []
    for r in range(REGIONS):
        region = OperatingUnit(employer_id=employer_id, name=f"Region {r + 1}")
        db.session.add(region)
        for u in range(UNITS_PER_REGION):
            unit = OperatingUnit(employer_id=employer_id, name=f"Driftsenhet {r + 1}.{u + 1}", parent=region)
            db.session.add(unit)
            leaves.append(unit)
    db.session.flush()
    workplaces = db.session.scalars(select(Workplace).where(Workplace.employer_id == employer_id)
                                    .order_by(Workplace.id)).all()
    for index, workplace in enumerate(workplaces):
        workplace.operating_unit_id = leaves[index % len(leaves)].id
    first_region = leaves[0].parent_id
    region_workplaces = [w.id for i, w in enumerate(workplaces) if leaves[i % len(leaves)].parent_id == first_region]
    member = db.session.scalars(
        select(Member).join(Employment, Employment.member_id == Member.id)
        .where(Employment.workplace_id.in_(region_workplaces), current_clause(Employment, today),
               Member.user_id.is_(None)).order_by(Member.id).limit(1)
    ).one()
    user = app.appbuilder.sm.add_user(member.member_no, member.first_name, member.last_name,
                                      f"{member.member_no}@bench.invalid", [], password=app.config["DEMO_PASSWORD"])
    member.user_id = user.id
    db.session.add(Position(member_id=member.id, type=PositionType.workplace_trustee, operating_unit_id=first_region,
                            start_date=today - dt.timedelta(days=30)))
    db.session.add(ConfidentialityDeclaration(user_id=user.id, confirmed_at=dt.datetime.now(), text_version="bench"))
    db.session.commit()


def main() -> int:
    parser = bench_arguments(runs=30)
    parser.add_argument("--workplaces", type=int, default=600, help="workplaces of the employer with regions")
    args = parser.parse_args()
    app = bench_app(args.db or "sqlite:///" + DEFAULT_DB, args.members, args.employers)
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Employment, Member, OperatingUnit, Position
    from webapp.security.scope import REGIONS as REGION_KIND
    from webapp.security.scope import acting_options, options_below, region_workplace_ids
    from webapp.services.periods import current_clause

    with app.app_context():
        if db.session.scalar(select(func.count(OperatingUnit.id))) == 0:
            build_regions(app, args.workplaces)
        position = db.session.scalars(select(Position).where(Position.operating_unit_id.is_not(None))).first()
        member = db.session.get(Member, position.member_id)
        user = app.appbuilder.sm.get_user_by_id(member.user_id)
        option = next(o for o in acting_options(user) if o.kind == REGION_KIND)
        below = next(o for o in options_below(option) if o.kind == REGION_KIND)
        workplaces = len(region_workplace_ids({option.target_id}))
        reached = db.session.scalar(select(func.count(func.distinct(Employment.member_id))).where(
            Employment.workplace_id.in_(region_workplace_ids({option.target_id})),
            current_clause(Employment, dt.date.today())))
        members_total = db.session.scalar(select(func.count(Member.id)))
        common_name = db.session.scalar(select(Member.last_name).group_by(Member.last_name)
                                        .order_by(func.count().desc()).limit(1))
        username = user.username
        region_ids = region_workplace_ids({option.target_id})
        below_ids = region_workplace_ids({below.target_id})
        engine = db.engine.dialect.name
        db.session.remove()

    today = dt.date.today().isoformat()

    def scope_of(workplace_ids) -> str:
        return (f"m.id IN (SELECT e.member_id FROM employment e WHERE e.workplace_id IN "
                f"({', '.join(map(str, sorted(workplace_ids)))}) AND e.start_date <= '{today}' "
                f"AND (e.end_date IS NULL OR e.end_date >= '{today}'))")

    like = (f"m.last_name ILIKE '%{common_name}%'" if engine == "postgresql"
            else f"lower(m.last_name) LIKE lower('%{common_name}%')")
    region = scope_of(region_ids)
    ops = [
        ListOperation("member list, first page", "/memberview/list/", page_sql(region, "m.last_name, m.id")),
        ListOperation(f"name search '{common_name}'", f"/memberview/list/?_flt_2_last_name={common_name}",
                      page_sql(f"{region} AND {like}", "m.last_name, m.id")),
        ListOperation("sort by joined_on desc", "/memberview/list/?_oc_MemberView=joined_on&_od_MemberView=desc",
                      page_sql(region, "m.joined_on DESC, m.id DESC")),
    ]
    below_ops = [ListOperation(f"member list after switching to {below.target_label}", "/memberview/list/",
                               page_sql(scope_of(below_ids), "m.last_name, m.id"))]

    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, "login failed"
    assert client.post("/acting/switch", data={"key": option.key}).status_code == 302
    listed = client.get("/memberview/list/").get_data(as_text=True).count("/memberview/show/")
    print(f"region representative ({option.target_label}: {workplaces} workplaces, {reached} people at work there), "
          f"{members_total:,} members, {engine}, median of {args.runs} requests; first page lists {listed} links")
    print("region page (no SQL beside it): "
          f"{median_ms(lambda: client.get('/unit/'), args.runs):.0f} ms")
    print_table(app, client, ops, args.runs)
    assert client.post("/acting/switch", data={"key": below.key}).status_code == 302
    print_table(app, client, below_ops, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
