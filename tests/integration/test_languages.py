"""Meetings in other languages on the real cluster: an Italian meeting uploaded and streamed
with ``language=auto`` is detected as Italian, transcribed in Italian with both speakers, and
captioned in English; a language no loaded model writes is refused with a 400.

The cluster runs the CPU profile's two Transcribers (tiny.en and multilingual base); the
meeting is the 26 s two-voice ``italian2`` from the festival corpus, with hand-written
English translations as the caption reference.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from benchmarks.live_client import StreamLog, stream_audio
from benchmarks.scoring import word_error_rate
from scripts.synth_meeting import MeetingAudio, ensure_meeting
from tests.integration.client import ApiUser, Received, collect_until_done, register
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow

# Ideas of the hand-written translation that any fair caption of the meeting carries, each as
# the English words a fair translation may use for it ("i clienti": customers or clients).
EXPECTED_ENGLISH = (
    {"morning"},
    {"customer", "customers", "client", "clients"},
    {"friday"},
    {"test", "tests", "testing"},
    {"presentation"},
    {"monday"},
)
MAX_ITALIAN_WER = 0.45  # seen here: upload 0.08, live 0.26-0.29 (docs/benchmarks.md "Languages")
MIN_CHRF = 30.0  # chrF of the captions against the scripted translation (seen: 61, 52-56)


@pytest.fixture(scope="module")
def italian() -> MeetingAudio:
    return ensure_meeting("italian2", install=True)


@pytest.fixture(scope="module")
def user(platform: RunningPlatform) -> ApiUser:
    return register(platform.base_url, platform.ws_url)


def create_meeting(user: ApiUser, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{user.base_url}/api/meetings",
        json={"title": "Riunione", **body},
        headers=user.headers,
        timeout=30,
    )


def of_type(received: list[Received], kind: str) -> list[dict[str, Any]]:
    return [r.message for r in received if r.message["type"] == kind]


def detection(received: list[Received]) -> dict[str, Any]:
    [event] = [
        s["details"]
        for s in of_type(received, "status")
        if s["details"].get("language_source") == "detected"
    ]
    return event


def chrf(hypothesis: str, reference: str) -> float:
    import sacrebleu

    return float(sacrebleu.corpus_chrf([hypothesis], [[reference]]).score)


def ideas_found(english: str) -> int:
    """How many of the translation's expected ideas an English caption carries."""
    words = set(re.findall(r"[a-z]+", english.lower()))
    return sum(1 for forms in EXPECTED_ENGLISH if forms & words)


def check_italian_meeting(
    user: ApiUser, meeting_id: str, received: list[Received], italian: MeetingAudio
) -> None:
    assert received[-1].message["status"] == "completed", received[-1].message
    found = detection(received)
    assert found["language"] == "it"
    assert found["language_probability"] > 0.5
    meeting = user.get(f"/api/meetings/{meeting_id}").json()
    assert meeting["spoken_language"] == "it"
    assert meeting["language"] == "auto"
    segments = [m["segment"] for m in of_type(received, "transcript")]
    original = " ".join(s["text"] for s in segments)
    english = " ".join(s.get("translation") or "" for s in segments)
    wer = word_error_rate(italian.transcript(), original)
    score = chrf(english, italian.translation())
    print(f"italian2: WER={wer:.3f} chrF={score:.1f}\n  it: {original}\n  en: {english}")
    assert len({s["speaker"] for s in segments}) >= 2
    assert wer <= MAX_ITALIAN_WER
    assert all(s.get("translation") for s in segments), "every segment carries a caption"
    assert ideas_found(english) >= 3, english
    assert score >= MIN_CHRF
    [summary] = of_type(received, "summary")
    assert summary["details"]["language"] == "it"
    assert "English rules" in summary["details"]["language_note"]


def test_unsupported_language_is_a_400(user: ApiUser) -> None:
    r = create_meeting(user, language="xx")
    assert r.status_code == 400
    assert r.json()["detail"]["code"] == "unsupported_language"
    assert r.json()["detail"]["detection"] is True
    assert create_meeting(user, language="fi").status_code == 201


def test_italian_upload_is_detected_transcribed_and_translated(
    user: ApiUser, italian: MeetingAudio
) -> None:
    r = create_meeting(user, language="auto", translate_to="en")
    assert r.status_code == 201, r.text
    meeting_id = r.json()["id"]

    async def run() -> list[Received]:
        listener = asyncio.create_task(collect_until_done(user, meeting_id, last_seq=0))
        await asyncio.sleep(0.5)
        response = await asyncio.to_thread(user.upload, meeting_id, italian.audio_path)
        assert response.status_code == 202, response.text
        return await listener

    received = asyncio.run(run())
    check_italian_meeting(user, meeting_id, received, italian)
    export = user.get(f"/api/meetings/{meeting_id}/transcript", format="txt", text="both")
    assert export.status_code == 200 and "[" in export.text


def test_italian_live_stream_is_detected_transcribed_and_translated(
    user: ApiUser, italian: MeetingAudio
) -> None:
    meeting_id = create_meeting(user).json()["id"]  # the language comes with the start message
    log = StreamLog()

    async def run() -> list[Received]:
        listener = asyncio.create_task(collect_until_done(user, meeting_id, last_seq=0))
        await asyncio.sleep(0.5)
        await stream_audio(
            user.ws_url,
            meeting_id,
            user.token,
            italian.load_audio(),
            log,
            start_fields={"language": "auto", "translate_to": "en"},
        )
        return await listener

    received = asyncio.run(run())
    check_italian_meeting(user, meeting_id, received, italian)
