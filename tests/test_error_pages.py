"""Error pages speak the user's language inside the usual layout; the API keeps its JSON."""

from __future__ import annotations

import io

from tests.helpers import api_token, login, login_as


def test_not_found_is_the_same_page_for_a_missing_row_and_one_outside_the_scope(client, world):
    login_as(client, world.logins["leader"], "leader")
    outside = client.get(f"/memberview/show/{world.members['outside'].id}")
    missing = client.get("/memberview/show/999999")
    assert outside.status_code == missing.status_code == 404
    page = outside.get_data(as_text=True)
    assert "Ikke funnet" in page and "Siden finnes ikke" in page and "Feilkode 404" in page
    assert 'id="acting-role"' in page  # inside the layout, with the role switcher
    assert "Siden finnes ikke" in missing.get_data(as_text=True)


def test_forbidden_and_method_not_allowed_pages(client, world):
    login(client, world.logins["office"])
    forbidden = client.get("/paymentview/add")  # payments come from bank files, never by hand
    assert forbidden.status_code == 403 and "Ingen tilgang" in forbidden.get_data(as_text=True)
    wrong_method = client.get("/portal/contacts")
    assert wrong_method.status_code == 405 and "Ikke tillatt" in wrong_method.get_data(as_text=True)
    assert "POST" in wrong_method.headers["Allow"]


def test_english_error_pages_follow_the_language_switch(client, world):
    login(client, world.logins["office"])
    client.get("/lang/en")
    page = client.get("/memberview/show/999999").get_data(as_text=True)
    assert "Not found" in page and "Error code 404" in page


def test_too_large_upload_is_refused_with_413(client, clean_app, world):
    login(client, world.logins["office"])
    limit = clean_app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/memberdocumentview/add", data={"pdf": (io.BytesIO(b"%PDF-" + b"0" * limit), "stor.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "For stor" in response.get_data(as_text=True)


def test_the_api_keeps_its_json_answers(client, world):
    headers = api_token(client, world.logins["leader"])
    response = client.get(f"/api/v1/member/{world.members['outside'].id}", headers=headers)
    assert response.status_code == 404 and response.is_json
