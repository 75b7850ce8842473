"""marimo notebooks for the office and analysts. A package, so a notebook runs as a script from the project root
(`python -m notebooks.refunds`) and imports as a module (`from notebooks.refunds import app, unit_rows`); marimo
itself finds the project's packages through `[tool.marimo.runtime] pythonpath` in pyproject.toml."""
