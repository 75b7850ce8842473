"""The member lists' fast path (issue 18) shows the same rows in the same order as the old query.

On a seeded register, every page the screen and the API show (first page, later pages, each sort, name search,
unit filter) is compared with one hand-written SQL statement of the old query: the acting scope's units, FAB's
ILIKE '%text%' for "contains", ORDER BY the column and then the id, LIMIT and OFFSET. The count is exact below
the cap and says "more than" above it. On SQLite the name search narrows by the FTS5 table, which triggers keep
in step with the member table. The comparisons run both ways a page is read (the `paging` fixture): a short list's
rows found first and sorted, and a page read off the index of its sort column, as longer lists are.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from tests.helpers import api_token
from webapp.extensions import db
from webapp.models import DemoAccount, Member, OrgUnit

MEMBERS = 400
PAGE = 25
SCREEN_SORTS = ["member_no", "last_name", "first_name", "joined_on", "left_on"]
API_SORTS = ["member_no", "last_name", "first_name", "joined_on"]
SHOW_LINK = re.compile(r"/memberview/show/(\d+)")


@pytest.fixture()
def register(clean_app):
    """A seeded register; the union leader's login and the ids of the units below the root."""
    from seed.generator import generate

    with clean_app.app_context():
        generate(members=MEMBERS, employers=MEMBERS // 10, seed=3, reset=False, progress=False)
        leader = db.session.scalar(select(DemoAccount.username).where(DemoAccount.role == "leader",
                                                                      DemoAccount.scope == "NTF"))
        units = db.session.scalars(select(OrgUnit.id)).all()
        common = db.session.scalar(text("SELECT last_name FROM member GROUP BY last_name "
                                        "ORDER BY count(*) DESC, last_name LIMIT 1"))
        branch = db.session.scalar(select(OrgUnit.id).where(OrgUnit.level == "branch").order_by(OrgUnit.code))
        db.session.remove()
    return {"leader": leader, "units": units, "common": common, "branch": branch}


@pytest.fixture(params=["sorted matches", "sort index"])
def paging(request, monkeypatch):
    """The way pages are read: "sorted matches" (the default for a list of SORT_MATCHES_UP_TO rows or fewer, as
    every list of this register is), checked to have served pages; or "sort index", as for longer lists."""
    from webapp.views import scoped_interface

    served = []
    sorted_match_ids = scoped_interface.ScopedInterface.sorted_match_ids

    def recorded(self, *args, **kwargs):
        ids = sorted_match_ids(self, *args, **kwargs)
        served.append(ids)
        return ids

    monkeypatch.setattr(scoped_interface.ScopedInterface, "sorted_match_ids", recorded)
    if request.param == "sort index":
        monkeypatch.setattr(scoped_interface, "SORT_MATCHES_UP_TO", 0)
    yield request.param
    if request.param == "sorted matches":
        assert any(ids for ids in served), "no page was read as sorted matches"
    else:
        assert not served


def old_ids(where: str = "1=1", order: str = "last_name", direction: str = "asc", page: int = 0,
            params: dict | None = None) -> list[int]:
    """The old query: the page of members the filters reach, in the order FAB gave them (the id breaks ties)."""
    sql = (f"SELECT id FROM member WHERE {where} ORDER BY {order} {direction}, id {direction} "
           f"LIMIT {PAGE} OFFSET {page * PAGE}")
    return list(db.session.execute(text(sql), params or {}).scalars())


def old_count(where: str = "1=1", params: dict | None = None) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM member WHERE {where}"), params or {}).scalar()


def contains(column: str) -> str:
    """FAB's "contains" as SQLAlchemy writes ilike on each engine."""
    if db.engine.dialect.name == "postgresql":
        return f"{column} ILIKE :pattern"
    return f"lower({column}) LIKE lower(:pattern)"


def screen_ids(client, query: str = "") -> tuple[list[int], str]:
    page = client.get("/memberview/list/" + query)
    assert page.status_code == 200, query
    html = page.get_data(as_text=True)
    return [int(pk) for pk in dict.fromkeys(SHOW_LINK.findall(html))], html


def leader_client(app, register):
    from webapp.security.scope import acting_options

    client = app.test_client()
    response = client.post("/login/", data={"username": register["leader"], "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=register["leader"])
        key = next(o.key for o in acting_options(user) if o.role == "leader" and o.target_label.startswith("NTF"))
    assert client.post("/acting/switch", data={"key": key}).status_code == 302
    assert client.post("/confidentiality/", data={"confirm": "yes"}).status_code == 302
    return client


def test_screen_pages_and_sorts_match_the_old_query(clean_app, register, paging):
    client = leader_client(clean_app, register)
    with clean_app.app_context():
        ids, html = screen_ids(client)
        assert ids == old_ids()
        assert re.search(rf"Record Count:</strong>\s*{MEMBERS}\b", html) or f"{MEMBERS}" in html
        for page in (1, 7, MEMBERS // PAGE - 1, MEMBERS // PAGE):
            assert screen_ids(client, f"?page_MemberView={page}")[0] == old_ids(page=page), page
        for column in SCREEN_SORTS:
            for direction in ("asc", "desc"):
                query = f"?_oc_MemberView={column}&_od_MemberView={direction}"
                assert screen_ids(client, query)[0] == old_ids(order=column, direction=direction), query
                query += "&page_MemberView=3"
                assert screen_ids(client, query)[0] == old_ids(order=column, direction=direction, page=3), query
        unit = register["branch"]
        assert (screen_ids(client, f"?_flt_0_home_unit={unit}")[0]
                == old_ids(f"home_unit_id = {unit}"))


@pytest.mark.parametrize("column", ["last_name", "first_name"])
def test_name_search_matches_the_old_query(clean_app, register, paging, column):
    client = leader_client(clean_app, register)
    with clean_app.app_context():
        names = db.session.scalars(select(getattr(Member, column)).distinct().order_by(getattr(Member, column))
                                   .limit(40)).all()
        texts = {register["common"], register["common"][1:5].upper(), register["common"][:2], "sen", "ø", "Ø", "an%",
                 "x_y", "zzzz", names[0], names[-1][-3:]}
        for value in sorted(texts):
            params = {"pattern": f"%{value}%"}
            expected = old_ids(contains(column), params=params)
            shown, html = screen_ids(client, f"?_flt_2_{column}={value.replace('%', '%25')}")
            assert shown == expected, value
            assert old_count(contains(column), params) == 0 or "No records found" not in html


def test_api_pages_sorts_and_search_match_the_old_query(clean_app, register, paging):
    client = clean_app.test_client()
    headers = api_token(client, register["leader"], clean_app.config["DEMO_PASSWORD"])
    with clean_app.app_context():
        def api(q: str) -> dict:
            response = client.get(f"/api/v1/member/?q=({q})", headers=headers)
            assert response.status_code == 200, (q, response.json)
            return response.json

        body = api("page:0,page_size:25")
        assert body["count"] == MEMBERS
        assert body["ids"] == old_ids(order="id")
        assert api("page:5,page_size:25")["ids"] == old_ids(order="id", page=5)
        for column in API_SORTS:
            for direction in ("asc", "desc"):
                q = f"order_column:{column},order_direction:{direction},page:2,page_size:25"
                body = api(q)
                assert body["ids"] == old_ids(order=column, direction=direction, page=2), q
                assert [row["member_no"] for row in body["result"]] == [
                    db.session.get(Member, pk).member_no for pk in body["ids"]]
        common = register["common"]
        params = {"pattern": f"%{common}%"}
        body = api(f"filters:!((col:last_name,opr:ct,value:{common})),order_column:last_name,order_direction:asc,"
                   f"page:0,page_size:25")
        assert body["ids"] == old_ids(contains("last_name"), params=params)
        assert body["count"] == old_count(contains("last_name"), params)
        unit = register["branch"]
        body = api(f"filters:!((col:home_unit,opr:rel_o_m,value:{unit})),page:0,page_size:25")
        assert body["ids"] == old_ids(f"home_unit_id = {unit}", order="id")
        assert body["count"] == old_count(f"home_unit_id = {unit}")


def test_count_stops_at_the_cap_and_says_more_than(clean_app, register, monkeypatch):
    from webapp.views import scoped_interface

    monkeypatch.setattr(scoped_interface, "COUNT_CAP", 100)
    client = leader_client(clean_app, register)
    with clean_app.app_context():
        ids, html = screen_ids(client)
        assert ids == old_ids()
        assert "mer enn 100" in html
        # Four pages past the one asked for are always counted, so "next" keeps working past the cap.
        ids, html = screen_ids(client, "?page_MemberView=10")
        assert ids == old_ids(page=10)
        assert "mer enn 350" in html
        assert "?page_MemberView=11" in html or "page_MemberView=11" in html
        headers = api_token(client, register["leader"], clean_app.config["DEMO_PASSWORD"])
        body = client.get("/api/v1/member/?q=(page:0,page_size:25)", headers=headers).json
        assert body["count"] == 101 and body["ids"] == old_ids(order="id")


def test_a_page_deep_enough_counts_every_row_without_a_limit(clean_app, register, monkeypatch):
    """A page that needs PLAIN_COUNT_FROM rows counted or more counts them all, exactly and without a limit; a page
    before it still stops at the cap. The same rows as the old query, on the screen and in the API."""
    from webapp.views import scoped_interface

    monkeypatch.setattr(scoped_interface, "COUNT_CAP", 100)
    monkeypatch.setattr(scoped_interface, "PLAIN_COUNT_FROM", 8 * PAGE)
    client = leader_client(clean_app, register)
    headers = api_token(client, register["leader"], clean_app.config["DEMO_PASSWORD"])
    last = MEMBERS // PAGE - 1
    with clean_app.app_context():
        ids, html = screen_ids(client, "?page_MemberView=1")  # 5 pages to count: stops there
        assert ids == old_ids(page=1) and "mer enn 125" in html
        for page in (last // 2, last):  # 12 and 19 pages to count: all 400 rows are
            ids, html = screen_ids(client, f"?page_MemberView={page}")
            assert ids == old_ids(page=page) and "mer enn" not in html, page
            body = client.get(f"/api/v1/member/?q=(page:{page},page_size:{PAGE})", headers=headers).json
            assert (body["count"], body["ids"]) == (MEMBERS, old_ids(order="id", page=page)), page


def test_name_search_follows_changed_and_removed_names(clean_app, register):
    client = leader_client(clean_app, register)
    with clean_app.app_context():
        member = db.session.scalars(select(Member).order_by(Member.id)).first()
        member.last_name = "Qwertyvik"
        db.session.commit()
        assert screen_ids(client, "?_flt_2_last_name=wertyv")[0] == [member.id]
        member.last_name = "Asdfgheim"
        db.session.commit()
        assert screen_ids(client, "?_flt_2_last_name=wertyv")[0] == []
        assert screen_ids(client, "?_flt_2_last_name=sdfghe")[0] == [member.id]
        db.session.execute(text("UPDATE member SET first_name = 'Zxcvbnora' WHERE id = :id"), {"id": member.id})
        db.session.commit()
        assert screen_ids(client, "?_flt_2_first_name=xcvbno")[0] == [member.id]


def test_back_half_pages_read_from_the_end_match_the_old_query(clean_app, register, paging):
    """Pages past the middle of a list counted exactly are read in the reversed order and turned back: the same
    rows in the same order, for each sort both ways (left_on has NULLs), a short last page, and past the end."""
    client = leader_client(clean_app, register)
    headers = api_token(client, register["leader"], clean_app.config["DEMO_PASSWORD"])
    last = MEMBERS // PAGE - 1
    with clean_app.app_context():
        for column in SCREEN_SORTS:
            for direction in ("asc", "desc"):
                for page in (last // 2, last // 2 + 1, last - 1, last):
                    query = f"?_oc_MemberView={column}&_od_MemberView={direction}&page_MemberView={page}"
                    expected = old_ids(order=column, direction=direction, page=page)
                    assert len(expected) == PAGE and screen_ids(client, query)[0] == expected, query
        unit = register["branch"]
        in_unit = old_count(f"home_unit_id = {unit}")
        assert in_unit % PAGE, "the unit's last page should be short"
        page = in_unit // PAGE
        shown = screen_ids(client, f"?_flt_0_home_unit={unit}&page_MemberView={page}")[0]
        assert shown == old_ids(f"home_unit_id = {unit}", page=page) and 0 < len(shown) < PAGE

        def api(q: str) -> list[int]:
            response = client.get(f"/api/v1/member/?q=({q})", headers=headers)
            assert response.status_code == 200, (q, response.json)
            return response.json["ids"]

        size = 30  # 400 members: the last page (13) has 10
        for page in (7, 12, 13, 14):
            expected = list(db.session.execute(text(
                f"SELECT id FROM member ORDER BY id LIMIT {size} OFFSET {page * size}")).scalars())
            assert api(f"page:{page},page_size:{size}") == expected, page
        for column in API_SORTS:
            expected = list(db.session.execute(text(
                f"SELECT id FROM member ORDER BY {column} DESC, id DESC LIMIT {size} OFFSET {13 * size}")).scalars())
            assert len(expected) == MEMBERS - 13 * size
            assert api(f"order_column:{column},order_direction:desc,page:13,page_size:{size}") == expected, column
