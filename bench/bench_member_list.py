"""Member list screens and REST API of an officer at the union root, each beside one hand-written SQL statement.

    python bench/bench_member_list.py [--db URL] [--members 100000] [--runs 10] [--only NAME]

Measures server time in-process (Flask test client: routing, scope, queries, rendering; no network), per request:
the first page, a deep page (the last the pager links to), a name search, a filter by unit, a sort by every
sortable column, on the screen (HTML) and in the API (JSON). The SQL beside each is one statement reading the
same page of rows (in the same scope, order and page) as the screen shows. Target (issue 18): median under 150 ms
at 1M members on both engines. The figure is the median of a request, in milliseconds (bench.common's table is in
seconds, for bulk jobs).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import add_only_argument, bench_app, bench_arguments, peak_rss_mib, timed

SCREEN_SORTS = ["member_no", "last_name", "first_name", "joined_on", "left_on"]
API_SORTS = ["member_no", "last_name", "first_name", "joined_on"]
# The deepest page the pager links to when the count stops at COUNT_CAP (10,000 rows: pages 0-400); deeper
# pages are reached one "next" at a time, and cost what skipping their offset costs.
DEEP_PAGE = 399


@dataclass
class ListOperation:
    """A request to the app beside one SQL statement reading the same rows."""

    name: str
    url: str
    sql: str
    api: bool = False


def median_ms(fn, runs: int) -> float:
    return timed(fn, runs, warmup=2)["median_ms"]


def page_sql(where: str, order: str, offset: int = 0, api: bool = False) -> str:
    """One page of members in the officer's scope, as the screen (with the home unit) or the API shows it."""
    columns = ("m.id, m.member_no, m.national_id, m.first_name, m.last_name, m.category, m.home_unit_id, "
               "m.joined_on, m.left_on")
    if api:
        return f"SELECT {columns} FROM member m WHERE {where} ORDER BY {order} LIMIT 25 OFFSET {offset}"
    return (f"SELECT m.*, u.code, u.name FROM member m JOIN org_unit u ON u.id = m.home_unit_id "
            f"WHERE {where} ORDER BY {order} LIMIT 25 OFFSET {offset}")


def operations(scope: str, common_name: str, branch_id: int, deep_page: int, engine: str) -> list[ListOperation]:
    # What FAB's "contains" is on each engine (SQLAlchemy's ilike).
    like = (f"m.last_name ILIKE '%{common_name}%'" if engine == "postgresql"
            else f"lower(m.last_name) LIKE lower('%{common_name}%')")
    screen = "/memberview/list/"
    ops = [
        ListOperation("screen: first page", screen, page_sql(scope, "m.last_name, m.id")),
        ListOperation(f"screen: deep page ({deep_page})", f"{screen}?page_MemberView={deep_page}",
                      page_sql(scope, "m.last_name, m.id", deep_page * 25)),
        ListOperation(f"screen: name search '{common_name}'", f"{screen}?_flt_2_last_name={common_name}",
                      page_sql(f"{scope} AND {like}", "m.last_name, m.id")),
        ListOperation("screen: filter by unit", f"{screen}?_flt_0_home_unit={branch_id}",
                      page_sql(f"{scope} AND m.home_unit_id = {branch_id}", "m.last_name, m.id")),
    ]
    for column in SCREEN_SORTS:
        for direction in ("asc", "desc"):
            ops.append(ListOperation(
                f"screen: sort by {column} {direction}", f"{screen}?_oc_MemberView={column}&_od_MemberView={direction}",
                page_sql(scope, f"m.{column} {direction}, m.id {direction}")))
    api = "/api/v1/member/?q="
    ops += [
        ListOperation("API: first page", api + "(page:0,page_size:25)", page_sql(scope, "m.id", api=True), True),
        ListOperation(f"API: deep page ({deep_page})", api + f"(page:{deep_page},page_size:25)",
                      page_sql(scope, "m.id", deep_page * 25, api=True), True),
        ListOperation(f"API: name search '{common_name}'",
                      api + f"(filters:!((col:last_name,opr:ct,value:{common_name})),page:0,page_size:25)",
                      page_sql(f"{scope} AND {like}", "m.id", api=True), True),
        ListOperation("API: filter by unit",
                      api + f"(filters:!((col:home_unit,opr:rel_o_m,value:{branch_id})),page:0,page_size:25)",
                      page_sql(f"{scope} AND m.home_unit_id = {branch_id}", "m.id", api=True), True),
    ]
    for column in API_SORTS:
        ops.append(ListOperation(
            f"API: sort by {column}", api + f"(order_column:{column},order_direction:asc,page:0,page_size:25)",
            page_sql(scope, f"m.{column}, m.id", api=True), True))
    return ops


