"""The REST API: OpenAPI spec, JWT only (no browser cookie), and JSON errors instead of 500s."""

from tests.helpers import api_token, login_as


def test_openapi_spec_lists_our_resources(client, world):
    headers = api_token(client, world.logins["office"])
    spec = client.get("/api/v1/_openapi", headers=headers)
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for resource in ("org_unit", "employer", "workplace", "member", "employment", "position"):
        assert f"/api/v1/{resource}/" in paths


def test_api_refuses_browser_cookie_login(client, world):
    login_as(client, world.logins["office"])
    assert client.get("/memberview/list/").status_code == 200  # the session works in the browser
    assert client.get("/api/v1/member/").status_code == 401  # but not for the API


def test_api_without_token_is_401(client, world):
    assert client.get("/api/v1/member/").status_code == 401


def test_api_bad_json_is_400_not_500(client, world):
    headers = api_token(client, world.logins["office"])
    response = client.post("/api/v1/member/", data="not json", headers=headers)
    assert response.status_code == 400


def test_api_unknown_related_id_is_422(client, world):
    headers = api_token(client, world.logins["office"])
    response = client.post("/api/v1/position/",
                           json={"member": 999999, "type": "leader", "org_unit": world.units["AV1"].id,
                                 "start_date": "2024-01-01"}, headers=headers)
    assert response.status_code in (404, 422)


def test_api_update_valid_field(client, world, dbs):
    from webapp.models import Member

    headers = api_token(client, world.logins["member_data_admin"])
    member = world.members["inside"]
    response = client.put(f"/api/v1/member/{member.id}", json={"city": "Ås"}, headers=headers)
    assert response.status_code == 200, response.json
    assert dbs.get(Member, member.id).city == "Ås"
