"""Gloss providers behind one small interface: heuristic, OpenAI-compatible HTTP, local GGUF.

A provider turns `GlossItem`s into `GlossResult`s. It never raises for one bad chunk: a result
says ok, garbage (the answer was rejected), error (the endpoint failed, after retries) or
cancelled. Configuration problems (no model, package missing, file missing) raise
`GlossConfigError` when the provider is built, with the fix in the message.

Every model answer goes through `validate_gloss` before anyone sees it: empty, over-long,
refusals, code or JSON instead of prose are rejected, so garbage is never cached.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from indexer.config import Settings
from indexer.errors import CodeloupeError
from indexer.gloss.heuristic import HEURISTIC_VERSION, LANGUAGE_NAMES, heuristic_gloss
from indexer.gloss.tokens import count_tokens, truncate_tokens

# Bump when the prompt or the answer's post-processing changes: cached glosses of the old
# version are then ignored (and re-made on the next run), never mixed with new ones.
PROMPT_VERSION = "gloss-v1"
SYSTEM_PROMPT = (
    "You write one-line descriptions of source code for a code search index. Reply with one "
    "or two plain English sentences, at most 45 words, saying what the code does and what it "
    "is for, in words a developer would type when searching for it. Mention the main inputs, "
    "outputs or side effects. No code, no markdown, no lists, no preamble such as 'This code'.")
# Small local models (135M–0.5B) wander when allowed two sentences: ask for one, cap the
# tokens, keep the first sentence. Its own version: these glosses are cached apart.
LOCAL_PROMPT_VERSION = "gloss-local-v1"
LOCAL_SYSTEM_PROMPT = (
    "You write one-line descriptions of source code for a code search index. Reply with "
    "exactly one plain English sentence of at most 25 words saying what the code does, in "
    "words a developer would type when searching for it. No code, no markdown, no preamble "
    "such as 'This code'.")
LOCAL_MAX_OUTPUT_TOKENS = 48
EST_OUTPUT_TOKENS = 48  # a typical two-sentence answer, for estimates before any call
MAX_GLOSS_CHARS = 400
MIN_GLOSS_WORDS = 3
MAX_SENTENCES = 3
MAX_BACKOFF_S = 30.0
USER_AGENT = "codeloupe-gloss/1"
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"

_REFUSAL = re.compile(
    r"^(?:i'?m sorry|i am sorry|sorry[,.!]|i cannot|i can'?t|i can not|i won'?t|i'?m unable|"
    r"i am unable|i'?m not able|as an ai|as a language model|unfortunately,? i|i do not have|"
    r"i don'?t have|please provide)", re.IGNORECASE)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_PREFIX = re.compile(r"^(?:gloss|description|summary|answer|output)\s*:\s*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


class GlossConfigError(CodeloupeError):
    """A provider cannot start: missing model, package, file or URL. The message says the fix."""


class GlossCancelled(Exception):  # noqa: N818 - a signal, not an error
    """The run was cancelled while this chunk was waiting or retrying."""


class TransientError(Exception):
    """Worth retrying: a timeout, a dropped connection, 429, 5xx."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Not worth retrying: 4xx other than 408/429 (bad key, unknown model, bad request)."""


class GarbageResponse(Exception):  # noqa: N818 - it is a verdict on an answer
    """The endpoint answered, but not with a usable gloss."""


@dataclass(frozen=True, slots=True)
class GlossItem:
    """What a provider needs of one chunk (the path is only for messages and priority)."""

    content_hash: str
    language: str
    kind: str
    name: str
    qualified_name: str
    signature: str
    docstring: str
    text: str
    breadcrumb: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    context: str = ""
    path: str = ""

    @classmethod
    def from_chunk(cls, chunk, path: str | None = None) -> GlossItem:  # noqa: ANN001 - Chunk
        return cls(chunk.content_hash, chunk.language, chunk.kind, chunk.name,
                   chunk.qualified_name, chunk.signature, chunk.docstring or "",
                   chunk.text, tuple(chunk.breadcrumb), tuple(chunk.defines),
                   chunk.context, path if path is not None else chunk.path)


