"""Informasjon fra forbundet on Min side: the member's yes or no to information by e-mail, by SMS and to surveys,
saved and audited; the send-outs follow the choice, and the unsubscribe link and Min side agree."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from tests.helpers import login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import AuditEntry, Member, SendOut, SendOutRecipient
from webapp.models.choices import ContactChoice, SendOutChannel
from webapp.services import segments, sendouts

FIELDS = ("info_by_email", "info_by_sms", "surveys")


def choices_of(dbs, member_id) -> tuple[bool, bool, bool]:
    dbs.expire_all()
    member = dbs.get(Member, member_id)
    return member.info_by_email, member.info_by_sms, member.surveys


def shown(page: str) -> dict[str, str]:
    """What the section shows for each choice, and which boxes its form has ticked."""
    values = {name: re.search(rf'id="{name.replace("_", "-")}">([^<]*)<', page).group(1) for name in FIELDS}
    ticked = {name: bool(re.search(rf'name="{name}" value="1" checked', page)) for name in FIELDS}
    return {**values, **{f"{name}_ticked": ticked[name] for name in FIELDS}}


def test_the_section_shows_yes_to_every_channel_by_default(client, world):
    login_as(client, world.logins["member"], "member")
    page = client.get("/minside/").get_data(as_text=True)
    assert "Informasjon fra forbundet" in page
    assert shown(page) == {"info_by_email": "Ja", "info_by_sms": "Ja", "surveys": "Ja", "info_by_email_ticked": True,
                           "info_by_sms_ticked": True, "surveys_ticked": True}


def test_the_choices_are_saved_audited_and_shown(client, world, dbs):
    member_id = world.members["inside"].id
    login_as(client, world.logins["member"], "member")
    response = client.post("/minside/edit/information", data={"info_by_sms": "1"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and translated(client.application, "Your changes are saved.") in page
    assert choices_of(dbs, member_id) == (False, True, False)
    assert shown(page) == {"info_by_email": "Nei", "info_by_sms": "Ja", "surveys": "Nei", "info_by_email_ticked": False,
                           "info_by_sms_ticked": True, "surveys_ticked": False}
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "update_own_data")).one()
    assert (entry.object_type, entry.object_id, entry.member_id) == ("member", member_id, member_id)
    assert json.loads(entry.details)["fields"] == {"info_by_email": [True, False], "surveys": [True, False]}

    # The same choices again change nothing and log nothing.
    page = client.post("/minside/edit/information", data={"info_by_sms": "on"}, follow_redirects=True)
    assert translated(client.application, "No changes.") in page.get_data(as_text=True)
    assert len(dbs.scalars(select(AuditEntry).where(AuditEntry.action == "update_own_data")).all()) == 1

    # Yes again to all three.
    client.post("/minside/edit/information", data={name: "1" for name in FIELDS})
    assert choices_of(dbs, member_id) == (True, True, True)


def test_the_section_changes_nothing_else_of_the_member(client, world, dbs):
    """Only the three choices are read from the form: other fields sent along are ignored."""
    member_id = world.members["inside"].id
    before = dbs.get(Member, member_id)
    kept = (before.magazine, before.travel_insurance, before.email_private, before.first_name)
    login_as(client, world.logins["member"], "member")
    client.post("/minside/edit/information", data={"info_by_email": "1", "magazine": "", "travel_insurance": "",
                                                   "email_private": "annen@example.no", "first_name": "X"})
    dbs.expire_all()
    after = dbs.get(Member, member_id)
    assert (after.magazine, after.travel_insurance, after.email_private, after.first_name) == kept
    assert choices_of(dbs, member_id) == (True, False, False)


@pytest.mark.parametrize("role", ["office", "leader", "treasurer", "deduction_contact", "analyst"])
def test_no_one_else_changes_a_members_choices(client, world, dbs, role):
    login_as(client, world.logins[role], role)
    response = client.post("/minside/edit/information", data={})
    assert response.status_code in (302, 403)
    for member in world.members.values():
        assert choices_of(dbs, member.id) == (True, True, True)


def test_send_outs_follow_the_choice_made_on_min_side(client, world, dbs):
    member_id = world.members["inside"].id
    member = dbs.get(Member, member_id)
    member.mobile_private, member.preferred_mobile = "91234567", ContactChoice.private
    dbs.commit()

    def reached(channel: SendOutChannel, survey: bool = False) -> bool:
        dbs.expire_all()
        return member_id in {row[0] for row in segments.recipients({}, channel, None, survey=survey)}

    assert reached(SendOutChannel.email) and reached(SendOutChannel.sms) and reached(SendOutChannel.email, True)
    login_as(client, world.logins["member"], "member")
    client.post("/minside/edit/information", data={"info_by_sms": "1", "surveys": "1"})
    assert not reached(SendOutChannel.email) and reached(SendOutChannel.sms)
    client.post("/minside/edit/information", data={"info_by_email": "1", "info_by_sms": "1"})
    assert reached(SendOutChannel.email) and not reached(SendOutChannel.email, survey=True)
    assert not reached(SendOutChannel.sms, survey=True)


def test_the_unsubscribe_link_and_min_side_agree(client, clean_app, world, dbs):
    """The link in an e-mail says no to information by e-mail; Min side then shows no, and the member may say yes
    again there."""
    member_id = world.members["inside"].id
    with clean_app.app_context():
        send_out = SendOut(channel=SendOutChannel.email, criteria="{}", subject="Nytt fra forbundet", body="Hei",
                           created_at=dt.datetime.now())
        db.session.add(send_out)
        db.session.flush()
        recipient = SendOutRecipient(send_out_id=send_out.id, member_id=member_id, address="m1@example.no")
        db.session.add(recipient)
        db.session.commit()
        assert sendouts.unsubscribe(recipient) == sendouts.UNSUBSCRIBED
        db.session.commit()
        db.session.remove()
    assert choices_of(dbs, member_id) == (False, True, True)
    login_as(client, world.logins["member"], "member")
    values = shown(client.get("/minside/").get_data(as_text=True))
    assert (values["info_by_email"], values["info_by_email_ticked"]) == ("Nei", False)
    assert (values["info_by_sms"], values["surveys"]) == ("Ja", "Ja")
    client.post("/minside/edit/information", data={name: "1" for name in FIELDS})
    assert choices_of(dbs, member_id) == (True, True, True)
    actions = dbs.scalars(select(AuditEntry.action).where(AuditEntry.member_id == member_id)
                          .order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["unsubscribe", "update_own_data"]
