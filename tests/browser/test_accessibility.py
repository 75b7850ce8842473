"""axe-core on the whole page (layout included): the main page of every role, the login page, the portal's list
page, Min side and the public pages have no critical or serious violation of WCAG 2.1 AA."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import WHOLE_PAGE, axe_context, serious_violations
from tests.browser.test_pages import HOME_TEXT, log_in

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent


@pytest.fixture()
def axe_page(browser, live_server, clean_app):
    context = axe_context(browser, live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("role", sorted(HOME_TEXT))
def test_every_roles_main_page(axe_page, portal, role):
    log_in(axe_page, portal.logins[role], role)
    axe_page.wait_for_load_state("networkidle")
    assert HOME_TEXT[role] in axe_page.content()
    found = serious_violations(axe_page, WHOLE_PAGE)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", ["/minside/courses", "/minside/employment", "/minside/invoices", "/minside/shop",
                                  "/messages/", "/guide/member"])
def test_min_side_pages(axe_page, world, path):
    log_in(axe_page, world.logins["member"], "member")
    axe_page.goto(path)
    found = serious_violations(axe_page)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", ["/applications/", "/transfers/", "/ballots/", "/ballots/new", "/sendouts/",
                                  "/sendouts/new", "/segments/", "/segments/new", "/jobs/", "/operations/"])
def test_membership_pages_of_the_office(axe_page, world, path):
    log_in(axe_page, world.logins["office"], "office")
    axe_page.goto(path)
    found = serious_violations(axe_page)
    assert not found, "\n".join(found)


def test_portal_list_page(axe_page, portal):
    log_in(axe_page, portal.logins["deduction_contact"])
    axe_page.wait_for_url("**/portal/")
    axe_page.click("#months button:has-text('Registrer trekkliste')")
    axe_page.wait_for_selector("#list-lines")
    found = serious_violations(axe_page)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", ["/login/", "/password/forgot", "/access/request", "/guide/", "/guide/leader"])
def test_public_pages(axe_page, world, path):
    axe_page.goto(path)
    found = serious_violations(axe_page, WHOLE_PAGE)
    assert not found, "\n".join(found)


def test_layout_language_landmarks_favicon_and_one_line_top_bar(axe_page, world, live_server):
    page = axe_page
    page.goto("/login/")
    assert page.get_attribute("html", "lang") == "nb"
    assert page.locator("header[role]").count() == 0 and page.locator("main#main").count() == 1
    favicon = page.get_attribute("link[rel=icon][type='image/png']", "href")
    assert page.request.get(live_server + favicon).headers["content-type"] == "image/png"

    log_in(page, world.logins["office"])
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/")
    bar = page.locator("header .navbar").bounding_box()
    assert bar["height"] < 60, "the office's top bar wraps at 1366 px"  # one line is 51 px, two are 101 px
    assert page.locator("header .navbar-nav > li").first.bounding_box()["y"] == page.locator(
        "#acting-role").bounding_box()["y"]

    page.goto("/lang/en")
    page.goto("/")
    assert page.get_attribute("html", "lang") == "en"
