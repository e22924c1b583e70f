#!/usr/bin/env bash
# Set everything up, index this repository and search it (the main job, on embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
codeloupe index                      # trigrams, chunks, BM25, glosses; embeddings go on in the background
codeloupe status                     # how far the background embedding is
codeloupe search -w 'SnapshotBuilder' -g '*.py'
# | head: codeloupe exits 141 when head stops reading (128 + SIGPIPE): expected here
codeloupe search --json -F 'compile_search(' --max-count 1 | head -3 || [ "${PIPESTATUS[0]}" = 141 ]
codeloupe ask -k 5 "where are search results checked against ripgrep"
codeloupe context --budget 1500 "how does a branch index get forked from its parent" | head -40 \
  || [ "${PIPESTATUS[0]}" = 141 ]
codeloupe status
