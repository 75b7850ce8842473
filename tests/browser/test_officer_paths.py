"""A national association's leader switches to a branch below in the top bar and downloads its refund letter
(issue 14: "kan du skifte mellom disse ved å trekke ned menyen"); then goes one step further down from the branch's
page. Chromium through playwright; the switcher and the units-below list are checked with axe-core."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader

from tests.browser.accessibility import axe_context, serious_violations
from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in
from tests.test_regions import regions  # noqa: F401 (the fixture)


def association_leader_with_refunds(clean_app, world) -> str:
    """A leader of LF1 with a login, and 2026-Q1's refunds calculated and approved."""
    from tests.factories import make_member, make_user
    from webapp.extensions import db
    from webapp.models import ConfidentialityDeclaration, OrgUnit, Position, RefundPolicy
    from webapp.models.choices import PositionType
    from webapp.services import refunds
    from webapp.services.periods import Quarter

    with clean_app.app_context():
        lf1 = db.session.get(OrgUnit, world.units["LF1"].id)
        member = make_member(lf1, "Lars", "Landsleder")
        member.user = make_user(member.member_no, "Lars", "Landsleder")
        db.session.add(Position(member=member, type=PositionType.leader, org_unit=lf1,
                                start_date=dt.date.today() - dt.timedelta(days=30)))
        db.session.add(ConfidentialityDeclaration(user=member.user, confirmed_at=dt.datetime.now(),
                                                  text_version="test"))
        db.session.add(RefundPolicy(valid_from="2020-Q1", share_national_association=40, share_branch=40,
                                    share_club=20, weight_retired=0))
        db.session.commit()
        refunds.calculate(Quarter(2026, 1), pool_ore=1000_00)
        refunds.approve(Quarter(2026, 1))
        username = member.user.username
        db.session.remove()
    return username


def test_association_leader_switches_to_a_branch_and_downloads_its_refund_letter(world, clean_app, browser,
                                                                                  live_server):
    username = association_leader_with_refunds(clean_app, world)
    av1, kl1 = world.units["AV1"].id, world.units["KL1"].id
    context = axe_context(browser, live_server)
    page = context.new_page()
    try:
        log_in(page, username, "leader")
        page.wait_for_url("**/unit/")
        assert page.inner_text("#unit-name").strip() == "LF1 Landsforening én"

        # The role menu at the top right lists the units below; choose the branch.
        page.click("#acting-role > a.dropdown-toggle")
        branch = page.locator(f'#acting-options button[data-key="leader:units:{av1}"]')
        assert branch.is_visible() and "AV1 Avdeling Øst" in branch.inner_text()
        assert page.locator(f'#acting-options button[data-key="leader:units:{world.units["AV2"].id}"]').count() == 0
        assert serious_violations(page, {"include": [["#acting-role"]]}) == []
        screenshot(page, "officer-role-menu-with-units-below")
        branch.click()
        page.wait_for_url("**/unit/")
        assert page.inner_text("#unit-name").strip() == "AV1 Avdeling Øst"
        assert "AV1 Avdeling Øst" in page.inner_text("#acting-role-label")

        documents = page.locator("#refund-documents")
        assert "2026" in documents.inner_text()
        href = documents.locator(".refund-letter").first.get_attribute("href")
        letter = page.request.get(href, max_redirects=0)
        if letter.status == 303:  # not kept yet: a job renders it (at once in tests), then the link answers the PDF
            assert "/jobs/" in letter.headers["location"]
            letter = page.request.get(href, max_redirects=0)
        assert letter.status == 200 and letter.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.body())).pages)
        assert "AV1 Avdeling Øst" in text and "Avdeling Vest" not in text

        # One step further: the branch's page links its club.
        assert serious_violations(page, {"include": [["#units-below"], ["#documents"]]}) == []
        screenshot(page, "officer-association-leader-at-branch")
        page.click(f'#units-below button[data-key="leader:units:{kl1}"]')
        page.wait_for_url("**/unit/")
        assert page.inner_text("#unit-name").strip() == "KL1 Klubb Ås"
        screenshot(page, "officer-association-leader-at-club")
    finally:
        context.close()


def test_region_representative_lands_on_the_region_and_goes_down_to_a_workplace(world, regions, browser,  # noqa: F811
                                                                                 live_server):
    context = axe_context(browser, live_server)
    page = context.new_page()
    try:
        log_in(page, regions.trustee, "workplace_trustee")
        page.wait_for_url("**/unit/")
        assert page.inner_text("#unit-name").strip() == "Region Øst"
        assert page.inner_text("#member-count").strip() == "2"
        assert serious_violations(page, {"include": [["#units-below"], ["#acting-role"]]}) == []
        screenshot(page, "officer-region-representative")
        page.click(f'#units-below button[data-key="workplace_trustee:workplaces:{world.workplaces["W1b"].id}"]')
        page.wait_for_url("**/memberview/list/**")
        listed = page.inner_text("body")
        assert "Æsøy" in listed and "Nordmann" not in listed and "Vestland" not in listed
        assert "Arbeidssted W1b" in page.inner_text("#acting-role-label")
    finally:
        context.close()
