"""Charts are drawn by the app's own Vega-Lite (webapp/static/vendor/vega): nothing is fetched beyond the app, the
content security policy refuses nothing, and the figures appear in the chart, written the Norwegian way."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import axe_context, serious_violations
from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in


@pytest.fixture()
def watched(browser, live_server, clean_app):
    """A page, the requests it made beyond the app, and what the browser's console said about the CSP."""
    context = axe_context(browser, live_server)
    page = context.new_page()
    outside, refused = [], []
    page.on("request", lambda request: None if request.url.startswith((live_server, "data:")) else outside.append(
        request.url))
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text or message.type == "error" else None)
    yield page, outside, refused
    context.close()


def drawn_chart_text(page, selector: str) -> str:
    page.wait_for_selector(f"{selector} svg .mark-rect path, {selector} svg .mark-rect", timeout=15_000)
    return page.inner_text(selector) + " ".join(page.locator(f"{selector} svg text").all_text_contents())


def test_statistics_page_draws_its_charts_with_the_apps_own_vega(watched, world):
    page, outside, refused = watched
    log_in(page, world.logins["analyst"], "analyst")
    page.wait_for_url("**/statistics/")
    text = drawn_chart_text(page, "#association-chart")
    assert "LF1" in text or "Landsforening" in text
    assert page.locator("#category-chart svg").count() == 1
    # Screen readers are told what the chart shows.
    assert page.get_attribute("#association-chart", "aria-label") == "Aktive medlemmer per landsforening"
    assert outside == [] and refused == []
    assert serious_violations(page) == []
    screenshot(page, "statistics-charts")


def test_user_statistics_chart_without_google_charts(watched, world):
    page, outside, refused = watched
    log_in(page, world.logins["office"])
    page.goto("/userstatschartview/chart/")
    page.wait_for_selector("#UserStatsChartView svg", timeout=15_000)
    assert page.locator("script[src*=google]").count() == 0
    assert page.get_attribute("#UserStatsChartView", "aria-label") == "Brukerstatistikk"
    assert outside == [] and refused == []
    screenshot(page, "user-statistics-chart")
