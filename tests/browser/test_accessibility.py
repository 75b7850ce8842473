"""axe-core on the whole page (layout included): the main page of every role, the login page, the portal's list
page, Min side and the public pages have no critical or serious violation of WCAG 2.1 AA."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import WHOLE_PAGE, axe_context, serious_violations
from tests.browser.test_pages import HOME_TEXT, log_in


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


@pytest.mark.parametrize("path", ["/login/", "/password/forgot", "/access/request"])
def test_public_pages(axe_page, world, path):
    axe_page.goto(path)
    found = serious_violations(axe_page, WHOLE_PAGE)
    assert not found, "\n".join(found)
