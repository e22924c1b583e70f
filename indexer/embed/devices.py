"""Which compute embedding batches run on: a CUDA device when one is usable, else the CPU.

Detected once per process. ONNX Runtime counts when its CUDAExecutionProvider is available
(the onnxruntime-gpu build); PyTorch counts when `torch.cuda.is_available()`, but torch is
only consulted when it is already imported or the torch backend is in use, since importing
it costs a second or two on every CLI start. CODELOUPE_DEVICE=cpu forces the CPU.
"""

from __future__ import annotations

import functools
import os
import sys


@functools.cache
def onnx_providers() -> tuple[str, ...]:
    """Execution providers for an embedding session, best first."""
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    if os.environ.get("CODELOUPE_DEVICE", "").lower() != "cpu" and \
            "CUDAExecutionProvider" in available:
        return ("CUDAExecutionProvider", "CPUExecutionProvider")
    return ("CPUExecutionProvider",)


def torch_device(check_torch: bool = True) -> str:
    """"cuda" or "cpu" for the torch backend."""
    if os.environ.get("CODELOUPE_DEVICE", "").lower() == "cpu" or not check_torch:
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def detect_accelerator() -> dict[str, object]:
    """What `codeloupe models` and `status` report: {onnx: providers, torch: device|None,
    summary}."""
    try:
        providers = list(onnx_providers())
    except ImportError:
        providers = []
    torch_state = torch_device() if "torch" in sys.modules else None
    gpu = "CUDAExecutionProvider" in providers or torch_state == "cuda"
    summary = ("CUDA GPU (" + ", ".join(
        [p for p in ("onnxruntime" if "CUDAExecutionProvider" in providers else "",
                     "torch" if torch_state == "cuda" else "") if p]) + ")") if gpu else \
        f"CPU, {os.cpu_count() or 1} cores"
    return {"gpu": gpu, "onnx_providers": providers, "torch_device": torch_state,
            "summary": summary}
