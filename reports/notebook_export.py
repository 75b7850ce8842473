"""Export a notebook as an HTML page that works without internet.

`marimo export html` writes a page whose frontend (marimo's JavaScript, CSS and fonts) loads from a CDN, so the
page is blank offline (marimo issue #575; marimo 0.25.2 has no option for it). This runs the same export, copies
the frontend of the installed marimo, which is the very build the CDN serves, next to the page and points the page
at that copy. Browsers load JavaScript modules only over http, not from file://, so serve the directory locally:

    DATABASE_URL=... python -m reports.notebook_export notebooks/membership.py -o export/
    python -m http.server --bind 127.0.0.1 --directory export 8000    # then open http://127.0.0.1:8000/membership.html

The page holds the figures the notebook showed: treat the directory like the reports.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import marimo

FRONTEND = Path(marimo.__file__).parent / "_static"
CDN_FRONTEND = re.compile(r"https://cdn\.jsdelivr\.net/npm/@marimo-team/frontend@[^/\"']+/dist")


def local_frontend_name() -> str:
    """The directory next to the pages that holds the frontend, named by its version (pages of one export share it)."""
    return f"marimo-{marimo.__version__}"


def use_local_frontend(html: str, directory: str) -> str:
    """The page with every address of the CDN's frontend pointing at `directory` next to it."""
    return CDN_FRONTEND.sub(f"./{directory}", html)


def copy_frontend(out_dir: Path) -> str:
    if not (FRONTEND / "index.html").is_file():
        raise RuntimeError(f"marimo's frontend is not at {FRONTEND}: cannot export for offline use")
    name = local_frontend_name()
    shutil.copytree(FRONTEND, out_dir / name, dirs_exist_ok=True)
    return name


def is_notebook(path: Path) -> bool:
    """A marimo notebook (a file that makes a `marimo.App`), not a helper module such as __init__.py."""
    return "marimo.App(" in path.read_text(encoding="utf-8")


def export_offline(notebook: Path, out_dir: Path) -> Path:
    """Run the notebook, write `<out_dir>/<name>.html` and the frontend beside it; the page's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / f"{notebook.stem}.html"
    # Without the code: the page is a report of the figures (`marimo edit` shows the code).
    subprocess.run([sys.executable, "-m", "marimo", "export", "html", str(notebook), "-o", str(page), "--force",
                    "--no-include-code"], check=True)
    directory = copy_frontend(out_dir)
    page.write_text(use_local_frontend(page.read_text(encoding="utf-8"), directory), encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.notebook_export", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebook files, e.g. notebooks/membership.py")
    parser.add_argument("-o", "--output", type=Path, default=Path("export"), help="directory for the pages")
    args = parser.parse_args(argv)
    for notebook in args.notebooks:
        if not notebook.is_file():
            parser.error(f"notebooks: {notebook} is not a file")
    # `notebooks/*.py` also names the package's __init__.py: only marimo notebooks are exported.
    notebooks = [notebook for notebook in args.notebooks if is_notebook(notebook)]
    if not notebooks:
        parser.error("notebooks: none of the files is a marimo notebook")
    try:
        for notebook in notebooks:
            print(export_offline(notebook, args.output))
    except subprocess.CalledProcessError as error:
        print(f"marimo export failed with exit code {error.returncode}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
