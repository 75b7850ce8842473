"""An exported notebook opens without internet: the page from reports.notebook_export, served on loopback, shows
its output while every request beyond loopback fails; marimo's own export (frontend from a CDN) stays blank."""

from __future__ import annotations

import functools
import http.server
import threading

import marimo
import pytest

from reports.notebook_export import export_offline, local_frontend_name

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent

# A notebook with no database: the test is about the page, not the figures.
NOTEBOOK = '''import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    mo.md("Refusjon for 3. kvartal 2026")
    return


if __name__ == "__main__":
    app.run()
'''


@pytest.fixture()
def served(tmp_path):
    """Serves `tmp_path / "export"` on loopback (browsers load JavaScript modules only over http)."""
    directory = tmp_path / "export"
    directory.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield directory, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def shown_offline(browser, url: str, wait_ms: int) -> tuple[str, list[str]]:
    """The page's text after loading `url` with every request beyond loopback refused (waiting up to `wait_ms`
    for the notebook's output), and the refused requests."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context()
    refused = []

    def loopback_only(route):
        if route.request.url.startswith("http://127.0.0.1"):
            return route.continue_()
        refused.append(route.request.url)
        return route.abort()

    context.route("**/*", loopback_only)
    page = context.new_page()
    page.goto(url)
    try:
        page.get_by_text("Refusjon for 3. kvartal 2026").wait_for(timeout=wait_ms)
    except PlaywrightTimeout:  # a blank page: the caller asserts on what is shown
        pass
    text = page.inner_text("body")
    context.close()
    return text, refused


def test_exported_notebook_shows_its_output_without_internet(browser, served, tmp_path, monkeypatch):
    directory, base_url = served
    notebook = tmp_path / "kvartal.py"
    notebook.write_text(NOTEBOOK, encoding="utf-8")
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path / "pycache"))  # marimo's session snapshot

    page = export_offline(notebook, directory)

    html = page.read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in html
    text, refused = shown_offline(browser, f"{base_url}/{page.name}", 20_000)
    assert "Refusjon for 3. kvartal 2026" in text and refused == []

    # The same page as marimo writes it, with the frontend on the CDN: blank offline.
    cdn = f"https://cdn.jsdelivr.net/npm/@marimo-team/frontend@{marimo.__version__}/dist"
    (directory / "cdn.html").write_text(html.replace(f"./{local_frontend_name()}", cdn), encoding="utf-8")
    text, refused = shown_offline(browser, f"{base_url}/cdn.html", 3_000)
    assert "Refusjon for 3. kvartal 2026" not in text and refused
