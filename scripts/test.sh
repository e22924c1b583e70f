#!/usr/bin/env bash
# Set everything up, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
ruff check .
python -m pytest -q -p no:cacheprovider "$@"
# The VS Code extension: build, lint, unit tests, .vsix, and the end-to-end test in code-server
# (the whole suite only: with pytest arguments, just those tests run).
if [ $# -eq 0 ]; then ./scripts/test_vscode.sh; fi
