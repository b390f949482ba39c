"""What ``GET /v1/models`` lists for a profile: the transcriber's model, named without a path."""

from __future__ import annotations

from pathlib import Path

from deployments.builder import served_models
from deployments.options import AppArgs
from processor_api.backend import ServedModel


def test_the_cpu_profile_serves_packaged_tiny_en_in_english() -> None:
    assert served_models(AppArgs()) == [ServedModel("tiny.en", "en")]


def test_a_local_multilingual_model_is_named_by_its_directory(tmp_path: Path) -> None:
    model_dir = tmp_path / "faster-whisper-large-v3"
    model_dir.mkdir()
    args = AppArgs.model_validate(
        {"transcriber": {"model": f"{model_dir}/", "language": None, "device": "cuda"}}
    )
    assert served_models(args) == [ServedModel("faster-whisper-large-v3", None)]
