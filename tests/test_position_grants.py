"""Who may grant a position, the same on the screen and over the API (issue 11, item 3).

A position is access: a member-data admin position shows national ids whole. The office grants positions
anywhere; a leader (of AV1 in the test world) only in the units strictly below (KL1), never to themselves,
and never changes or ends their own position.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import api_token, login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import Position
from webapp.models.choices import PositionType

# The date the tests send, and compare with what is stored (not a later date.today(): a run may cross midnight).
SENT_DAY = dt.date.today()
TODAY = SENT_DAY.isoformat()
SELF_REFUSED = "Member: you cannot give a position to yourself; the union office does that."
UNIT_REFUSED = ("Organisational unit: a leader registers positions only in the units below the unit they lead; "
                "the union office registers the others.")
CHANGE_REFUSED = ("Position: you may change or end only positions of other members in the units below the unit "
                  "you lead; the union office changes the others.")


def positions_of(dbs, member_id: int) -> list[tuple[str, int | None, dt.date | None]]:
    dbs.expire_all()
    rows = dbs.query(Position).filter_by(member_id=member_id).order_by(Position.id)
    return [(row.type.name, row.org_unit_id, row.end_date) for row in rows]


def position_payload(world, member_key: str, unit_key: str, kind: str = "member_data_admin") -> dict:
    return {"member": world.members[member_key].id, "type": kind, "org_unit": world.units[unit_key].id,
            "start_date": TODAY}


def position_form(world, member_key: str, unit_key: str, kind: str = "member_data_admin") -> dict:
    return {name: str(value) for name, value in position_payload(world, member_key, unit_key, kind).items()}


@pytest.fixture()
def club_position(clean_app, world) -> int:
    """A treasurer position in KL1 (below the leader's AV1), held by the club member."""
    with clean_app.app_context():
        position = Position(member_id=world.members["club"].id, type=PositionType.treasurer,
                            org_unit_id=world.units["KL1"].id, start_date=dt.date.today() - dt.timedelta(days=5))
        db.session.add(position)
        db.session.commit()
        position_id = position.id
        db.session.remove()
    return position_id


# ------------------------------------------------------------------ API


def test_api_leader_cannot_make_themselves_member_data_admin(client, world, dbs):
    headers = api_token(client, world.logins["leader"])
    before = positions_of(dbs, world.members["leader"].id)
    for unit in ("KL1", "AV1"):
        response = client.post("/api/v1/position/", json=position_payload(world, "leader", unit), headers=headers)
        assert response.status_code == 422
        assert response.json["message"]["member"] == [translated(client.application, SELF_REFUSED)]
    assert positions_of(dbs, world.members["leader"].id) == before
    # And so the leader still reads national ids masked.
    nid = world.members["club"].national_id
    shown = client.get(f"/api/v1/member/{world.members['club'].id}", headers=headers).json["result"]["national_id"]
    assert shown == nid[:6] + "*****"


def test_api_leader_grants_only_below_their_own_unit(client, world, dbs):
    headers = api_token(client, world.logins["leader"])
    club = world.members["club"].id
    response = client.post("/api/v1/position/", json=position_payload(world, "club", "AV1"), headers=headers)
    assert response.status_code == 422
    assert response.json["message"]["org_unit"] == [translated(client.application, UNIT_REFUSED)]
    assert positions_of(dbs, club) == []
    response = client.post("/api/v1/position/", json=position_payload(world, "club", "KL1"), headers=headers)
    assert response.status_code == 201
    assert positions_of(dbs, club) == [("member_data_admin", world.units["KL1"].id, None)]


def test_api_office_grants_anywhere(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    response = client.post("/api/v1/position/", json=position_payload(world, "leader", "AV1"), headers=headers)
    assert response.status_code == 201
    assert ("member_data_admin", world.units["AV1"].id, None) in positions_of(dbs, world.members["leader"].id)


def test_api_leader_cannot_move_a_position_to_their_unit_or_to_themselves(client, world, dbs, club_position):
    headers = api_token(client, world.logins["leader"])
    url = f"/api/v1/position/{club_position}"
    moved = client.put(url, json={"org_unit": world.units["AV1"].id}, headers=headers)
    assert moved.status_code == 422 and "org_unit" in moved.json["message"]
    taken = client.put(url, json={"member": world.members["leader"].id}, headers=headers)
    assert taken.status_code == 422 and "member" in taken.json["message"]
    assert positions_of(dbs, world.members["club"].id) == [("treasurer", world.units["KL1"].id, None)]
    assert client.put(url, json={"end_date": TODAY}, headers=headers).status_code == 200  # ending one below is theirs
    assert positions_of(dbs, world.members["club"].id) == [("treasurer", world.units["KL1"].id, SENT_DAY)]


def test_api_leader_cannot_change_or_end_their_own_position(client, world, dbs):
    headers = api_token(client, world.logins["leader"])
    own = world.positions["leader"].id
    before = positions_of(dbs, world.members["leader"].id)
    for response in (
        client.put(f"/api/v1/position/{own}", json={"type": "member_data_admin"}, headers=headers),
        client.put(f"/api/v1/position/{own}", json={"end_date": TODAY}, headers=headers),
        client.delete(f"/api/v1/position/{own}", headers=headers),
        # A position in the leader's own unit is not theirs to change either.
        client.delete(f"/api/v1/position/{world.positions['treasurer'].id}", headers=headers),
    ):
        assert response.status_code == 403
        assert response.json["message"] == translated(client.application, CHANGE_REFUSED)
    assert positions_of(dbs, world.members["leader"].id) == before
    assert dbs.get(Position, world.positions["treasurer"].id) is not None


# ------------------------------------------------------------------ screens


def test_screen_leader_cannot_make_themselves_member_data_admin(client, world, dbs):
    login_as(client, world.logins["leader"], "leader")
    before = positions_of(dbs, world.members["leader"].id)
    page = client.post("/positionview/add", data=position_form(world, "leader", "KL1"), follow_redirects=True)
    assert translated(client.application, SELF_REFUSED) in page.get_data(as_text=True)
    page = client.post("/positionview/add", data=position_form(world, "club", "AV1"), follow_redirects=True)
    assert translated(client.application, UNIT_REFUSED) in page.get_data(as_text=True)
    assert positions_of(dbs, world.members["leader"].id) == before
    assert positions_of(dbs, world.members["club"].id) == []
    client.post("/positionview/add", data=position_form(world, "club", "KL1"), follow_redirects=True)
    assert positions_of(dbs, world.members["club"].id) == [("member_data_admin", world.units["KL1"].id, None)]


def test_screen_office_grants_anywhere(client, world, dbs):
    login_as(client, world.logins["office"], "office")
    client.post("/positionview/add", data=position_form(world, "leader", "AV1"), follow_redirects=True)
    assert ("member_data_admin", world.units["AV1"].id, None) in positions_of(dbs, world.members["leader"].id)


def test_screen_leader_cannot_edit_or_delete_their_own_position(client, world, dbs):
    login_as(client, world.logins["leader"], "leader")
    own = world.positions["leader"].id
    before = positions_of(dbs, world.members["leader"].id)
    refused = translated(client.application, CHANGE_REFUSED)
    page = client.get(f"/positionview/edit/{own}", follow_redirects=True).get_data(as_text=True)
    assert refused in page
    form = {**position_form(world, "leader", "AV1"), "end_date": TODAY}
    page = client.post(f"/positionview/edit/{own}", data=form, follow_redirects=True).get_data(as_text=True)
    assert refused in page
    page = client.post(f"/positionview/delete/{own}", follow_redirects=True).get_data(as_text=True)
    assert refused in page
    assert positions_of(dbs, world.members["leader"].id) == before


def test_screen_leader_cannot_move_a_position_to_their_unit_or_to_themselves(client, world, dbs, club_position):
    login_as(client, world.logins["leader"], "leader")
    url = f"/positionview/edit/{club_position}"
    page = client.post(url, data=position_form(world, "club", "AV1", "treasurer"), follow_redirects=True)
    assert translated(client.application, UNIT_REFUSED) in page.get_data(as_text=True)
    page = client.post(url, data=position_form(world, "leader", "KL1", "treasurer"), follow_redirects=True)
    assert translated(client.application, SELF_REFUSED) in page.get_data(as_text=True)
    assert positions_of(dbs, world.members["club"].id) == [("treasurer", world.units["KL1"].id, None)]
    assert positions_of(dbs, world.members["leader"].id) == [("leader", world.units["AV1"].id, None)]
    client.post(url, data={**position_form(world, "club", "KL1", "treasurer"), "end_date": TODAY})
    assert positions_of(dbs, world.members["club"].id) == [("treasurer", world.units["KL1"].id, SENT_DAY)]


def test_leader_appoints_workplace_representatives_at_their_units_workplaces(client, world, dbs):
    headers = api_token(client, world.logins["leader"])
    payload = {"member": world.members["inside"].id, "type": "workplace_trustee",
               "workplace": world.workplaces["W1"].id, "start_date": TODAY}
    assert client.post("/api/v1/position/", json=payload, headers=headers).status_code == 201
    payload["member"] = world.members["leader"].id
    assert client.post("/api/v1/position/", json=payload, headers=headers).status_code == 422
