"""The import layers hold (`.importlinter`): views call services, services call models, and nothing
below the views (services, models, security) imports `reports` or `seed`, so there is no import cycle
between the domain logic and the report builders or the demo data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
               "--no-cache", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_the_import_contracts_are_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_contract_fails_the_check(tmp_path):
    """The check can fail: a contract the code breaks (reports importing services, which it does) is reported."""
    config = tmp_path / "broken.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    webapp\n    reports\n\n"
        "[importlinter:contract:probe]\nname = probe\ntype = forbidden\n"
        "source_modules =\n    reports.refunds\nforbidden_modules =\n    webapp.services\n",
        encoding="utf-8",
    )
    result = lint_imports("--config", str(config))
    assert result.returncode != 0
    assert "reports.refunds -> webapp.services" in result.stdout
