"""The pyannote Diarizer backend, in its own venv, inside the shared Ray Serve session.

Builds ``.venv-pyannote`` when missing (the script is a no-op when it is up to date), writes a
pipeline directory with random weights in community-1's layout, deploys a Diarizer whose
replica runs in that venv through ``runtime_env.py_executable``, and diarizes a synthetic
meeting. Random weights: the assertions cover structure, timing bounds and label consistency.
"""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from core.types import SAMPLE_RATE, DiarizationResult
from deployments.options import AppArgs, DiarizerArgs
from deployments.profiles import load_config
from scripts.synth_meeting import ensure_meeting

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
PYANNOTE_VENV = REPO_ROOT / ".venv-pyannote"
PYANNOTE_PYTHON = PYANNOTE_VENV / "bin" / "python"
APP_NAME = "pyannote-test"
EMBEDDING_DIM = 256  # WeSpeaker ResNet34, as in community-1
RESULT_TIMEOUT_S = 300
# The profile's conventional install paths, replaced by real ones (as an operator would).
PROFILE = REPO_ROOT / "configs" / "serve_cpu_pyannote.yaml"
PROFILE_PYTHON = "/opt/meetingserve/.venv-pyannote/bin/python"
PROFILE_PIPELINE = "/opt/meetingserve/models/pyannote-community-1"


@pytest.fixture(scope="module")
def pyannote_python() -> Path:
    script = REPO_ROOT / "scripts" / "install_pyannote_venv.sh"
    subprocess.run(["bash", str(script), str(PYANNOTE_VENV)], check=True, timeout=1800)
    return PYANNOTE_PYTHON


