"""The chart libraries the app serves itself are exactly the npm packages package-lock.json pins (made into
webapp/static/vendor/vega by webapp/vendor_assets.py), and the pages load them from the app, never a CDN."""

from __future__ import annotations

import pytest

from webapp.vendor_assets import NODE_MODULES, PACKAGES, VEGA_DIR, interpreter_script, vendored_files

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent


def test_committed_copies_are_the_pinned_npm_builds():
    if not all((NODE_MODULES / package / "package.json").is_file() for package in PACKAGES):
        pytest.skip("npm packages not installed (npm ci)")
    for name, content in vendored_files().items():
        assert (VEGA_DIR / name).read_bytes() == content, f"{name} differs: run python -m webapp.vendor_assets"


def test_vendored_vega_is_complete():
    names = {path.name for path in VEGA_DIR.iterdir()}
    assert {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.js", "VERSIONS.txt"} <= names
    versions = (VEGA_DIR / "VERSIONS.txt").read_text()
    assert "vega-lite 6." in versions  # the Vega-Lite major version altair writes


def test_interpreter_module_becomes_a_plain_script():
    module = ("import { ascending, isString } from 'vega-util';\n\nfunction expression(x) { return x; }\n\n"
              "export { expression as expressionInterpreter };\n")
    script = interpreter_script(module)
    assert "import " not in script and "export " not in script
    assert "const { ascending, isString } = vega;" in script
    assert script.rstrip().endswith("})(self.vega);") and "vega.expressionInterpreter = expression;" in script
    with pytest.raises(ValueError, match="vega-interpreter changed"):
        interpreter_script("export default 1;\n")


def test_statistics_page_loads_charts_from_the_app(client, world):
    from tests.helpers import login_as

    login_as(client, world.logins["analyst"])
    html = client.get("/statistics/").get_data(as_text=True)
    assert '/static/vendor/vega/vega-embed.min.js' in html and "cdn." not in html and "google" not in html.lower()
    assert 'data-vega-lite="association-chart-spec"' in html
