"""LiveStreamer against a scripted audio socket: real-time pacing, and a dropped connection
resumed with the session id from the server's ``received_s`` (nothing lost, nothing doubled)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from meetingserve_cli.api import Languages, Recording
from meetingserve_cli.config import Credentials
from meetingserve_cli.errors import CliError, ExitCode
from meetingserve_cli.live import BYTES_PER_SECOND, AudioBuffer, LiveStreamer, pcm16, play_file
from meetingserve_cli.mic import input_rate, record_microphone


class AudioServer:
    """Keeps the audio it got; drops the first connection after ``drop_after`` bytes."""

    def __init__(
        self,
        drop_after: int | None = None,
        close_code: int = 1011,
        refusal: dict[str, str] | None = None,
    ) -> None:
        self.audio = bytearray()
        self.starts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.drop_after = drop_after
        self.close_code = close_code
        self.refusal = refusal  # an ``error`` reply to ``start``, before the close

    async def handler(self, ws: ServerConnection) -> None:
        self.paths.append(ws.request.path if ws.request else "")
        start = json.loads(await ws.recv())
        self.starts.append(start)
        if self.refusal is not None:
            await ws.send(json.dumps({"type": "error", **self.refusal}))
        if self.close_code >= 4000 and self.drop_after is None:
            await ws.close(self.close_code, "refused")
            return
        received_s = len(self.audio) / (start["sample_rate"] * 2)
        reply = {"type": "started", "session_id": "s1", "job_id": "j1", "received_s": received_s}
        await ws.send(json.dumps(reply))
        async for message in ws:
            if isinstance(message, bytes):
                self.audio += message
                if self.drop_after is not None and len(self.audio) >= self.drop_after:
                    self.drop_after = None
                    await ws.close(self.close_code, "replica died")
                    return
            elif json.loads(message)["type"] == "stop":
                await ws.send(json.dumps({"type": "stopped", "session_id": "s1"}))
                await ws.close()
                return


@pytest.fixture
async def audio_server(request: pytest.FixtureRequest) -> AsyncIterator[tuple[AudioServer, str]]:
    server = AudioServer(**getattr(request, "param", {}))
    async with serve(server.handler, "127.0.0.1", 0, subprotocols=["bearer"]) as ws_server:  # type: ignore[list-item]
        port = next(iter(ws_server.sockets)).getsockname()[1]
        yield server, f"http://127.0.0.1:{port}"


def tone(seconds: float) -> bytes:
    t = np.arange(int(seconds * 16_000)) / 16_000
    return pcm16(0.3 * np.sin(2 * np.pi * 300 * t))


@pytest.mark.parametrize("audio_server", [{"drop_after": BYTES_PER_SECOND // 2}], indirect=True)
async def test_dropped_connection_resumes_the_session_without_loss_or_duplicates(
    audio_server: tuple[AudioServer, str],
) -> None:
    server, base = audio_server
    pcm = tone(1.5)
    notices: list[str] = []
    streamer = LiveStreamer(Credentials(base, "tok"), "m1", notices.append)
    began = time.monotonic()
    stopped = await streamer.run(lambda buffer: play_file(pcm, buffer))
    assert stopped["type"] == "stopped"
    assert time.monotonic() - began >= 1.4  # paced at real time
    assert bytes(server.audio) == pcm
    assert [s.get("session_id") for s in server.starts] == [None, "s1"]
    assert streamer.job_id.result() == "j1"
    assert any("resuming the session" in n for n in notices)


@pytest.mark.parametrize("audio_server", [{"close_code": 4409}], indirect=True)
async def test_busy_meeting_is_a_refusal_not_a_retry(audio_server: tuple[AudioServer, str]) -> None:
    server, base = audio_server
    streamer = LiveStreamer(Credentials(base, "tok"), "m1", print)
    with pytest.raises(CliError) as e:
        await streamer.run(lambda buffer: play_file(tone(0.2), buffer))
    assert e.value.code == ExitCode.REJECTED
    assert len(server.starts) == 1


@pytest.mark.parametrize("audio_server", [{"drop_after": BYTES_PER_SECOND // 2}], indirect=True)
async def test_a_new_session_starts_with_its_languages_and_replace(
    audio_server: tuple[AudioServer, str],
) -> None:
    server, base = audio_server
    recording = Recording(Languages("auto", "en"), replace=True)
    streamer = LiveStreamer(Credentials(base, "tok"), "m1", print, recording)
    await streamer.run(lambda buffer: play_file(tone(1.0), buffer))
    assert server.paths == ["/ws/meeting/m1/audio?replace=true"] * 2
    first, resumed = server.starts
    assert (first["language"], first["translate_to"]) == ("auto", "en")
    assert "language" not in resumed and resumed["session_id"] == "s1"  # the session keeps them


@pytest.mark.parametrize(
    ("audio_server", "shown"),
    [
        (
            {"close_code": 4400, "refusal": {"error": "No model writes 'xx'.", "code": "x"}},
            "No model writes 'xx'. (x)",
        ),
        (
            {"close_code": 4409, "refusal": {"error": "...", "code": "transcript_exists"}},
            "pass --replace",
        ),
    ],
    indirect=["audio_server"],
)
async def test_a_refused_start_is_reported_with_the_servers_reason(
    audio_server: tuple[AudioServer, str], shown: str
) -> None:
    server, base = audio_server
    streamer = LiveStreamer(Credentials(base, "tok"), "m1", print)
    with pytest.raises(CliError) as e:
        await streamer.run(lambda buffer: play_file(tone(0.2), buffer))
    assert e.value.code == ExitCode.REJECTED and shown in e.value.message
    assert len(server.starts) == 1
    assert "language" not in server.starts[0] and server.paths == ["/ws/meeting/m1/audio"]


@pytest.mark.parametrize("audio_server", [{"drop_after": 48_000}], indirect=True)
async def test_a_48k_stream_declares_its_rate_and_resumes_at_its_own_offset(
    audio_server: tuple[AudioServer, str],
) -> None:
    """A microphone opened at its own 48 kHz: ``start`` says so, and the resume offset is
    ``received_s`` at that rate (0.5 s is byte 48,000, not 16,000)."""
    server, base = audio_server
    t = np.arange(48_000) / 48_000
    pcm = pcm16(0.3 * np.sin(2 * np.pi * 300 * t))

    async def source(buffer: AudioBuffer) -> None:
        buffer.append(pcm)
        buffer.finish()

    streamer = LiveStreamer(Credentials(base, "tok"), "m1", print, sample_rate=48_000)
    assert (await streamer.run(source))["type"] == "stopped"
    assert [s["sample_rate"] for s in server.starts] == [48_000, 48_000]
    assert bytes(server.audio) == pcm  # resumed at byte 48,000: nothing lost or doubled


class FakeSoundDevice:
    """The ``sounddevice`` module at the edge: one device, a stream that delivers two blocks."""

    def __init__(self, default_rate: float) -> None:
        self.default_rate = default_rate
        self.opened: dict[str, Any] = {}

    def query_devices(self, device: str | None, kind: str) -> dict[str, Any]:
        assert kind == "input"
        return {"name": device or "default", "default_samplerate": self.default_rate}

    def RawInputStream(self, **kwargs: Any) -> Any:  # the library's name
        self.opened = kwargs

        class Stream:
            def __enter__(self) -> None:
                for block in (b"\x01\x00" * 4, b"\x02\x00" * 4):
                    kwargs["callback"](block, 4, None, None)

            def __exit__(self, *exc: object) -> None:
                return None

        return Stream()


@pytest.mark.parametrize(
    ("device_rate", "opened_at"), [(48_000.0, 48_000), (44_100.0, 44_100), (96_000.0, 16_000)]
)
async def test_the_microphone_records_at_its_own_rate_when_the_server_takes_it(
    monkeypatch: pytest.MonkeyPatch, device_rate: float, opened_at: int
) -> None:
    fake = FakeSoundDevice(device_rate)
    monkeypatch.setitem(
        sys.modules,
        "sounddevice",
        SimpleNamespace(query_devices=fake.query_devices, RawInputStream=fake.RawInputStream),
    )
    rate = input_rate("usb-mic")
    assert rate == opened_at
    buffer, stop = AudioBuffer(), asyncio.Event()
    stop.set()
    await record_microphone(buffer, stop, "usb-mic", rate)
    await asyncio.sleep(0)  # the callbacks hand blocks over through the loop
    assert fake.opened["samplerate"] == opened_at and fake.opened["blocksize"] == opened_at // 10
    assert bytes(buffer.data) == b"\x01\x00" * 4 + b"\x02\x00" * 4 and buffer.done
