#!/usr/bin/env bash
# Create .venv and install codeloupe with its test tools. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
# PyTorch first, the CPU build from local disk: otherwise sentence-transformers pulls a
# multi-GB CUDA build. (Needed by the semantic layer; harmless before it.)
python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING" || true
# PYTHONWARNINGS: setuptools' notes on editable installs come back through pip as
# BuildBackendWarnings ("InformationOnly: Editable installation…"): expected, not actionable.
PYTHONWARNINGS=ignore python -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING" || true
