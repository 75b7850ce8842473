"""An officer switches to any unit below their own, and to nothing else (issue 14, seed 000: "kan du skifte mellom
disse ved å trekke ned menyen").

The test world (tests/factories.py): NTF > LF1 > AV1 > KL1 and NTF > LF2 > AV2. The member-data admin holds LF1,
the leader AV1. A unit below is offered in the top bar and linked from the unit page; choosing one narrows the scope
to it; a unit that is not below (a sibling, a parent, another association, an id nobody has) is refused exactly like
an option the user does not have, and a forged session value reaches nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from tests.document_helpers import get_document
from tests.factories import make_member, make_user
from tests.helpers import api_token, login, login_as
from webapp.extensions import db
from webapp.models import ConfidentialityDeclaration, Member, OrgUnit, Position, RefundPolicy, RefundRun, RefundUnit
from webapp.models.choices import PositionType
from webapp.security.scope import SESSION_KEY
from webapp.services import refunds
from webapp.services.periods import Quarter

MDA = "member_data_admin"


def key(role: str, unit_id: int) -> str:
    return f"{role}:units:{unit_id}"


def switch(client, option_key: str) -> int:
    return client.post("/acting/switch", data={"key": option_key}).status_code


def keys_in(html: str, container_id: str) -> set[str]:
    """The option keys of the switch buttons inside the element with `container_id`."""
    start = html.index(f'id="{container_id}"')
    end = html.find("</ul>", start)
    return set(re.findall(r'name="key" value="([^"]+)"', html[start:end]))


def unit_heading(client) -> str:
    page = client.get("/unit/")
    assert page.status_code == 200
    return re.search(r'<h1 id="unit-name">([^<]*)</h1>', page.get_data(as_text=True)).group(1)


def member_list(client) -> str:
    response = client.get("/memberview/list/?psize_MemberView=100")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_menu_and_the_unit_page_offer_the_units_below_and_nothing_else(client, world):
    units = world.units
    login_as(client, world.logins[MDA], MDA)
    html = client.get("/unit/").get_data(as_text=True)
    offered = keys_in(html, "acting-options")
    assert {key(MDA, units["AV1"].id), key(MDA, units["KL1"].id)} <= offered
    assert not {key(MDA, units[code].id) for code in ("NTF", "LF2", "AV2")} & offered
    # The unit page links the units right below (AV1); KL1 is one step further, on AV1's page.
    assert keys_in(html, "units-below") == {key(MDA, units["AV1"].id)}
    assert "AV1 Avdeling Øst" in html


def test_an_officer_acts_for_a_unit_below_with_its_scope_only(client, world):
    units = world.units
    login_as(client, world.logins[MDA], MDA)
    assert unit_heading(client) == "LF1 Landsforening én"
    assert "Landsen" in member_list(client)  # a member of LF1 itself

    assert switch(client, key(MDA, units["AV1"].id)) == 302
    assert unit_heading(client) == "AV1 Avdeling Øst"
    page = client.get("/unit/").get_data(as_text=True)
    assert re.search(r"AV1 Avdeling Øst\s*</span>", page)  # the top bar names the unit acted for
    listed = member_list(client)
    assert "Nordmann" in listed and "Æsøy" in listed
    assert "Landsen" not in listed and "Utenfor" not in listed
    assert client.get(f"/memberview/show/{world.members['lf1_direct'].id}").status_code == 404
    assert keys_in(page, "units-below") == {key(MDA, units["KL1"].id)}

    assert switch(client, key(MDA, units["KL1"].id)) == 302
    assert unit_heading(client) == "KL1 Klubb Ås"
    listed = member_list(client)
    assert "Æsøy" in listed and "Nordmann" not in listed

    # Back to the own unit, from the menu.
    assert switch(client, key(MDA, units["LF1"].id)) == 302
    assert unit_heading(client) == "LF1 Landsforening én"


@pytest.mark.parametrize("target", ["AV2", "LF2", "NTF", "nobody", "not a number", "other role", "empty", "huge"])
def test_switching_to_a_unit_not_below_is_refused_like_one_nobody_has(client, world, target):
    units = world.units
    forged = {
        "AV2": key(MDA, units["AV2"].id), "LF2": key(MDA, units["LF2"].id), "NTF": key(MDA, units["NTF"].id),
        "nobody": key(MDA, 999_999), "not a number": f"{MDA}:units:AV1", "other role": key("leader", units["KL1"].id),
        "empty": "", "huge": key(MDA, 2**70),
    }[target]
    login_as(client, world.logins[MDA], MDA)
    assert switch(client, forged) == 403
    assert switch(client, key(MDA, 999_999)) == 403  # the same answer as for a unit nobody has
    assert unit_heading(client) == "LF1 Landsforening én"  # nothing changed
    assert "Utenfor" not in member_list(client)


def test_a_leader_cannot_switch_up_or_sideways(client, world):
    login_as(client, world.logins["leader"], "leader")
    for code in ("LF1", "NTF", "AV2", "LF2"):
        assert switch(client, key("leader", world.units[code].id)) == 403, code
    assert switch(client, key("leader", world.units["KL1"].id)) == 302
    assert unit_heading(client) == "KL1 Klubb Ås"


def test_a_forged_session_value_reaches_nothing(client, world):
    login(client, world.logins[MDA])
    with client.session_transaction() as session:
        session[SESSION_KEY] = key(MDA, world.units["AV2"].id)
    response = client.get("/memberview/list/")
    assert "Utenfor" not in response.get_data(as_text=True)
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/acting/choose")
    assert client.get(f"/memberview/show/{world.members['outside'].id}").status_code in (302, 403, 404)


def test_the_unit_below_goes_with_the_position(client, clean_app, world):
    login_as(client, world.logins[MDA], MDA)
    assert switch(client, key(MDA, world.units["AV1"].id)) == 302
    assert unit_heading(client) == "AV1 Avdeling Øst"
    with clean_app.app_context():
        db.session.execute(update(Position).where(Position.id == world.positions[MDA].id)
                           .values(end_date=dt.date.today() - dt.timedelta(days=1)))
        db.session.commit()
        db.session.remove()
    assert client.get("/unit/").status_code in (302, 403)
    assert "Nordmann" not in client.get("/memberview/list/").get_data(as_text=True)


def test_the_api_reaches_the_units_below_and_nothing_else(client, world):
    headers = api_token(client, world.logins[MDA])
    for code in ("LF1", "AV1", "KL1"):
        assert client.get(f"/api/v1/org_unit/{world.units[code].id}", headers=headers).status_code == 200, code
    for code in ("NTF", "LF2", "AV2"):
        assert client.get(f"/api/v1/org_unit/{world.units[code].id}", headers=headers).status_code == 404, code
    listed = client.get("/api/v1/member/?q=(page_size:100)", headers=headers).json["ids"]
    assert world.members["outside"].id not in listed
    assert {world.members[name].id for name in ("inside", "club", "lf1_direct")} <= set(listed)


# ------------------------------------------------------------------ a national association's leader, documents


@pytest.fixture()
def association_leader(clean_app, world) -> str:
    """A leader of LF1 (with a login), and 2026-Q1's refunds approved."""
    with clean_app.app_context():
        lf1 = db.session.get(OrgUnit, world.units["LF1"].id)
        member = make_member(lf1, "Lars", "Landsleder")
        member.user = make_user(member.member_no, "Lars", "Landsleder")
        db.session.add(Position(member=member, type=PositionType.leader, org_unit=lf1,
                                start_date=dt.date.today() - dt.timedelta(days=30)))
        db.session.add(ConfidentialityDeclaration(user=member.user, confirmed_at=dt.datetime.now(),
                                                  text_version="test"))
        db.session.add(RefundPolicy(valid_from="2020-Q1", share_national_association=40, share_branch=40,
                                    share_club=20, weight_retired=0))
        db.session.commit()
        refunds.calculate(Quarter(2026, 1), pool_ore=1000_00)
        refunds.approve(Quarter(2026, 1))
        username = member.user.username
        db.session.remove()
    return username


