"""Member list screens and REST API of an officer at the union root, each beside one hand-written SQL statement.

    python bench/bench_member_list.py [--db URL] [--members 100000] [--runs 10] [--only-like TEXT]

Measures server time in-process (Flask test client: routing, scope, queries, rendering; no network), per request:
the first page, a deep page (the last the pager links to), the last page (reached by "next", or by the API's
page), a name search, a filter by unit, a sort by every sortable column, on the screen (HTML) and in the API
(JSON); and the member type-ahead of the select boxes (a common name, a rare name, a full name, a member number
fragment) as the union office (every member) and as the officer of one club. The SQL beside each is one statement
reading the same rows (in the same scope, order and page) as the request shows; the request's rows are checked
against it. Target (issue 18): median under 150 ms at 1M members on both engines. The figure is the median of a
request, in milliseconds (bench.common's table is in seconds, for bulk jobs).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import add_only_argument, bench_app, bench_arguments, peak_rss_mib, timed

SCREEN_SORTS = ["member_no", "last_name", "first_name", "joined_on", "left_on"]
API_SORTS = ["member_no", "last_name", "first_name", "joined_on"]
# The deepest page the pager links to when the count stops at COUNT_CAP (10,000 rows: pages 0-400); deeper
# pages are reached one "next" at a time, and cost what skipping their offset costs.
DEEP_PAGE = 399
SHOW_LINK = re.compile(r"/memberview/show/(\d+)")


@dataclass
class ListOperation:
    """A request to the app beside one SQL statement reading the same rows."""

    name: str
    url: str
    sql: str
    api: bool = False
    who: str = "root"  # whose login: "root" (the union's leader), "office" or "club" (a club's leader)


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


def operations(scope: str, common_name: str, branch_id: int, deep_page: int, engine: str,
               last_page: int) -> list[ListOperation]:
    # What FAB's "contains" is on each engine (SQLAlchemy's ilike).
    like = (f"m.last_name ILIKE '%{common_name}%'" if engine == "postgresql"
            else f"lower(m.last_name) LIKE lower('%{common_name}%')")
    screen = "/memberview/list/"
    ops = [
        ListOperation("screen: first page", screen, page_sql(scope, "m.last_name, m.id")),
        ListOperation(f"screen: deep page ({deep_page})", f"{screen}?page_MemberView={deep_page}",
                      page_sql(scope, "m.last_name, m.id", deep_page * 25)),
        ListOperation(f"screen: last page ({last_page})", f"{screen}?page_MemberView={last_page}",
                      page_sql(scope, "m.last_name, m.id", last_page * 25)),
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
        ListOperation(f"API: last page ({last_page})", api + f"(page:{last_page},page_size:25)",
                      page_sql(scope, "m.id", last_page * 25, api=True), True),
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


def typeahead_operations(searches: dict[str, str], scopes: dict[str, str], engine: str) -> list[ListOperation]:
    """The member type-ahead of each text for each login, beside the plain query: every term in the member number
    or a name (ILIKE, as SQLAlchemy writes it on the engine), the first 20 by last name, first name and id."""
    def contains(column: str, term: str) -> str:
        pattern = "'%" + term.replace("'", "''") + "%'"
        if engine == "postgresql":
            return f"m.{column} ILIKE {pattern}"
        return f"lower(m.{column}) LIKE lower({pattern})"

    ops = []
    for who, scope in scopes.items():
        for label, text in searches.items():
            terms = " AND ".join("(" + " OR ".join(contains(c, term) for c in ("member_no", "first_name", "last_name"))
                                 + ")" for term in text.split())
            ops.append(ListOperation(
                f"type-ahead ({who}): {label} '{text}'", f"/typeahead/member?q={text.replace(' ', '+')}",
                f"SELECT m.* FROM member m WHERE {scope} AND {terms} ORDER BY m.last_name, m.first_name, m.id LIMIT 20",
                who=who))
    return ops


def shown_ids(op: ListOperation, response) -> list[int]:
    if op.url.startswith("/typeahead/"):
        return [row["id"] for row in response.json["results"]]
    if op.api:
        return response.json["ids"]
    return [int(pk) for pk in dict.fromkeys(SHOW_LINK.findall(response.get_data(as_text=True)))]


def print_table(app, clients: dict, ops: list[ListOperation], runs: int) -> None:
    """Each request's median beside its SQL statement's, in milliseconds, as a markdown table.

    `clients` maps each login (ListOperation.who) to its test client and API headers."""
    from sqlalchemy import text

    from webapp.extensions import db

    print("| operation | project | SQL | ratio | peak RSS |")
    print("|---|---|---|---|---|")
    for op in ops:
        client, api_headers = clients[op.who]

        def request(op=op, client=client, api_headers=api_headers):
            response = client.get(op.url, headers=api_headers if op.api else None)
            assert response.status_code == 200, (op.url, response.status_code)
            return response

        with app.app_context():
            def baseline(op=op):
                return db.session.execute(text(op.sql)).all()

            rows = [row[0] for row in baseline()]
            sql_ms = median_ms(baseline, runs)
            db.session.remove()
        shown = shown_ids(op, request())
        assert shown == rows, (op.name, shown, rows)
        project_ms = median_ms(request, runs)
        print(f"| {op.name} | {project_ms:.0f} ms | {sql_ms:.0f} ms | {project_ms / max(sql_ms, 0.01):.1f}x "
              f"| {peak_rss_mib():.0f} MiB |", flush=True)


def subtree_scope(unit_id: int) -> str:
    """The row filter of an officer of the unit: its members and those of every unit below it."""
    from sqlalchemy import text

    from webapp.extensions import db

    units = db.session.execute(text(
        "WITH RECURSIVE sub(id) AS (SELECT CAST(:root AS INTEGER) UNION ALL "
        "SELECT o.id FROM org_unit o JOIN sub ON o.parent_id = sub.id) SELECT id FROM sub"),
        {"root": unit_id}).scalars().all()
    return f"m.home_unit_id IN ({', '.join(map(str, sorted(units)))})"


def login(app, account, option) -> tuple:
    """A test client logged in as the demo account, acting in the option (the first that `option` accepts), with
    the duty of confidentiality confirmed; and the headers of an API token."""
    from webapp.extensions import db
    from webapp.security.scope import acting_options

    with app.app_context():
        user = app.appbuilder.sm.find_user(username=account.username)
        key = next(o.key for o in acting_options(user) if option(o))
        db.session.remove()
    client = app.test_client()
    response = client.post("/login/", data={"username": account.username, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, "login failed"
    assert client.post("/acting/switch", data={"key": key}).status_code == 302
    # An officer confirms the duty of confidentiality once before the first member list.
    assert client.post("/confidentiality/", data={"confirm": "yes"}).status_code == 302
    token = client.post("/api/v1/security/login", json={"username": account.username, "provider": "db",
                                                         "password": app.config["DEMO_PASSWORD"], "refresh": False})
    return client, {"Authorization": f"Bearer {token.json['access_token']}"}


def main() -> int:
    parser = bench_arguments(runs=10)
    add_only_argument(parser)
    parser.add_argument("--only-like", help="run only the operations whose name contains this text")
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import func, select, text

    from webapp.extensions import db
    from webapp.models import DemoAccount, Member, OrgUnit

    with app.app_context():
        accounts = {
            "root": db.session.query(DemoAccount).filter_by(role="leader", scope="NTF").first(),
            "office": db.session.query(DemoAccount).filter_by(role="office").first(),
            "club": db.session.query(DemoAccount).join(OrgUnit, OrgUnit.code == DemoAccount.scope)
            .filter(DemoAccount.role == "leader", OrgUnit.level == "club").first(),
        }
        db.session.expunge_all()
        common_name = db.session.scalar(select(Member.last_name).group_by(Member.last_name)
                                        .order_by(func.count().desc(), Member.last_name).limit(1))
        common_first = db.session.scalar(select(Member.first_name).group_by(Member.first_name)
                                         .order_by(func.count().desc(), Member.first_name).limit(1))
        # The rarest one-word first name (at 1M every last name is common), the last of them in order: with fewer
        # than 20 matches the plain query walks the whole name order.
        rare_name = db.session.scalar(select(Member.first_name).where(Member.first_name.not_like("% %"))
                                      .group_by(Member.first_name)
                                      .order_by(func.count(), Member.first_name.desc()).limit(1))
        branch_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.code)
                                      .limit(1))
        club_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == accounts["club"].scope))
        # The last five digits of the number of the club's first member.
        number = db.session.scalar(select(Member.member_no).where(Member.home_unit_id == club_id)
                                   .order_by(Member.id).limit(1))[-5:]
        # The root officer's scope: every unit below the root (the union), as the row filter lists them.
        root_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))
        scopes = {"root": subtree_scope(root_id), "office": "1=1", "club": subtree_scope(club_id)}
        members_total = db.session.scalar(select(func.count(Member.id)))
        in_scope = db.session.scalar(text(f"SELECT count(*) FROM member m WHERE {scopes['root']}"))
        engine = db.engine.dialect.name
        db.session.remove()
    last_page = (in_scope - 1) // 25
    ops = operations(scopes["root"], common_name, branch_id, DEEP_PAGE, engine, last_page)
    ops += typeahead_operations({"common name": common_name, "rare name": rare_name,
                                 "full name": f"{common_first} {common_name}", "member number": number},
                                {"office": scopes["office"], "club": scopes["club"]}, engine)
    if args.only:
        ops = [op for op in ops if op.name == args.only]
    if args.only_like:
        ops = [op for op in ops if args.only_like in op.name]

    options = {
        "root": lambda o: o.role == "leader" and o.target_label.startswith("NTF"),
        "office": lambda o: o.role == "office",
        "club": lambda o: o.role == "leader" and o.target_label.startswith(accounts["club"].scope),
    }
    clients = {who: login(app, accounts[who], options[who]) for who in sorted({op.who for op in ops})}

    print(f"{members_total:,} members on {engine}, median of {args.runs} requests; the lists as the officer at the "
          f"union root, the type-ahead as the union office and as a club's leader")
    print_table(app, clients, ops, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
