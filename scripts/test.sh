#!/usr/bin/env bash
# Set everything up, lint, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
ruff check .
python -m pytest -q -p no:cacheprovider "$@"
# The VS Code extension: build, lint, unit tests, .vsix, and the end-to-end test in code-server
# (the whole suite only: with pytest arguments, just those tests run). CODELOUPE_SKIP_VSCODE=1
# skips it: it needs Node >= 20, installs Debian packages as root (chromium, libkrb5-dev,
# libxkbfile-dev, libsecret-1-dev, pkg-config, g++, make) and downloads code-server (~320 MB).
if [ $# -eq 0 ]; then
  if [ "${CODELOUPE_SKIP_VSCODE:-0}" = 1 ]; then
    echo "== CODELOUPE_SKIP_VSCODE=1: the VS Code extension's tests are skipped"
  else
    echo "== the VS Code extension's tests (CODELOUPE_SKIP_VSCODE=1 skips them): Node >= 20;"
    echo "   as root, apt-get installs chromium and build packages; code-server (~320 MB) is"
    echo "   downloaded once into ${CODELOUPE_VSCODE_CACHE:-~/.cache/codeloupe-vscode}"
    ./scripts/test_vscode.sh
  fi
fi
