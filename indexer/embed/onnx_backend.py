"""The embedding model on ONNX Runtime, int8: about 3x the throughput of PyTorch on CPU.

The sentence-transformers folder is exported once with torch.onnx and quantized (dynamic int8
weights, onnxruntime.quantization) into the user's cache, atomically; later runs load only
ONNX Runtime and the `tokenizers` library, not torch. Pooling and normalization follow the
folder's own configuration (mean or CLS pooling); other architectures stay on PyTorch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

EXPORT_VERSION = "3"


class OnnxUnsupported(Exception):  # noqa: N818 - a verdict: use the torch backend
    pass


def _pooling(model_path: Path) -> tuple[str, bool]:
    """('mean' | 'cls', normalize) from the sentence-transformers modules.json."""
    try:
        modules = json.loads((model_path / "modules.json").read_text())
    except (OSError, ValueError) as err:
        raise OnnxUnsupported(f"no modules.json: {err}") from None
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(
            k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise OnnxUnsupported(f"modules {kinds} are not Transformer + Pooling (+ Normalize)")
    pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    config = json.loads((model_path / pooling_dir / "config.json").read_text())
    if config.get("pooling_mode_mean_tokens"):
        mode = "mean"
    elif config.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        raise OnnxUnsupported("pooling is neither mean nor CLS")
    return mode, "Normalize" in kinds


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hold back what torch.onnx and onnxruntime's quantizer say while exporting (TracerWarnings,
    "please consider pre-processing before quantization", C++ messages on fd 2): expected
    and not the user's business. Shown if the export fails, so that nothing is lost."""
    import logging
    import warnings

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)  # the quantizer logs through the root logger
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            logging.disable(logging.NOTSET)


def export_int8(model_path: Path, target: Path) -> None:
    """Export the transformer to ONNX and quantize it to int8, writing `target` atomically
    (once per model: about 10 s; one line on stderr says what the wait is)."""
    print("preparing embedding model (once)…", file=sys.stderr, flush=True)
    with _quiet():
        _export_int8(model_path, target)


def _export_int8(model_path: Path, target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
    # Eager attention: the default (SDPA) exports with IsNaN/Where guards for fully masked
    # rows that cost 17% of the run time on CPU; eager exports plain mask-add + softmax.
    # Same vectors (mean cosine to fp32 0.9938 both ways), 20% more chunks/s.
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True,
                                      attn_implementation="eager").eval()

    class HiddenStates(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN201
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["export"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(HiddenStates(model), tuple(sample[n] for n in names), str(fp32),
                              input_names=names, output_names=["hidden"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in
                                            [*names, "hidden"]},
                              opset_version=17, dynamo=False)
        partial = Path(tmp) / "model.int8.onnx"
        # per-channel scales: per-tensor int8 cost 2-7 MRR points on the gold sets; this none
        quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(partial, target)


class OnnxEncoder:
    def __init__(self, model_path: Path, onnx_path: Path, max_tokens: int, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.pooling, self.normalize = _pooling(model_path)
        if not onnx_path.exists():
            export_int8(model_path, onnx_path)
        self.onnx_path = onnx_path
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        # One single-threaded session per core, each encoding its own batches (ONNX Runtime
        # releases the GIL), instead of one session splitting every matrix product over the
        # cores: small products parallelise poorly, and a pool's spinning threads burn CPU on
        # a busy machine (measured: 2 x 1 thread did 60-67 chunks per CPU-second where 1 x 2
        # spinning threads did 40-43; benchmarks/bench_embed.py). Session 0 answers queries.
        self.sessions = [self._session(onnxruntime, onnx_path) for _ in range(max(1, threads))]
        self._pool = None
        self.threads = len(self.sessions)
        self.version = EXPORT_VERSION
        self.dimensions = int(self.sessions[0].get_outputs()[0].shape[-1] or 0) or \
            len(self.encode(["x"])[0])

    @staticmethod
    def _session(onnxruntime, onnx_path: Path):  # noqa: ANN001, ANN205
        from indexer.embed.devices import onnx_providers

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # no busy-waiting between operators: a waiting thread would take a core from others
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # a CUDA device when onnxruntime has one (indexer.embed.devices), else the CPU
        return onnxruntime.InferenceSession(str(onnx_path), options,
                                            providers=list(onnx_providers()))

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        # 16 texts a batch: activations stay in cache (32 measured 8% slower). Sorted by length
        # over the whole call, so a batch pads little.
        order = np.argsort([len(t) for t in texts], kind="stable")
        batches = [order[start:start + batch_size] for start in range(0, len(texts), batch_size)]
        out = np.zeros((len(texts), self.dimensions if hasattr(self, "dimensions") else 0),
                       dtype=np.float32)
        if len(batches) < 2 or self.threads == 1:
            for index in batches:
                out = self._encode_batch(self.sessions[0], texts, index, out)
            return out
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="codeloupe-embed")

        def work(k: int) -> None:
            for index in batches[k::self.threads]:  # interleaved: similar lengths per worker
                self._encode_batch(self.sessions[k], texts, index, out)

        for future in [self._pool.submit(work, k) for k in range(self.threads)]:
            future.result()
        return out

    def _encode_batch(self, session, texts: list[str], index: np.ndarray,  # noqa: ANN001
                      out: np.ndarray) -> np.ndarray:
        """Encode texts[index] into out[index] (rows no other batch writes)."""
        batch = self.tokenizer.encode_batch([texts[i] for i in index])
        ids = np.asarray([e.ids for e in batch], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in batch], dtype=np.int64)
        types = np.asarray([e.type_ids for e in batch], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": types})[0]
        if self.pooling == "mean":
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
        else:
            vectors = hidden[:, 0]
        if self.normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        if out.shape[1] != vectors.shape[1]:  # the first call, before dimensions are known
            out = np.zeros((out.shape[0], vectors.shape[1]), dtype=np.float32)
        out[index] = vectors
        return out
