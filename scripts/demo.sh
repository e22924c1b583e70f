#!/usr/bin/env bash
# Set everything up, index this repository and search it (the main job, on embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
codeloupe index
codeloupe search -w 'SnapshotBuilder' -g '*.py'
codeloupe search --json -F 'compile_search(' --max-count 1 | head -3
