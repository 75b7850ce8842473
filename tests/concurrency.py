"""Real concurrent requests against the live server, for the one-winner tests of state changes.

Each caller logs in with its own HTTP session (its own cookie), then all of them fire at once,
released together by a barrier, so the requests overlap in the server's threads and in the database.
The proof is meant for PostgreSQL (row locks and conditional updates); `postgres_only` skips elsewhere.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
import requests

from tests.factories import PASSWORD

postgres_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the one-winner proof needs PostgreSQL's concurrency (TEST_DATABASE_URL)",
)


def browser_session(base_url: str, username: str, password: str = PASSWORD,
                    acting_key: str | None = None) -> requests.Session:
    """A logged-in session of the screens (cookie), optionally switched to an acting role key."""
    session = requests.Session()
    response = session.post(f"{base_url}/login/", data={"username": username, "password": password},
                            allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    if acting_key is not None:
        assert session.post(f"{base_url}/acting/switch", data={"key": acting_key},
                            allow_redirects=False).status_code == 302
    return session


def api_session(base_url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A session of the REST API (JWT bearer token)."""
    session = requests.Session()
    response = session.post(
        f"{base_url}/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": False},
    )
    assert response.status_code == 200, response.text[:500]
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def fire_together(calls: list[Callable[[], requests.Response]], timeout: float = 60) -> list[requests.Response]:
    """Run every call in its own thread, all released at the same instant; the responses in call order.

    An exception in a call (a dropped connection, say) is raised here, so a test cannot pass by losing a request."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], requests.Response]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # handed to the test below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    for result in results:
        if result is None:
            raise TimeoutError("a concurrent request did not finish")
        if isinstance(result, Exception):
            raise result
    return results
