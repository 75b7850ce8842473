"""The seed's layout: the generator does not depend on the CLI, its functions are of readable size, and its
reference data in seed/data/ is consistent."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from seed import reference

ROOT = Path(__file__).resolve().parent.parent
LONGEST_FUNCTION = 60


def test_the_seed_does_not_import_the_cli():
    """Database setup lives in webapp.services.database; the CLI imports the seed, never the other way round."""
    probe = "import sys, seed.generator; print('webapp.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_seed_function_is_longer_than_sixty_lines():
    too_long = []
    for path in sorted((ROOT / "seed").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > LONGEST_FUNCTION:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert too_long == []


def test_reference_data_is_consistent():
    assert len(reference.COUNTIES) == 15 and len(reference.COUNTY_WEIGHTS) == 15
    for municipality in reference.MUNICIPALITY_INFO.values():
        assert 0 < municipality.first_postcode <= municipality.last_postcode <= 9999, municipality
    for association in reference.ASSOCIATIONS:
        covered = [county for area in association.branch_areas for county in reference.AREAS[area]]
        assert sorted(covered) == sorted(reference.COUNTIES), association.name  # each county in one branch
    for kind in reference.EMPLOYER_KINDS:
        assert kind.fixed_names or kind.templates, kind.association
        for employer in kind.fixed_names:
            assert employer.municipality in reference.MUNICIPALITY_INFO, employer.name
    assert abs(sum(kind.share for kind in reference.EMPLOYER_KINDS) - 1) < 1e-9
