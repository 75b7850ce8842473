#!/usr/bin/env bash
# The test command of the README: installs what the tests need, then runs the whole suite.
#   bash tests/run.sh                 # on SQLite
#   TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test bash tests/run.sh
# Extra arguments go to pytest. The tests run in PYTEST_WORKERS processes (default 2, pytest-xdist), a file's
# tests in one process, each process with a database of its own (tests/conftest.py); PYTEST_WORKERS=0 runs them
# in this process.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# The browser tests check pages with axe-core, and tests/test_vendor_assets.py the copies of Vega, from npm at the
# versions package-lock.json pins.
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/vega-interpreter/package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --silent
  else
    echo "npm is not installed: the accessibility checks of the browser tests will be skipped" >&2
  fi
fi

# Browser tests drive Debian's chromium through playwright (no browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium for the browser tests ..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed and cannot be installed here: browser tests will be skipped" >&2
  fi
fi

exec python3 -m pytest -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
