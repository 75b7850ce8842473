"""The user guide's screenshots, taken from the demo register (seeded here through the CLI) by logging in as each
role's demo login, so the pictures in the guide (webapp/static/guide/) always show the screens as they are.

The test takes exactly the shots the guide names (webapp.views.guide.shot_names) and writes each into
webapp/static/guide/ when it looks different; commit the pictures with the change that changed them.
"""

from __future__ import annotations

import io
import json
import pathlib

import pytest

from tests.conftest import wipe_database
from webapp.extensions import db
from webapp.views.guide import shot_names

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent

GUIDE_DIR = pathlib.Path(__file__).resolve().parents[2] / "webapp" / "static" / "guide"
VIEWPORT = {"width": 1366, "height": 768}  # a common laptop screen; the office top bar fits one line


@pytest.fixture(scope="module")
def demo_logins(app):
    """The demo register, and its demo logins by role: {role: [(username, password), ...]}."""
    with app.app_context():
        wipe_database()
        db.session.remove()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--members", "300", "--employers", "30", "--months", "3", "--quiet"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["demo-accounts", "--json"])
    assert listed.exit_code == 0, listed.output
    logins: dict[str, list[tuple[str, str]]] = {}
    for account in json.loads(listed.output):
        logins.setdefault(account["role"], []).append((account["username"], account["password"]))
    yield logins
    with app.app_context():
        wipe_database()
        db.session.remove()


class Shooter:
    """Takes the guide's screenshots in one browser context per login."""

    def __init__(self, browser, base_url: str):
        self.browser, self.base_url, self.taken = browser, base_url, []

    def open(self, username: str | None = None, password: str | None = None, role: str | None = None):
        context = self.browser.new_context(base_url=self.base_url, locale="nb-NO", viewport=VIEWPORT)
        page = context.new_page()
        if username:
            page.goto("/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_load_state("networkidle")
            if "/acting/choose" in page.url and role:
                page.click(f"button[data-role={role}] >> nth=0")
                page.wait_for_load_state("networkidle")
        return page

    def shoot(self, page, name: str, scroll_to: str | None = None):
        page.wait_for_load_state("networkidle")
        if scroll_to:
            page.locator(scroll_to).first.scroll_into_view_if_needed()
        write_png(GUIDE_DIR / f"{name}.png", page.screenshot())
        self.taken.append(name)


def write_png(path: pathlib.Path, data: bytes) -> None:
    """The screenshot in 256 colours (a quarter of the size, the same to the eye), written when it looks different
    from the picture there: not for a few pixels (a clock time of the demo data, anti-aliasing), which would
    only churn the committed files."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    if path.exists() and looks_the_same(Image.open(path), image):
        return
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def looks_the_same(old, new) -> bool:
    """At most one pixel in a thousand visibly changed (by more than 48 of 255 in grey)."""
    from PIL import ImageChops

    if old.size != new.size:
        return False
    difference = ImageChops.difference(old.convert("RGB"), new.convert("RGB")).convert("L")
    changed = sum(difference.histogram()[49:])
    return changed <= old.size[0] * old.size[1] // 1000


def declare_if_asked(page) -> None:
    """Officers confirm the duty of confidentiality before their first member list."""
    if "/confidentiality" in page.url:
        page.check("main form input[type=checkbox]")
        page.click("main form button[type=submit]")
        page.wait_for_load_state("networkidle")


def test_guide_screenshots_from_the_demo_register(browser, live_server, demo_logins):
    shots = Shooter(browser, live_server)

    page = shots.open()
    page.goto("/login/")
    shots.shoot(page, "login")
    page.goto("/innmelding")
    shots.shoot(page, "enrollment")
    page.context.close()

    page = shots.open(*demo_logins["office"][0])
    shots.shoot(page, "office-home")
    for path, name in (("/memberview/list/", "office-members"), ("/deductionmonthview/list/", "office-reconciliation"),
                       ("/payments/unmatched/", "office-unmatched"), ("/refundruns/", "office-refunds"),
                       ("/applications/", "office-applications"), ("/sendouts/", "office-sendouts")):
        page.goto(path)
        shots.shoot(page, name)
    page.context.close()

    # The leader of the whole union is also a member: the login asks which role to act in.
    page = shots.open(*demo_logins["leader"][0])
    assert "/acting/choose" in page.url
    shots.shoot(page, "choose-role")
    page.click("button[data-role=leader] >> nth=0")
    page.wait_for_url("**/unit/")
    shots.shoot(page, "leader-unit")
    page.click("#acting-role > a")
    shots.shoot(page, "leader-switch")
    page.goto("/positionview/list/")
    declare_if_asked(page)
    page.goto("/positionview/list/")
    shots.shoot(page, "leader-positions")
    page.context.close()

    page = shots.open(*demo_logins["treasurer"][0], role="treasurer")
    page.goto("/unit/")
    shots.shoot(page, "treasurer-unit", scroll_to="#refund-documents")
    page.context.close()

    page = shots.open(*demo_logins["member_data_admin"][0], role="member_data_admin")
    page.goto("/memberview/list/")
    declare_if_asked(page)
    page.goto("/memberview/list/")
    shots.shoot(page, "mda-members")
    page.click("a[href*='/memberview/edit/'] >> nth=0")
    shots.shoot(page, "mda-member-edit")
    page.context.close()

    page = shots.open(*demo_logins["workplace_trustee"][0], role="workplace_trustee")
    page.goto("/memberview/list/")
    assert "/confidentiality" in page.url
    shots.shoot(page, "trustee-declaration")
    declare_if_asked(page)
    page.goto("/memberview/list/")
    shots.shoot(page, "trustee-members")
    page.context.close()

    page = shots.open(*demo_logins["deduction_contact"][0], role="deduction_contact")
    page.goto("/portal/")
    shots.shoot(page, "contact-portal")
    drafts = page.locator("#months a.btn[href*='/portal/lists/']")  # "Continue the list" of a month's draft
    if drafts.count():
        drafts.first.click()
    else:
        page.locator("#months form button[type=submit]").first.click()
    page.wait_for_selector("#list-lines")
    shots.shoot(page, "contact-list")
    page.context.close()

    page = shots.open(*demo_logins["member"][0], role="member")
    page.goto("/minside/")
    shots.shoot(page, "member-mypage")
    page.goto("/minside/courses")
    shots.shoot(page, "member-courses")
    page.goto("/minside/resign")
    shots.shoot(page, "member-resign")
    page.context.close()

    page = shots.open(*demo_logins["analyst"][0], role="analyst")
    page.goto("/statistics/")
    page.wait_for_selector("#association-chart svg")
    shots.shoot(page, "analyst-statistics")
    page.goto("/reports/")
    shots.shoot(page, "analyst-reports")
    page.context.close()

    # Exactly the pictures the guide shows, each once, and no picture it no longer shows.
    assert sorted(shots.taken) == sorted(shot_names())
    assert {path.stem for path in GUIDE_DIR.glob("*.png")} == shot_names()