@pytest.fixture(scope="module")
def random_pipeline(pyannote_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pyannote-pipeline")
    script = REPO_ROOT / "scripts" / "make_random_pyannote_pipeline.py"
    subprocess.run([str(pyannote_python), str(script), str(directory)], check=True, timeout=600)
    return directory


@pytest.fixture(scope="module")
def diarizer(platform: Any, pyannote_python: Path, random_pipeline: Path) -> Iterator[Any]:
    """A Diarizer app (no HTTP route) whose replica runs in the pyannote venv."""
    from ray import serve

    from deployments.builder import as_deployment
    from deployments.diarizer import Diarizer

    args = DiarizerArgs(
        backend="pyannote",
        pipeline=str(random_pipeline),
        device="cpu",
        segmentation_batch_size=8,
        embedding_batch_size=8,
        cpu_threads=1,
    )
    runtime_env = {"py_executable": str(pyannote_python)}
    app = (
        as_deployment(Diarizer)
        .options(ray_actor_options={"num_cpus": 0.25, "runtime_env": runtime_env})
        .bind(args)
    )
    handle = serve.run(app, name=APP_NAME, route_prefix=None)
    try:
        yield handle
    finally:
        serve.delete(APP_NAME)


@pytest.fixture(scope="module")
def window() -> np.ndarray:
    audio = ensure_meeting("short2").load_audio()
    return np.asarray(audio, dtype=np.float32)


def diarize(handle: Any, audio: np.ndarray) -> DiarizationResult:
    result = handle.diarize.remote(audio).result(timeout_s=RESULT_TIMEOUT_S)
    assert isinstance(result, DiarizationResult)
    return result


@pytest.fixture(scope="module")
def window_result(diarizer: Any, window: np.ndarray) -> DiarizationResult:
    """One window through the replica (~10-30 s on 2 shared cores), shared by the checks."""
    return diarize(diarizer, window)


def test_the_test_process_cannot_import_pyannote() -> None:
    # What makes the next tests meaningful: only the replica's venv has pyannote.
    assert importlib.util.find_spec("pyannote.audio") is None


def test_diarizes_a_meeting_window_within_its_bounds(
    window_result: DiarizationResult, window: np.ndarray
) -> None:
    duration = window.size / SAMPLE_RATE
    result = window_result

    assert result.turns, "the random pipeline is biased towards speech; no turns means a bug"
    for turn in result.turns:
        assert 0.0 <= turn.start < turn.end <= duration
        assert re.fullmatch(r"SPEAKER_\d{2}", turn.speaker)
    starts = [t.start for t in result.turns]
    assert starts == sorted(starts)
    for before, after in zip(result.turns, result.turns[1:], strict=False):
        assert after.start >= before.end  # exclusive diarization: no overlapping turns


def test_one_embedding_per_speaker_of_the_turns(window_result: DiarizationResult) -> None:
    result = window_result

    assert set(result.embeddings) == {t.speaker for t in result.turns}
    for vector in result.embeddings.values():
        assert len(vector) == EMBEDDING_DIM
        assert all(math.isfinite(v) for v in vector)
        assert any(v != 0.0 for v in vector)


def test_concurrent_windows_give_the_same_answer(
    diarizer: Any, window: np.ndarray, window_result: DiarizationResult
) -> None:
    # The replica serialises windows on one pipeline; results must not bleed into each other.
    half = window[: window.size // 2]
    responses = [diarizer.diarize.remote(a) for a in (half, window)]
    short, again = (r.result(timeout_s=RESULT_TIMEOUT_S) for r in responses)

    assert again == window_result
    assert short.turns and short.turns[-1].end <= half.size / SAMPLE_RATE


def test_empty_window_has_no_turns(diarizer: Any) -> None:
    result = diarize(diarizer, np.zeros(0, dtype=np.float32))

    assert (result.turns, result.embeddings) == ([], {})
    assert result.backend.startswith("pyannote:")  # profiles made by this backend say so


def test_pyannote_profile_validates_once_paths_are_filled_in(
    pyannote_python: Path, random_pipeline: Path, tmp_path: Path
) -> None:
    text = PROFILE.read_text()
    assert PROFILE_PYTHON in text and PROFILE_PIPELINE in text
    filled = text.replace(PROFILE_PYTHON, str(pyannote_python))
    filled = filled.replace(PROFILE_PIPELINE, str(random_pipeline))
    path = tmp_path / "serve_cpu_pyannote.yaml"
    path.write_text(filled)

    config = load_config(path)  # Serve's schema + the builder's args
    app = config["applications"][0]
    args = AppArgs.model_validate(app["args"])
    assert args.diarizer.backend == "pyannote"
    assert args.diarizer.pipeline == str(random_pipeline)
    diarizer = next(d for d in app["deployments"] if d["name"] == "Diarizer")
    assert diarizer["ray_actor_options"]["runtime_env"]["py_executable"] == str(pyannote_python)


def test_profile_as_shipped_fails_fast_on_the_missing_pipeline() -> None:
    from deployments.profiles import ProfileError

    raw = yaml.safe_load(PROFILE.read_text())
    assert raw["applications"][0]["args"]["diarizer"]["pipeline"] == PROFILE_PIPELINE
    with pytest.raises(ProfileError, match=r"diarizer\.pipeline"):
        load_config(PROFILE)


@pytest.fixture
def pyannote_platform(platform: Any, pyannote_python: Path, random_pipeline: Path) -> Iterator[Any]:
    """The shared platform switched to the pyannote Diarizer; switched back afterwards."""
    from ray import serve

    from benchmarks.platform import wait_ready
    from deployments.builder import build_app, compose_app

    args = AppArgs(
        diarizer=DiarizerArgs(
            backend="pyannote", pipeline=str(random_pipeline), device="cpu", cpu_threads=1
        )
    )
    runtime_env = {"py_executable": str(pyannote_python)}
    options = {"Diarizer": {"ray_actor_options": {"num_cpus": 0.25, "runtime_env": runtime_env}}}
    serve.run(compose_app(args, options), name="meetingserve", route_prefix="/")
    wait_ready(platform.base_url)
    try:
        yield platform
    finally:
        serve.run(build_app(AppArgs()), name="meetingserve", route_prefix="/")
        wait_ready(platform.base_url)


def test_full_upload_flow_runs_on_the_pyannote_backend(pyannote_platform: Any) -> None:
    import asyncio

    from tests.integration.client import collect_until_done, register

    user = register(pyannote_platform.base_url, pyannote_platform.ws_url)
    meeting_id = user.create_meeting("pyannote meeting")
    response = user.upload(meeting_id, ensure_meeting("short2").audio_path)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    received = asyncio.run(
        collect_until_done(user, meeting_id, timeout_s=600, last_seq=0, job_id=job_id)
    )
    messages = [r.message for r in received]
    assert messages[-1]["status"] == "completed", messages[-1]
    segments = [m["segment"] for m in messages if m["type"] == "transcript"]
    assert segments, "the transcript must come through with pyannote speaker labels"
    assert all(re.fullmatch(r"SPEAKER_\d\d", s["speaker"]) for s in segments)
    assert user.get(f"/api/meetings/{meeting_id}/summary").status_code == 200