@dataclass(slots=True)
class GlossResult:
    content_hash: str
    status: str  # ok | garbage | error | cancelled
    text: str = ""
    error: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class CancelLike(Protocol):
    @property
    def cancelled(self) -> bool: ...


Cancel = CancelLike | threading.Event | None


def is_cancelled(cancel: Cancel) -> bool:
    """A `threading.Event` (set = cancelled) or anything with a `.cancelled` property."""
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel.cancelled)


def sleep_unless_cancelled(cancel: Cancel, seconds: float) -> bool:
    """Sleep; return True (early) if the run is cancelled meanwhile."""
    if isinstance(cancel, threading.Event):
        return cancel.wait(seconds)
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if is_cancelled(cancel):
            return True
        time.sleep(min(left, 0.05))
    return is_cancelled(cancel)


class GlossProvider(Protocol):
    """Glosses chunks. `name`, `model` and `prompt_version` key the cache."""

    name: str
    model: str
    prompt_version: str
    uses_model: bool  # False: free and deterministic (no budget, no tokens, no fallback)

    def gloss(self, items: Sequence[GlossItem], cancel: Cancel = None) -> list[GlossResult]:
        """One result per item, in order; never raises for a single chunk's failure."""
        ...

    def close(self) -> None: ...


# --- answers ---

def validate_gloss(raw: object) -> str:
    """The cleaned gloss, or `GarbageResponse` saying why the answer is unusable."""
    if not isinstance(raw, str):
        raise GarbageResponse(f"the answer is not text ({type(raw).__name__})")
    text = _THINK.sub("", raw).strip()  # reasoning models think out loud first
    text = text.strip("`\"' \n")
    text = _PREFIX.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise GarbageResponse("empty answer")
    if _CONTROL.search(text):
        raise GarbageResponse("the answer has control or replacement characters")
    if text[0] in "{[<" or "```" in raw:
        raise GarbageResponse("the answer is code or JSON, not a sentence")
    if _REFUSAL.match(text):
        raise GarbageResponse(f"the model refused: {text[:80]!r}")
    if len(text) > MAX_GLOSS_CHARS:
        raise GarbageResponse(f"answer too long ({len(text)} characters)")
    letters = sum(ch.isalpha() for ch in text)
    if letters < 0.6 * sum(not ch.isspace() for ch in text):
        raise GarbageResponse("the answer is not prose (too few letters)")
    if len(text.split()) < MIN_GLOSS_WORDS:
        raise GarbageResponse(f"answer too short ({text!r})")
    if len(re.findall(r"[.!?](?:\s|$)", text)) > MAX_SENTENCES:
        raise GarbageResponse("answer too long (more than three sentences)")
    if text[-1] not in ".!?":
        text += "."
    return text


def parse_chat_response(data: object) -> tuple[str, int, int]:
    """(gloss, prompt tokens, completion tokens) from an OpenAI-style chat completion."""
    if not isinstance(data, dict):
        raise GarbageResponse("the response is not a JSON object")
    if "error" in data and not data.get("choices"):
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise GarbageResponse(f"the endpoint answered with an error: {str(message)[:200]}")
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise GarbageResponse("the response has no choices[0].message.content") from None
    if choice.get("finish_reason") == "length":
        raise GarbageResponse("answer too long (cut off at the token limit)")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return (validate_gloss(content), int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0))


# --- prompts ---

def build_messages(item: GlossItem, max_input_tokens: int,
                   system_prompt: str = SYSTEM_PROMPT) -> list[dict[str, str]]:
    """The chat messages for one chunk; the code is cut to `max_input_tokens` tokens."""
    code, cut = truncate_tokens(item.text, max_input_tokens)
    language = LANGUAGE_NAMES.get(item.language, item.language)
    lines = [f"Language: {language}", f"Kind: {item.kind}"]
    if item.qualified_name or item.name:
        lines.append(f"Name: {item.qualified_name or item.name}")
    if item.context:
        lines.append(f"Inside:\n{item.context}")
    lines.append(f"Code{' (truncated)' if cut else ''}:\n```{item.language}\n{code}\n```")
    return [{"role": "system", "content": system_prompt},
            {"role": "user", "content": "\n".join(lines)}]


