"""Every role logs in and lands on its own home page."""

import pytest

from tests.helpers import login_as

HOMES = {
    "office": "/",
    "leader": "/unit/",
    "treasurer": "/unit/",
    "member_data_admin": "/unit/",
    "workplace_trustee": "/memberview/list/",
    "deduction_contact": "/portal/",
    "member": "/minside/",
    "analyst": "/statistics/",
}


@pytest.mark.parametrize("role", sorted(HOMES))
def test_each_role_lands_on_its_home(client, world, role):
    login_as(client, world.logins[role], role)
    response = client.get("/", follow_redirects=False)
    if HOMES[role] == "/":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(HOMES[role])
        page = client.get(HOMES[role])
        assert page.status_code == 200, page.data[:2000]
