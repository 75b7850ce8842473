"""Choosing and switching the acting role; the chosen role and unit always show."""

from tests.helpers import login
from webapp.extensions import db


def test_user_with_several_roles_chooses_then_switches(client, world):
    username = world.logins["leader"]
    login(client, username)
    response = client.get("/", follow_redirects=False)
    assert response.headers["Location"].endswith("/acting/choose")
    page = client.get("/acting/choose").get_data(as_text=True)
    assert "Leder" in page and "Medlem" in page

    with client.application.app_context():
        from webapp.security.scope import acting_options

        user = client.application.appbuilder.sm.find_user(username=username)
        options = {o.role: o.key for o in acting_options(user)}
        db.session.remove()
    assert client.post("/acting/switch", data={"key": options["leader"]}).status_code == 302
    page = client.get("/unit/").get_data(as_text=True)
    assert "Leder – AV1 Avdeling Øst" in page  # shown in the top bar

    client.post("/acting/switch", data={"key": options["member"]})
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/minside/")
    assert client.get("/unit/").status_code in (302, 403)  # the leader's page is gone with the role


def test_switching_to_an_option_the_user_lacks_is_refused(client, world):
    login(client, world.logins["treasurer"])
    assert client.post("/acting/switch", data={"key": "office:all:0"}).status_code == 403
    assert client.post("/acting/switch", data={"key": f"leader:units:{world.units['AV2'].id}"}).status_code == 403


def test_single_role_user_needs_no_choice(client, world):
    login(client, world.logins["deduction_contact"])
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/portal/")


def test_ended_position_gives_no_role(client, world, dbs):
    import datetime as dt

    from webapp.models import Position

    position = dbs.get(Position, world.positions["treasurer"].id)
    position.end_date = dt.date.today() - dt.timedelta(days=1)
    dbs.commit()
    login(client, world.logins["treasurer"])
    # Only the member role is left, so no choice is asked for.
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/minside/")