def refund_ids(dbs) -> dict[str, int]:
    rows = select(RefundUnit.code, RefundUnit.id).join(RefundRun, RefundRun.id == RefundUnit.run_id)
    return dict(dbs.execute(rows).all())


def test_a_national_associations_leader_opens_a_branchs_refund_letter(client, world, association_leader, dbs):
    ids = refund_ids(dbs)
    login_as(client, association_leader, "leader")
    page = client.get("/unit/").get_data(as_text=True)
    assert f"/refunds/{ids['AV1']}/letter.pdf" not in page  # the association's own documents only

    assert switch(client, key("leader", world.units["AV1"].id)) == 302
    page = client.get("/unit/").get_data(as_text=True)
    letter_url = f"/refunds/{ids['AV1']}/letter.pdf"
    assert letter_url in page
    letter = get_document(client, letter_url)  # rendered by a job the first time, then the kept PDF
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.data)).pages)
    assert "AV1 Avdeling Øst" in text
    for code in ("AV2", "LF2"):
        assert client.get(f"/refunds/{ids[code]}/letter.pdf").status_code == 404, code
    # Another association's branch cannot be switched to, so its page and documents stay out of reach.
    assert switch(client, key("leader", world.units["AV2"].id)) == 403


def test_the_member_count_of_a_unit_below_is_its_own(client, world, dbs):
    login_as(client, world.logins[MDA], MDA)
    switch(client, key(MDA, world.units["KL1"].id))
    count = re.search(r'id="member-count">(\d+)<', client.get("/unit/").get_data(as_text=True)).group(1)
    kl1_members = dbs.scalars(select(Member.id).where(Member.home_unit_id == world.units["KL1"].id)).all()
    assert int(count) == len(kl1_members)