def print_table(app, client, ops: list[ListOperation], runs: int, api_headers: dict | None = None) -> None:
    """Each request's median beside its SQL statement's, in milliseconds, as a markdown table."""
    from sqlalchemy import text

    from webapp.extensions import db

    print("| operation | project | SQL | ratio | peak RSS |")
    print("|---|---|---|---|---|")
    for op in ops:
        def request(op=op):
            response = client.get(op.url, headers=api_headers if op.api else None)
            assert response.status_code == 200, (op.url, response.status_code)
            return response

        with app.app_context():
            def baseline(op=op):
                return db.session.execute(text(op.sql)).all()

            rows = len(baseline())
            sql_ms = median_ms(baseline, runs)
            db.session.remove()
        shown = request()
        if op.api:
            assert len(shown.json["ids"]) == rows, (op.name, len(shown.json["ids"]), rows)
        project_ms = median_ms(request, runs)
        print(f"| {op.name} | {project_ms:.0f} ms | {sql_ms:.0f} ms | {project_ms / max(sql_ms, 0.01):.1f}x "
              f"| {peak_rss_mib():.0f} MiB |", flush=True)


def main() -> int:
    parser = bench_arguments(runs=10)
    add_only_argument(parser)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import func, select, text

    from webapp.extensions import db
    from webapp.models import DemoAccount, Member, OrgUnit
    from webapp.security.scope import acting_options

    with app.app_context():
        account = db.session.query(DemoAccount).filter_by(role="leader", scope="NTF").first()
        user = app.appbuilder.sm.find_user(username=account.username)
        key = next(o.key for o in acting_options(user) if o.role == "leader" and o.target_label.startswith("NTF"))
        common_name = db.session.scalar(select(Member.last_name).group_by(Member.last_name)
                                        .order_by(func.count().desc(), Member.last_name).limit(1))
        branch_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.code)
                                      .limit(1))
        # The root officer's scope: every unit below the root (the union), as the row filter lists them.
        root_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))
        units = db.session.execute(text(
            "WITH RECURSIVE sub(id) AS (SELECT CAST(:root AS INTEGER) UNION ALL "
            "SELECT o.id FROM org_unit o JOIN sub ON o.parent_id = sub.id) SELECT id FROM sub"),
            {"root": root_id}).scalars().all()
        members_total = db.session.scalar(select(func.count(Member.id)))
        engine = db.engine.dialect.name
        db.session.remove()
    scope = f"m.home_unit_id IN ({', '.join(map(str, sorted(units)))})"
    ops = operations(scope, common_name, branch_id, DEEP_PAGE, engine)
    if args.only:
        ops = [op for op in ops if op.name == args.only]

    client = app.test_client()
    response = client.post("/login/", data={"username": account.username, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, "login failed"
    assert client.post("/acting/switch", data={"key": key}).status_code == 302
    # An officer confirms the duty of confidentiality once before the first member list.
    assert client.post("/confidentiality/", data={"confirm": "yes"}).status_code == 302
    token = client.post("/api/v1/security/login", json={"username": account.username, "provider": "db",
                                                         "password": app.config["DEMO_PASSWORD"], "refresh": False})
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}

    print(f"{members_total:,} members on {engine}, officer at the union root, median of {args.runs} requests")
    print_table(app, client, ops, args.runs, headers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
