"""Every role against the screens of the member's page, the messages and the office's member services."""

from __future__ import annotations

import pytest

from tests.helpers import login_as

ROLES = ("office", "leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
         "analyst")
OFFICE_SCREENS = ("/courseview/list/", "/courseapplicationview/list/", "/recruitmentview/list/", "/prizeview/list/",
                  "/prizeorderview/list/", "/memberdocumentview/list/", "/employmentchangeview/list/")
# Who has an inbox: the parties and the union side that answers.
INBOX = {"office", "leader", "treasurer", "member_data_admin", "deduction_contact", "member"}


def allowed(response) -> bool:
    return response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_member_page_messages_and_office_screens_by_role(client, world, role):
    login_as(client, world.logins[role], role)
    assert allowed(client.get("/minside/")) == (role == "member")
    assert allowed(client.get("/minside/shop")) == (role == "member")
    assert allowed(client.get("/messages/")) == (role in INBOX)
    assert allowed(client.get("/messages/new")) == (role in INBOX)
    for url in OFFICE_SCREENS:
        assert allowed(client.get(url)) == (role == "office"), url
