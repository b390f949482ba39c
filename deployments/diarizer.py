"""Diarizer deployment: window-local speaker turns plus one embedding per speaker.

The Processor links the per-window speakers to meeting-wide labels across windows. Two
interchangeable backends sit behind the same ``diarize`` call, chosen by ``DiarizerArgs.backend``:
``embedded`` (Silero VAD + GE2E embeddings + clustering, CPU, main venv) and ``pyannote``
(pyannote.audio 4.x in its own venv, ``deployments.diarizer_pyannote``). Module-level imports
stay light because the pyannote replica imports this module in a venv without faster-whisper.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

import numpy as np
from ray import serve

from core.diarization import (
    absorb_small_clusters,
    labels_to_turns,
    slice_regions,
    speaker_centroids,
)
from core.speech_tracker import SpeechFrames
from core.types import SAMPLE_RATE, DiarizationResult
from core.voice_profiles import dominant_voice
from deployments.cpu_priority import lower_process_priority
from deployments.options import DiarizerArgs
from processor_api.voices import VoiceEmbedding, VoiceRefusal, VoiceReply, VoiceSample

logger = logging.getLogger(__name__)
MIN_CLUSTER_SHARE = 0.05
TURN_PAUSE_MS = 200


class DiarizerBackend(Protocol):
    def diarize(self, audio: np.ndarray, speech: SpeechFrames | None = None) -> DiarizationResult:
        """Blocking; the deployment runs it in a worker thread. ``speech``: the window's VAD
        frames when the caller scored them (a backend that finds speech its own way ignores
        them)."""
        ...


def embedding_backend_id(args: DiarizerArgs) -> str:
    """Names the speaker-embedding space; a voice profile only matches embeddings of its own."""
    if args.backend == "pyannote":
        name = args.pipeline.rstrip("/").rsplit("/", 1)[-1]
        return f"pyannote:{name}"[:64]
    return "embedded:ge2e"


def make_backend(args: DiarizerArgs) -> DiarizerBackend:
    if args.backend == "pyannote":
        from deployments.diarizer_pyannote import PyannoteBackend

        return PyannoteBackend(args)
    return EmbeddedBackend(args)


@serve.deployment(max_ongoing_requests=32)
class Diarizer:
    def __init__(self, args: DiarizerArgs) -> None:
        self._backend = make_backend(args)
        self._backend_id = embedding_backend_id(args)
        lower_process_priority(args.cpu_nice)

    def is_ready(self) -> bool:
        return True

    async def diarize(
        self, audio: np.ndarray, speech: SpeechFrames | None = None
    ) -> DiarizationResult:
        """Speaker turns (window-relative seconds) and per-speaker embeddings for one window;
        ``speech``, the window's VAD frames, spares the embedded backend its own VAD pass."""
        if speech is not None:
            speech.matches(audio)
        result = await asyncio.to_thread(self._backend.diarize, audio, speech)
        result.backend = self._backend_id
        return result

    async def embed_voice(self, sample: VoiceSample) -> VoiceReply:
        """The dominant voice of an enrolment sample, or a refusal when the sample holds no
        usable speech."""
        result = await self.diarize(sample.audio)
        voice = dominant_voice(result)
        if voice is None:
            return VoiceRefusal("no_speech", "No speech was found in the sample")
        embedding, speech_s = voice
        return VoiceEmbedding(self._backend_id, embedding, speech_s)


class EmbeddedBackend:
    """Silero VAD regions, GE2E embeddings of short slices, agglomerative clustering."""

    def __init__(self, args: DiarizerArgs) -> None:
        import torch
        from resemblyzer import VoiceEncoder

        torch.set_num_threads(1)
        self._args = args
        self._encoder = VoiceEncoder(device="cpu", verbose=False)
        warmup = np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE).astype(np.float32)
        self._embed([warmup])  # compiles librosa's numba kernels before the first request
        logger.info("Diarizer loaded (embedded backend)")

    def diarize(self, audio: np.ndarray, speech: SpeechFrames | None = None) -> DiarizationResult:
        from deployments.vad import speech_regions  # faster-whisper: main venv only

        # Shorter pauses than the Transcriber's split turns: a reply after a 0.2-s pause is
        # another region, so another slice and possibly another speaker.
        if speech is not None:
            regions = speech.regions(min_silence_ms=TURN_PAUSE_MS)
        else:
            regions = speech_regions(audio, min_silence_ms=TURN_PAUSE_MS)
        slices = slice_regions(regions, self._args.slice_s, self._args.hop_s)
        if not slices:
            return DiarizationResult(turns=[], embeddings={})
        embeddings = self._embed([audio_span(audio, s.start, s.end) for _, s in slices])
        labels = self._cluster(embeddings)
        return DiarizationResult(
            turns=labels_to_turns(regions, slices, labels.tolist()),
            embeddings=speaker_centroids(embeddings, labels),
        )

    def _embed(self, clips: list[np.ndarray]) -> np.ndarray:
        import torch
        from resemblyzer.audio import normalize_volume, wav_to_mel_spectrogram
        from resemblyzer.hparams import audio_norm_target_dBFS

        # normalize_volume divides by the clip's level: digital silence would turn into NaNs.
        mels = [
            wav_to_mel_spectrogram(
                normalize_volume(c, audio_norm_target_dBFS, increase_only=True) if c.any() else c
            )
            for c in clips
        ]
        frames = max(m.shape[0] for m in mels)
        batch = np.zeros((len(mels), frames, mels[0].shape[1]), dtype=np.float32)
        for i, mel in enumerate(mels):  # repeat-pad short clips rather than pad with silence
            batch[i] = np.resize(mel, (frames, mel.shape[1]))
        with torch.inference_mode():
            return self._encoder(torch.from_numpy(batch)).numpy()

    def _cluster(self, embeddings: np.ndarray) -> np.ndarray:
        if len(embeddings) == 1:
            return np.zeros(1, dtype=int)
        from sklearn.cluster import AgglomerativeClustering

        clustering = AgglomerativeClustering(
            n_clusters=None,
            distance_threshold=self._args.cluster_distance,
            metric="cosine",
            linkage="average",
        )
        labels = clustering.fit_predict(embeddings)
        return absorb_small_clusters(
            embeddings, labels, MIN_CLUSTER_SHARE, self._args.absorb_min_similarity
        )


def audio_span(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
