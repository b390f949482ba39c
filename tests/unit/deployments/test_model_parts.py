"""Split packaged models: reassembled once, verified, and refused with a clear error when wrong."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments.model_parts import (
    WHISPER_BASE,
    PackagedFile,
    PackagedModelError,
    SplitModel,
    assemble,
)
from deployments.packaged import resolve_model

PART_A = b"first half of the weights|"
PART_B = b"second half"


@pytest.fixture
def fake_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two installed-looking packages holding a config and the two halves of a model."""
    root = tmp_path / "site"
    for name, files in {
        "fakemodel_part1": {"data/config.json": b"{}", "data/model.bin.part1": PART_A},
        "fakemodel_part2": {"data/model.bin.part2": PART_B},
    }.items():
        for rel, content in files.items():
            path = root / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        (root / name / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in ("fakemodel_part1", "fakemodel_part2"):
        sys.modules.pop(name, None)


def fake_model(sha256: str | None = None, size: int | None = None) -> SplitModel:
    whole = PART_A + PART_B
    return SplitModel(
        name="fake",
        files=(PackagedFile("fakemodel_part1", "data/config.json"),),
        parts=(
            PackagedFile("fakemodel_part1", "data/model.bin.part1"),
            PackagedFile("fakemodel_part2", "data/model.bin.part2"),
        ),
        size=len(whole) if size is None else size,
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
    )


def test_parts_are_concatenated_in_order_with_the_plain_files(
    fake_packages: Path, tmp_path: Path
) -> None:
    directory = assemble(fake_model(), tmp_path / "cache")
    assert (directory / "model.bin").read_bytes() == PART_A + PART_B
    assert (directory / "config.json").read_bytes() == b"{}"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [directory.name]


def test_a_verified_copy_is_reused_and_a_corrupt_one_rebuilt(
    fake_packages: Path, tmp_path: Path
) -> None:
    model = fake_model()
    directory = assemble(model, tmp_path / "cache")
    first = (directory / "model.bin").stat().st_mtime_ns
    assert assemble(model, tmp_path / "cache") == directory
    assert (directory / "model.bin").stat().st_mtime_ns == first
    (directory / "model.bin").write_bytes(b"x" * model.size)  # same size, wrong bytes
    assert (assemble(model, tmp_path / "cache") / "model.bin").read_bytes() == PART_A + PART_B


def test_sha_mismatch_is_a_clear_error_and_leaves_nothing(
    fake_packages: Path, tmp_path: Path
) -> None:
    with pytest.raises(PackagedModelError, match=r"expected 37 bytes with sha256 0000.*reinstall"):
        assemble(fake_model(sha256="0" * 64), tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_size_mismatch_is_an_error(fake_packages: Path, tmp_path: Path) -> None:
    with pytest.raises(PackagedModelError, match="is 37 bytes"):
        assemble(fake_model(size=38), tmp_path / "cache")


def test_missing_package_says_what_to_install(tmp_path: Path) -> None:
    model = SplitModel(
        name="ghost",
        files=(),
        parts=(PackagedFile("no_such_package_xyz", "data/model.bin.part1"),),
        size=1,
        sha256="0" * 64,
    )
    with pytest.raises(PackagedModelError, match="no_such_package_xyz is not installed"):
        assemble(model, tmp_path / "cache")


def test_missing_part_file(fake_packages: Path, tmp_path: Path) -> None:
    (fake_packages / "fakemodel_part2" / "data" / "model.bin.part2").unlink()
    with pytest.raises(PackagedModelError, match=r"model.bin.part2 is missing; reinstall"):
        assemble(fake_model(), tmp_path / "cache")


@pytest.mark.slow
def test_real_whisper_base_assembles_to_the_published_checksum(tmp_path: Path) -> None:
    directory = Path(resolve_model("packaged:base", tmp_path))
    assert directory.name == f"whisper-base-{WHISPER_BASE.sha256[:12]}"
    assert (directory / "model.bin").stat().st_size == 145_217_532
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {
        p.name for p in directory.iterdir()
    }
