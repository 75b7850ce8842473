"""Fetching a refund document the way a browser or an API client does: an approved quarter's document that is
not kept yet answers with its job (a redirect to /jobs/<id>, or 202 from the API), and the same address then
answers the kept PDF. Tests run jobs at once (HUEY_IMMEDIATE), so the job is done when the first answer comes."""

from __future__ import annotations

import re


def get_document(client, url: str, headers: dict | None = None):
    """The response to `url` once its document is ready: the first answer may hand over to the job (checked: its
    result link is `url`); anything else (a PDF, 404, 403) is returned as it is."""
    response = client.get(url, headers=headers)
    if response.status_code == 303:
        match = re.fullmatch(r"/jobs/(\d+)", response.headers["Location"])
        assert match, response.headers["Location"]
        state = client.get(f"/jobs/{match.group(1)}.json").json
        assert state["status"] == "done" and state["result_url"] == url, state
        response = client.get(url, headers=headers)
    elif response.status_code == 202 and headers is not None:
        assert response.json["result_url"] == url, response.json
        response = client.get(url, headers=headers)
    assert response.status_code not in (202, 303), (url, response.status_code)
    return response


def job_of(client, response) -> dict:
    """The job a response handed the work to (a 303 to /jobs/<id>), as its page's JSON shows it."""
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", location), location
    return client.get(location + ".json").json


def job_result(client, response):
    """The finished job's result (its result link followed)."""
    state = job_of(client, response)
    assert state["status"] == "done" and state["result_url"], state
    return client.get(state["result_url"])
