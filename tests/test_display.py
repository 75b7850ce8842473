"""Lists and detail pages show labels in the user's language, not stored codes."""

from tests.helpers import login_as


def test_enum_labels_and_dates_are_shown_the_norwegian_way(client, world):
    login_as(client, world.logins["office"])
    page = client.get(f"/memberview/show/{world.members['inside'].id}").get_data(as_text=True)
    assert "Ordinær" in page and ">ordinary<" not in page
    assert "01.01.2015" in page  # joined_on as dd.mm.yyyy
    listing = client.get("/employerview/list/").get_data(as_text=True)
    assert "Staten" in listing and "<td>staten</td>" not in listing
