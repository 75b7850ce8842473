"""The user guide: a page per role in Norwegian with its screenshots, public, linked from the login page, every
role's menu and Min side (which also links the download of the member's own data)."""

from __future__ import annotations

import html
import pathlib
import re

import pytest

from tests.helpers import login_as
from webapp.security import roles
from webapp.views.guide import GUIDES, shot_names

STATIC = pathlib.Path(__file__).resolve().parent.parent / "webapp" / "static"


def norwegian_label(app, role: str) -> str:
    with app.test_request_context("/"):
        return roles.role_label(role)


def test_every_role_has_a_guide_and_every_picture_exists():
    assert [guide.role for guide in GUIDES] == list(roles.ALL_ROLES)
    assert shot_names() and all((STATIC / "guide" / f"{name}.png").is_file() for name in shot_names())


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_role_page_is_public_norwegian_and_shows_its_pictures(client, role):
    page = client.get(f"/guide/{role}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert f"Brukerveiledning: {norwegian_label(client.application, role)}" in text
    guide = next(guide for guide in GUIDES if guide.role == role)
    with client.application.test_request_context("/"):
        steps = [(str(step.title), [str(p) for p in step.paragraphs], step.shot, str(step.alt)) for step in guide.steps]
    english = [[p._args[0] for p in step.paragraphs] for step in guide.steps]
    for (title, paragraphs, shot, alt), english_paragraphs in zip(steps, english, strict=True):
        assert title in text and all(f"<p>{paragraph}</p>" in text for paragraph in paragraphs)
        assert not any(paragraph in text for paragraph in english_paragraphs)  # translated, not shown in English
        if shot:
            assert f'src="/static/guide/{shot}.png"' in text and f'alt="{alt}"' in text
            assert client.get(f"/static/guide/{shot}.png").headers["Content-Type"] == "image/png"


def test_index_explains_logging_in_and_links_every_role(client):
    text = html.unescape(client.get("/guide/").get_data(as_text=True))
    assert "Innlogging" in text and "Glemt passord?" in text and "/static/guide/login.png" in text
    for role in roles.ALL_ROLES:
        assert f'href="/guide/{role}"' in text and norwegian_label(client.application, role) in text
    assert client.get("/guide/nobody").status_code == 404


def test_login_page_links_the_guide(client):
    assert 'href="/guide/"' in client.get("/login/").get_data(as_text=True)


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_every_roles_menu_links_its_own_guide(client, world, role):
    login_as(client, world.logins[role], role)
    page = client.get("/guide/").get_data(as_text=True)
    assert 'href="/guide/mine"' in page and "Hjelp" in page  # the menu item
    mine = client.get("/guide/mine")
    assert mine.status_code == 302 and mine.headers["Location"].endswith(f"/guide/{role}")


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_every_roles_menu_offers_the_password_change(client, world, role):
    login_as(client, world.logins[role], role)
    page = html.unescape(client.get("/guide/").get_data(as_text=True))
    link = re.search(r'<a href="([^"]+)" id="menu-change-password">.*?Endre passord</a>', page, re.S)
    assert link, "the user menu offers Endre passord"
    form = client.get(link.group(1))
    assert form.status_code == 200 and "passord" in form.get_data(as_text=True).lower()


def test_min_side_links_the_guide_and_the_download_of_my_data(client, world):
    login_as(client, world.logins["member"], "member")
    page = html.unescape(client.get("/minside/").get_data(as_text=True))
    assert 'href="/guide/member"' in page and "Brukerveiledning" in page
    assert 'href="/subject-access/data.pdf"' in page and "Last ned mine data" in page
    assert 'href="/subject-access/data.json"' in page
    download = client.get("/subject-access/data.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
