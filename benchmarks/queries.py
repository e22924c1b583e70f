"""The query set of `bench_search.py`: patterns for the make_corpus.py corpus, by class.

The corpus is the Python standard library plus the project's site-packages (torch,
transformers, numpy, pydantic, ...). Each query is (class, pattern, flags), where flags holds
any of ``F`` (fixed strings), ``i`` (ignore case), ``S`` (smart case), ``w`` (whole word) and
``g`` (a list of globs, as ``rg -g``). Match counts quoted in comments are ripgrep's matching
lines on the corpus built from this project's venv (they drift with the installed packages).

Classes:
    selective    rare identifiers and literals (1-1,500 matching lines)
    common       common words (tens of thousands of lines and more)
    short        patterns under 3 characters: no trigram to plan with
    class        character classes and repetitions
    alternation  alternatives
    anchor       ^ and $
    ignore_case  -i (and a few -S)
    word         -w
    fixed        -F with regex metacharacters in the literal
    glob         -g includes and excludes
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Query:
    cls: str
    pattern: str
    flags: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def globs(self) -> tuple[str, ...]:
        return tuple(self.flags.get("g", ()))

    def rg_flags(self) -> list[str]:
        """The ripgrep (and `codeloupe search`) flags of this query, before the pattern."""
        args = []
        if self.flags.get("F"):
            args.append("-F")
        if self.flags.get("i"):
            args.append("-i")
        if self.flags.get("S"):
            args.append("-S")
        if self.flags.get("w"):
            args.append("-w")
        for glob in self.globs:
            args += ["-g", glob]
        return args

    def label(self) -> str:
        flags = " ".join(self.rg_flags())
        return f"{flags} {self.pattern}" if flags else self.pattern


def _q(cls: str, pattern: str, **flags) -> Query:  # noqa: ANN003
    return Query(cls, pattern, flags)


SELECTIVE = [
    _q("selective", r"socket\.create_connection"),
    _q("selective", "HTTPConnectionPool"),
    _q("selective", "assertCountEqual"),
    _q("selective", r"def __init_subclass__"),
    _q("selective", "AutoModelForCausalLM"),
    _q("selective", "PreTrainedTokenizerFast"),
    _q("selective", r"asyncio\.get_running_loop"),
    _q("selective", r"contextlib\.suppress"),
    _q("selective", r"functools\.cached_property"),
    _q("selective", "_PyObject_GC"),
    _q("selective", "SIGKILL"),
    _q("selective", r"urllib\.parse\.quote"),
    _q("selective", "deprecated_alias"),
    _q("selective", r"json\.JSONDecodeError"),
    _q("selective", r"typing\.Protocol"),
    _q("selective", "HfApi"),
    _q("selective", r"np\.einsum"),
    _q("selective", r"torch\.cuda\.is_available\(\)"),
    _q("selective", r"subprocess\.check_output"),
    _q("selective", r"sqlite3\.connect"),
    _q("selective", r"lru_cache\(maxsize=None\)"),
    _q("selective", r"xml\.etree\.ElementTree"),
    _q("selective", r"weakref\.WeakValueDictionary"),
    _q("selective", "hf_hub_download"),
    _q("selective", "rotary_emb"),
    _q("selective", "dispatch_key"),
    _q("selective", "zzxqj"),  # no match at all
]

COMMON = [
    _q("common", "return"),
    _q("common", "import"),
    _q("common", "self"),
    _q("common", "def "),
    _q("common", "None"),
    _q("common", "the"),
    _q("common", "if "),
    _q("common", "for "),
    _q("common", "__init__"),
    _q("common", "class "),
    _q("common", "torch"),
    _q("common", "raise "),
]

SHORT = [
    _q("short", "qq"),
    _q("short", "::"),
    _q("short", "=>"),
    _q("short", "->"),
    _q("short", "#!"),
    _q("short", "@"),
    _q("short", "%s"),
    _q("short", "!="),
    _q("short", "0x"),
    _q("short", "ZZ"),
    _q("short", "jq"),
    _q("short", ";"),
]

CLASS = [
    _q("class", r"[A-Z]{3}_[A-Z]+"),
    _q("class", r"\d{4}-\d{2}-\d{2}"),
    _q("class", r"0x[0-9a-fA-F]{8}"),
    _q("class", r"[a-z]+_[a-z]+_[a-z]+_[a-z]+_[a-z]+_[a-z]+"),
    _q("class", r"\b[A-Z][a-z]+Error\b"),
    _q("class", r"\w+@\w+\.(com|org)"),
    _q("class", r"[^\x00-\x7F]"),
    _q("class", r"\d+\.\d+\.\d+"),
    _q("class", r"[[:upper:]]{12,}"),
    _q("class", r"\p{Greek}+"),
    _q("class", r"[0-9]{9,}"),
    _q("class", r"\s+$"),
    _q("class", r"\bv\d+\.\d+\b"),
]

ALTERNATION = [
    _q("alternation", "foo|bar"),
    _q("alternation", r"(get|set)_[a-z]+_id"),
    _q("alternation", "TODO|FIXME|XXX"),
    _q("alternation", r"torch\.(zeros|ones|empty)\("),
    _q("alternation", r"int8|int16|int32|int64"),
    _q("alternation", "ValueError|TypeError|KeyError"),
    _q("alternation", r"\.(png|jpe?g|gif)\b"),
    _q("alternation", r"https?://"),
    _q("alternation", r"(async )?def (get|fetch)_\w+"),
    _q("alternation", "HTTPConnectionPool|assertCountEqual|zipfile.ZipFile"),
    _q("alternation", r"(?:sin|cos|tan)h?\("),
]

ANCHOR = [
    _q("anchor", r"^import (os|sys)$"),
    _q("anchor", r"^class \w+Error"),
    _q("anchor", r"^from __future__ import annotations$"),
    _q("anchor", r"^\s*raise NotImplementedError"),
    _q("anchor", r"^def test_\w+"),
    _q("anchor", r"^#!/usr/bin/env python"),
    _q("anchor", r"^    def __repr__\(self\)"),
    _q("anchor", r"^@dataclass"),
    _q("anchor", r"^if __name__ == .__main__.:$"),
    _q("anchor", r"^__all__ = \["),
    _q("anchor", r"\):$"),
    _q("anchor", r"^$"),
]

IGNORE_CASE = [
    _q("ignore_case", "httpconnectionpool", i=True),
    _q("ignore_case", "todo", i=True),
    _q("ignore_case", "hello world", i=True),
    _q("ignore_case", "content-type", i=True),
    _q("ignore_case", "utf-8", i=True),
    _q("ignore_case", "deprecated", i=True),
    _q("ignore_case", r"gelu\(", i=True),
    _q("ignore_case", "stringio", i=True),
    _q("ignore_case", "kelvin", i=True),
    _q("ignore_case", r"σ\w+", i=True),
    _q("ignore_case", "selfattention", S=True),
    _q("ignore_case", "SelfAttention", S=True),
]

WORD = [
    _q("word", "id", w=True),
    _q("word", "self", w=True),
    _q("word", "x", w=True),
    _q("word", "Tensor", w=True),
    _q("word", "max", w=True),
    _q("word", "os", w=True),
    _q("word", "async", w=True),
    _q("word", "_", w=True),
    _q("word", "HTTPConnectionPool", w=True),
    _q("word", r"get_\w+", w=True),
]

FIXED = [
    _q("fixed", "a.b(c)", F=True),
    _q("fixed", "self.assertEqual(", F=True),
    _q("fixed", "**kwargs)", F=True),
    _q("fixed", "[0]", F=True),
    _q("fixed", "$", F=True),
    _q("fixed", ".*", F=True),
    _q("fixed", r"\n", F=True),
    _q("fixed", "(*args, **kwargs)", F=True),
    _q("fixed", "(?:", F=True),
    _q("fixed", "dict[str, Any]", F=True),
    _q("fixed", "[::-1]", F=True),
    _q("fixed", "x|y", F=True),
]

GLOB = [
    _q("glob", "import", g=["*.py"]),
    _q("glob", "assertEqual", g=["!test*"]),
    _q("glob", "def ", g=["*.pyi"]),
    _q("glob", "torch", g=["*.md"]),
    _q("glob", "fixture", g=["**/tests/**"]),
    _q("glob", "Copyright", g=["*.{txt,rst}"]),
    _q("glob", r"socket\.", g=["stdlib/**"]),
    _q("glob", "import", g=["!*.py"]),
    _q("glob", "PyObject", g=["*.h"]),
    _q("glob", '"version"', g=["*.json"]),
    _q("glob", "LayerNorm", g=["*.py", "!**/models/**"]),
]

QUERIES: list[Query] = (SELECTIVE + COMMON + SHORT + CLASS + ALTERNATION + ANCHOR + IGNORE_CASE
                        + WORD + FIXED + GLOB)

CLASSES = ["selective", "common", "short", "class", "alternation", "anchor", "ignore_case",
           "word", "fixed", "glob"]


def quick_set(per_class: int = 2) -> list[Query]:
    """About 20 queries: the first `per_class` of each class."""
    out: list[Query] = []
    for cls in CLASSES:
        out += [q for q in QUERIES if q.cls == cls][:per_class]
    return out