_SENTENCE_END = re.compile(r"(?<![A-Z][a-z])(?<!\be\.g)(?<!\bi\.e)[.!?](?=\s|$)")


def first_sentence(text: str) -> str:
    """The answer up to the end of its first sentence (all of it if none ends)."""
    text = _THINK.sub("", text).strip()
    match = _SENTENCE_END.search(text)
    return text[:match.end()] if match else text


def estimate_input_tokens(item: GlossItem, max_input_tokens: int) -> int:
    """Prompt tokens for `item`, as the endpoint will count them (cl100k; ~4 per message)."""
    return sum(count_tokens(m["content"]) + 4 for m in build_messages(item, max_input_tokens))


# --- retries ---

@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = MAX_BACKOFF_S
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with up to 25% jitter; a server's Retry-After is a floor."""
        base = self.backoff_s * (2 ** (attempt - 1))
        delay = base * (1 + 0.25 * self.rng.random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_backoff_s)


T = TypeVar("T")


def call_with_retries(fn: Callable[[], T], policy: RetryPolicy,
                      cancel: Cancel = None) -> tuple[T, int]:
    """(fn's value, attempts). `TransientError`s are retried `policy.retries` times."""
    attempt = 0
    while True:
        if is_cancelled(cancel):
            raise GlossCancelled()
        attempt += 1
        try:
            return fn(), attempt
        except TransientError as err:
            if attempt > policy.retries:
                raise TransientError(f"{err} (gave up after {attempt} attempts)") from err
            if sleep_unless_cancelled(cancel, policy.delay(attempt, err.retry_after)):
                raise GlossCancelled() from err


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


# --- providers ---

class HeuristicProvider:
    """No model: `heuristic_gloss`. Free, deterministic, thousands per second."""

    name = "heuristic"
    model = ""
    prompt_version = HEURISTIC_VERSION
    uses_model = False

    def gloss(self, items: Sequence[GlossItem], cancel: Cancel = None) -> list[GlossResult]:
        return [GlossResult(item.content_hash, "ok", heuristic_gloss(item), attempts=1)
                for item in items]

    def close(self) -> None:
        pass


