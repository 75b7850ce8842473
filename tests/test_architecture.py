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


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args], cwd=ROOT,
                          capture_output=True, text=True)


def test_the_code_passes_lint():
    """ruff.toml, with its line length and complexity limit, holds for the whole repository."""
    result = ruff(".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_refuses_a_long_line_and_a_tangled_function(tmp_path):
    """The check can fail: the project's settings report a line over 120 characters and a function
    past ten branches."""
    branches = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(11))
    probe = tmp_path / "probe.py"
    probe.write_text(f"TEXT = \"{'x' * 120}\"\n\n\ndef tangled(x):\n{branches}    return -1\n", encoding="utf-8")
    result = ruff("--config", str(ROOT / "ruff.toml"), "--output-format", "concise", str(probe))
    assert result.returncode != 0
    assert "E501" in result.stdout and "C901" in result.stdout
