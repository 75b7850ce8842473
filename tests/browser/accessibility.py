"""axe-core in the browser tests: the page is checked for accessibility violations by the rules of WCAG 2.1 AA.

axe-core comes from npm (`npm install axe-core`): the script is looked up in AXE_CORE_JS, else in the project's
node_modules. It is injected into the page, which needs a browser context made with `bypass_csp=True` (our
content security policy allows only our own scripts): `axe_context(browser, live_server)`.
"""

from __future__ import annotations

import os

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SERIOUS = ("critical", "serious")


def axe_script() -> str:
    candidates = [os.environ.get("AXE_CORE_JS", ""), os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")]
    for path in candidates:
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as source:
                return source.read()
    pytest.skip("axe-core is not installed (npm install axe-core, or set AXE_CORE_JS)")


def axe_context(browser, base_url: str):
    """A browser context in Norwegian that lets the test inject axe-core past the content security policy."""
    return browser.new_context(base_url=base_url, locale="nb-NO", bypass_csp=True)


# The whole page, the layout included (the top bar, its landmarks, the language of <html>): the layout's own
# faults are fixed in our overrides of FAB's templates (webapp/templates/appbuilder/).
WHOLE_PAGE = {"include": [["html"]]}


def serious_violations(page, context: dict | None = None) -> list[str]:
    """The critical and serious violations axe-core finds in the page (or in `context`) as it is now, one line each."""
    page.add_script_tag(content=axe_script())
    result = page.evaluate("""async (context) => await axe.run(context, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})""",
                           context or WHOLE_PAGE)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"] if violation["impact"] in SERIOUS
    ]