class _ModelProvider:
    """What the model providers share: prompt, answer checking, retries, result shaping."""

    name = ""
    model = ""
    prompt_version = PROMPT_VERSION
    system_prompt = SYSTEM_PROMPT
    uses_model = True

    def __init__(self, settings: Settings) -> None:
        self.max_input_tokens = settings.gloss_max_input_tokens
        self.max_output_tokens = settings.gloss_max_output_tokens
        self.policy = RetryPolicy(settings.gloss_retries, settings.gloss_backoff_s)

    def _complete(self, messages: list[dict[str, str]]) -> dict:
        raise NotImplementedError

    def gloss(self, items: Sequence[GlossItem], cancel: Cancel = None) -> list[GlossResult]:
        return [self._one(item, cancel) for item in items]

    def _one(self, item: GlossItem, cancel: Cancel) -> GlossResult:
        messages = build_messages(item, self.max_input_tokens, self.system_prompt)
        attempts = 0

        def attempt() -> tuple[str, int, int]:
            nonlocal attempts
            attempts += 1
            return parse_chat_response(self._complete(messages))

        try:
            (text, tokens_in, tokens_out), _ = call_with_retries(attempt, self.policy, cancel)
        except GlossCancelled:
            return GlossResult(item.content_hash, "cancelled", attempts=attempts)
        except GarbageResponse as err:
            return GlossResult(item.content_hash, "garbage", error=str(err), attempts=attempts)
        except (TransientError, PermanentError) as err:
            return GlossResult(item.content_hash, "error", error=str(err), attempts=attempts)
        return GlossResult(item.content_hash, "ok", text, input_tokens=tokens_in,
                           output_tokens=tokens_out, attempts=attempts)

    def close(self) -> None:
        pass


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIProvider(_ModelProvider):
    """Any OpenAI-compatible `POST {base}/chat/completions`: OpenAI, Ollama, llama.cpp's
    server, vLLM, LM Studio. stdlib HTTP (urllib): one request per chunk, thread-safe."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.gloss_model:
            raise GlossConfigError(
                "the openai gloss provider needs a model name: set gloss_model "
                "(CODELOUPE_GLOSS_MODEL, or --model)")
        base = (settings.gloss_base_url or DEFAULT_OPENAI_URL).rstrip("/")
        parts = urllib.parse.urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GlossConfigError(
                f"gloss_base_url {settings.gloss_base_url!r} is not an http(s) URL "
                "(e.g. http://localhost:11434/v1 for Ollama)")
        if parts.path in ("", "/"):
            base += "/v1"  # 'http://host:port' means the usual OpenAI prefix
        if base == DEFAULT_OPENAI_URL and not settings.gloss_api_key:
            raise GlossConfigError(
                "the openai gloss provider has no endpoint configured: set gloss_base_url "
                "(CODELOUPE_GLOSS_BASE_URL) for a local server, or OPENAI_API_KEY for OpenAI")
        self.model = settings.gloss_model
        self.url = base + "/chat/completions"
        self.api_key = settings.gloss_api_key
        self.timeout_s = settings.gloss_timeout_s
        # Proxies from the environment never apply to a server on this machine.
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(parts.hostname) else []
        self._opener = urllib.request.build_opener(*handlers)

    def _complete(self, messages: list[dict[str, str]]) -> dict:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0,
                           "max_tokens": self.max_output_tokens, "stream": False}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read(300).decode("utf-8", "replace").strip() if err.fp else ""
            message = f"HTTP {err.code} from {self.url}" + (f": {detail}" if detail else "")
            if err.code in (408, 429) or err.code >= 500:
                raise TransientError(message, _retry_after(err.headers.get("Retry-After"))) \
                    from None
            hint = {401: " (check gloss_api_key / OPENAI_API_KEY)",
                    403: " (check gloss_api_key / OPENAI_API_KEY)",
                    404: " (check gloss_base_url and gloss_model)"}.get(err.code, "")
            raise PermanentError(message + hint) from None
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, TimeoutError):
                raise TransientError(
                    f"no answer from {self.url} within {self.timeout_s:g} s") from None
            raise TransientError(f"cannot reach {self.url}: {reason}") from None
        except TimeoutError:
            raise TransientError(
                f"no answer from {self.url} within {self.timeout_s:g} s") from None
        except (ConnectionError, http.client.HTTPException, OSError) as err:
            raise TransientError(f"connection to {self.url} failed: {err}") from None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise GarbageResponse(
                f"the response is not JSON: {raw[:80].decode('utf-8', 'replace')!r}") from None


LLAMACPP_INSTALL_HINT = "pip install 'codeloupe[llamacpp]'  (or: pip install xllamacpp)"


class LlamaCppProvider(_ModelProvider):
    """A local GGUF model run in-process by `xllamacpp` (an optional extra), through its
    OpenAI-style `handle_chat_completions`. The model is loaded on the first chunk.

    There is no per-request timeout in-process (a call cannot be interrupted); the answer's
    length is bounded by `gloss_max_output_tokens`, and cancellation applies between chunks."""

    name = "llamacpp"
    prompt_version = LOCAL_PROMPT_VERSION
    system_prompt = LOCAL_SYSTEM_PROMPT

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.max_output_tokens = min(self.max_output_tokens, LOCAL_MAX_OUTPUT_TOKENS)
        try:
            import xllamacpp  # noqa: F401 - only to know it is there
        except ImportError:
            raise GlossConfigError(
                "the llamacpp gloss provider needs the optional xllamacpp package, which is "
                f"not installed: {LLAMACPP_INSTALL_HINT}") from None
        if not settings.gloss_model:
            raise GlossConfigError(
                "the llamacpp gloss provider needs a model: set gloss_model "
                "(CODELOUPE_GLOSS_MODEL, or --model) to an installed model (`codeloupe models "
                "install smollm2` or `qwen2.5-coder-0.5b`) or the path of a .gguf file")
        from indexer.models import ModelError, resolve_gguf

        try:
            path = resolve_gguf(settings.gloss_model)
        except ModelError as err:
            raise GlossConfigError(str(err)) from None
        if path is None:
            raise GlossConfigError(
                f"llamacpp: GGUF model not found: {settings.gloss_model}; install one "
                "(`codeloupe models install smollm2` or `qwen2.5-coder-0.5b`) or set gloss_model "
                "(CODELOUPE_GLOSS_MODEL, or --model) to an existing .gguf file (nothing is "
                "downloaded)")
        self.path = path
        self.model = path.name  # the cache survives moving the file, not changing it
        self.threads = settings.gloss_concurrency
        self.compute_threads = max(1, settings.gloss_threads)
        self._server = None
        self._load_error: GlossConfigError | None = None
        self._lock = threading.Lock()

    def _load(self):  # noqa: ANN202 - xllamacpp.Server
        with self._lock:
            if self._load_error is not None:
                raise self._load_error  # a file that failed to load is not tried again
            if self._server is None:
                import xllamacpp as xlc

                params = xlc.CommonParams()
                params.model.path = str(self.path)
                # 1024 code tokens + the prompt + 48 out fit in 2048 per slot
                params.n_ctx = 2048 * max(1, self.threads)
                if hasattr(params, "n_parallel"):
                    params.n_parallel = max(1, self.threads)
                for cpu in (params.cpuparams, params.cpuparams_batch):
                    cpu.n_threads = self.compute_threads
                    cpu.poll = 0  # no busy-waiting: it starves everything else on the cores
                if hasattr(params, "offline"):
                    params.offline = True  # nothing may download at run time
                try:
                    self._server = xlc.Server(params)
                except Exception as err:  # noqa: BLE001 - a bad file is a config problem
                    self._load_error = GlossConfigError(
                        f"cannot load GGUF model {self.path}: {err}")
                    raise self._load_error from err
            return self._server

    def _complete(self, messages: list[dict[str, str]]) -> dict:
        server = self._load()
        try:
            result = server.handle_chat_completions({
                "messages": messages, "max_tokens": self.max_output_tokens,
                "temperature": 0, "stream": False})
        except Exception as err:  # noqa: BLE001 - the binding raises plain exceptions
            raise PermanentError(f"llama.cpp failed: {err}") from None
        if isinstance(result, str | bytes):
            try:
                result = json.loads(result)
            except json.JSONDecodeError:
                raise GarbageResponse("llama.cpp returned something that is not JSON") from None
        return _keep_first_sentence(result)

    def close(self) -> None:
        self._server = None


def _keep_first_sentence(result: object) -> object:
    """Post-trim a local model's answer to its first sentence; an answer cut at the token cap
    is fine when its first sentence is complete."""
    try:
        choice = result["choices"][0]  # type: ignore[index]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return result  # parse_chat_response says what is wrong with it
    if isinstance(content, str):
        trimmed = first_sentence(content)
        choice["message"]["content"] = trimmed
        if choice.get("finish_reason") == "length" and trimmed[-1:] in (".", "!", "?"):
            choice["finish_reason"] = "stop"
    return result


PROVIDERS = ("heuristic", "openai", "llamacpp")


def make_provider(settings: Settings) -> GlossProvider:
    """The provider `settings.gloss_provider` names, configured from `settings`."""
    name = settings.gloss_provider.strip().lower()
    if name == "heuristic":
        return HeuristicProvider()
    if name == "openai":
        return OpenAIProvider(settings)
    if name == "llamacpp":
        return LlamaCppProvider(settings)
    raise GlossConfigError(
        f"unknown gloss provider {settings.gloss_provider!r}; one of: {', '.join(PROVIDERS)}")
