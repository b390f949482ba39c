"""Synthesise test meetings with distinct real voices and a known reference.

Festival's kal, ked and slt voices are far enough apart for speaker embeddings (espeak-ng
variants are not), so these meetings test diarization, ASR, alignment and action items against
exact ground truth. A meeting's cache directory holds ``audio.wav`` (16 kHz mono PCM16),
``reference.json`` (turns with speaker/start/end/text, expected action items),
``reference.rttm`` (for DER) and ``reference.txt`` (one turn per line, for WER). Re-running
with the same script is a no-op. Needs ``text2wave`` and ``sox``: ``scripts/ensure_festival.sh``.

    python -m scripts.synth_meeting standup3 --minutes 10
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.exports import render_transcript
from core.types import SAMPLE_RATE, ActionItem, Segment, SpeakerTurn
from scripts.multilingual_scripts import FOREIGN_VOICES, MULTILINGUAL_SCRIPTS, SPEAKER_LANGUAGES

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / "var" / "corpus"
ENSURE_SCRIPT = Path(__file__).resolve().parent / "ensure_festival.sh"
SYNTH_VERSION = 1  # bump when the synthesis changes so caches are rebuilt

VOICES: dict[str, str] = {
    "alice": "voice_kal_diphone",
    "bob": "voice_ked_diphone",
    "carol": "voice_cmu_us_slt_arctic_hts",
}
# A fourth, clearly different voice (Festival's Italian male diphones reading English) for the
# meeting where a guest speaks once. Kept out of VOICES: the cache key (and the random pauses
# it seeds) of every meeting that does not use it must not change.
GUEST_VOICES: dict[str, str] = {"marco": "voice_pc_diphone"}
# Seven people for the large-meeting check (panel7): the four non-English Festival voices read
# English (accented speech, as in an international team) beside the three English ones. Kept
# apart for the same reason as GUEST_VOICES.
PANEL_VOICES: dict[str, str] = {
    "lucia": "voice_lp_diphone",
    "paolo": "voice_pc_diphone",
    "sanna": "voice_suo_fi_lj_diphone",
    "eero": "voice_hy_fi_mv_diphone",
}
PAUSE_RANGE_S = (0.3, 1.2)
LEAD_IN_S, TAIL_S = 0.5, 0.8
NOISE_FLOOR = 3e-4  # about -70 dBFS, so "silence" is not digital zero
TARGET_RMS = 0.1  # about -20 dBFS per utterance, so no voice is much louder than another

# Slots rotate per round when a longer meeting repeats the script.
SLOTS: dict[str, tuple[str, ...]] = {
    "feature": ("customer portal", "search service", "billing export", "mobile app"),
    "artifact": ("build", "release candidate", "beta build"),
    "day": ("Friday", "Monday", "Tuesday"),
    "doc": ("docs", "user guide", "API reference", "onboarding page"),
}


@dataclass(frozen=True, slots=True)
class Line:
    """One turn of a script; ``action`` is (owner, task, due) as the finder should read it."""

    speaker: str
    text: str
    action: tuple[str, str, str | None] | None = None
    translation: str | None = None  # English, for non-English turns
    # Crosstalk: ("<", s) starts s seconds before the previous turn ends (an interruption);
    # ("@", f) is said under the previous turn, f of the way into it (a backchannel).
    timing: tuple[str, float] | None = None


# One turn per "speaker: text" line; indented lines continue the text, and "->" lines give
# the action item it states as "owner | task | due" (as find_action_items should read it).
# Lines without "->" must not read as action items. "speaker <0.6:" starts 0.6 s before the
# previous turn ends; "speaker @0.5:" is said under the previous turn, half way into it.
_SCRIPT_TEXT: dict[str, str] = {
    "standup3": """
carol: Good morning everyone. This is our weekly standup for the {feature}.
alice: Morning. Yesterday I finished the code review for the payment module
  and merged two small fixes.
bob: Good work. I spent most of the day chasing the flaky integration tests
  in the nightly pipeline.
carol: Did you find the cause of those failures?
bob: Mostly. The database container starts too slowly, so the first few tests time out.
alice: That explains the random red builds we saw last week.
carol: Alice, can you send the {artifact} to QA by {day}?
  -> alice | send the {artifact} to QA | {day}
alice: Yes, that should be fine once the last fix is merged.
bob: I'll update the {doc} tomorrow.
  -> bob | update the {doc} | tomorrow
carol: Thank you. The customer demo is coming up soon, and the new dashboard
  still looks unfinished.
alice: The charts are done, but the export button is missing and the colours need some polish.
bob: Design sent new mockups yesterday, and they look much cleaner than the old ones.
carol: We need to finalize the demo script by end of week.
  -> carol | finalize the demo script | end of week
alice: Agreed. The last demo ran long because nobody knew who was presenting which part.
bob: What about the performance numbers? Sales asked about them twice.
carol: Bob, could you run the load test against the staging cluster before Thursday?
  -> bob | run the load test against the staging cluster | Thursday
bob: Sure. The last run showed about two hundred requests per second on a single node.
alice: The cache change should help a lot with that number.
carol: Good. One more thing, the security review found an old library in the upload service.
alice: I will patch the upload service on Wednesday.
  -> alice | patch the upload service | Wednesday
bob: The release notes should mention it, customers always ask about security fixes.
carol: Good point. Action item: Bob to write the release notes by next week.
  -> bob | write the release notes | next week
alice: Is the team offsite still planned for next month?
carol: Yes, the venue is booked and the agenda is almost ready.
bob: Great, it has been a while since we were all in one room.
carol: Alright, that is everything on my list. Thanks everyone, see you tomorrow.
""",
    "planning2": """
alice: Thanks for joining. Today we plan the next sprint for the {feature}.
carol: The biggest item is the migration to the new billing provider.
alice: How long do you think the migration will take?
carol: About two weeks, if the test accounts arrive on time.
alice: Carol, can you ask the vendor for test accounts by {day}?
  -> carol | ask the vendor for test accounts | {day}
carol: Yes. I'll draft the migration plan next week.
  -> carol | draft the migration plan | next week
alice: Perfect. We decided to keep the old provider running until the end of the quarter.
carol: That gives us a safe fallback if something goes wrong.
alice: Great, that is all for today.
""",
    "quickfire3": """
alice: Can everyone see my screen now?
bob: Yes.
carol: Yes.
alice: Good. The release candidate is ready for review.
carol: Perfect.
bob: Did the tests pass last night?
alice: All of them.
bob: Great.
carol: Are we still on track for the launch?
alice: Sure.
bob: Okay.
carol: Then the launch date stays where it is.
bob: Fine by me.
alice: Thanks everyone, that was quick.
carol: Bye.
""",
    # bob's first words are one-word answers, before his first long turn: linking can only give
    # them to someone already known (core/short_turns.py takes a second look at the end).
    "latecomer3": """
alice: Okay everyone, let's start with the quarterly review of the payments team.
carol: Yes.
bob: No.
alice: Carol, can you send the revised budget to finance by {day}?
  -> carol | send the revised budget to finance | {day} afternoon
carol: Sure. I will send it by {day} afternoon.
bob: Thanks.
alice: Next, the vendor contract for the {feature} is up for renewal this quarter.
bob: I will own the vendor renewal and report back next week.
  -> bob | own the vendor renewal and report back | next week
carol: Great, that covers everything for today.
""",
    # bob's first word, "No.", comes in the first window, right before alice's question, and his
    # first long turn in the second: the window's diarizer has no voice of his to put it with.
    "firstword3": """
alice: Good morning. Let's go through the release checklist for the {feature} today.
carol: The test reports are ready and every blocker from last week is closed now.
alice: Good. The store listing still needs the new screenshots and the shorter description.
carol: I asked the design team for the screenshots, they promised them for tomorrow morning.
bob: No.
alice: Dana, can you send the final build notes to the support team by {day}?
  -> dana | send the final build notes to the support team | {day}
carol: Sure, I will send them this afternoon.
bob: Thanks.
alice: Then the only open question is the date of the launch announcement.
alice: The beta testers sent us their crash reports during the week.
carol: Most of them come from the old tablets, the memory limit there is very low.
alice: Then we drop support for those tablets in the next version.
bob: I will write the announcement and share a draft with the marketing team on Monday.
  -> bob | write the announcement and share a draft with the marketing team | Monday
carol: Great, that covers everything for today.
""",
    # Crosstalk, as in real meetings: "Mm-hmm." under someone's sentence, interruptions that
    # start before the other person has finished.
    "crosstalk3": """
bob: Okay, let's get started. The main thing today is the release of the {feature}
  and whether we can still ship it on {day}.
carol @0.55: Mm-hmm.
carol: I think we can, but the payment page still has two open bugs that we found yesterday.
alice <0.6: Sorry, which bugs exactly?
carol: The currency rounding one and the timeout when the card provider is slow.
bob @0.5: Right.
alice: The timeout is mine. I have a fix ready, it only needs a review before we merge it.
bob <0.5: Great, can you send it to carol today?
  -> alice | send it to carol | today
alice: Yes.
carol: I will review it this afternoon and run the whole payment test suite again tonight.
  -> carol | review it this afternoon and run the whole payment test suite again | tonight
alice @0.6: Thanks.
bob: And the rounding bug, who takes that one?
carol <0.3: I'll take it.
  -> carol | take it |
bob: Good. Then we meet again on Thursday morning and decide whether {day} still holds.
carol @0.7: Okay.
alice: Sounds good to me.
carol: Same here, see you Thursday.
""",
    "guest4": """
alice: Welcome back. Today we go through the launch checklist for the {feature}.
bob: The servers are ready and the monitoring dashboards are live.
carol: The support team has read the launch notes and the new help pages.
marco: Hello everyone, I am from the legal team, and the new privacy notice is approved.
alice: Thank you, that was the last open question on our list.
bob: Then the pricing page can go live as planned.
carol: The announcement email is written and waiting in the queue.
alice: Good, then we are done for today.
""",
    "panel7": """
alice: Good afternoon everyone, thanks for joining the quarterly planning review.
bob: Thanks Alice. I will start with the infrastructure budget for next quarter.
carol: Before that, can we confirm who is taking notes today?
lucia: I can take the notes and send them out after the meeting.
  -> lucia | take the notes and send them out after the meeting |
alice: Perfect, thank you Lucia.
bob: The infrastructure budget grows by ten percent, mostly for the new storage cluster.
paolo: Is that already approved by finance, or is it still a proposal?
bob: It is still a proposal. Finance wants the numbers by {day}.
eero: The usage reports from last month should help with the numbers.
sanna: The usage reports show that storage doubled in the last six months.
carol: That matches what support sees, customers upload much larger files now.
alice: Okay. Eero, please prepare the budget numbers with Bob.
  -> eero | prepare the budget numbers with Bob |
eero: Yes.
bob: Sure, we will meet tomorrow morning.
lucia: Next topic is hiring. We have two open positions in the platform team.
paolo: We interviewed five people last week, and two of them look very strong.
sanna: I liked the second candidate, she has a lot of experience with databases.
carol: Agreed.
alice: Then we make an offer this week. Paolo, can you talk to the recruiter?
  -> paolo | talk to the recruiter |
paolo: Of course, no problem.
lucia: The last topic is the office move in January.
eero: The new office has more meeting rooms, which we really need.
sanna: And better coffee, I hope.
bob: Ha, yes.
carol: Facilities asked for the list of desks per team by the end of the month.
alice: Lucia, could you collect that list from every team lead by {day}?
  -> lucia | collect that list from every team lead | {day}
lucia: Yes, that is easy.
alice: Great. That is everything for today, thanks everyone.
""",
    "short2": """
bob: Hi Carol, the {artifact} is ready for testing.
carol: Great. Bob, can you share the test plan by {day}?
  -> bob | share the test plan | {day}
bob: Yes, and I'll book a review meeting tomorrow.
  -> bob | book a review meeting | tomorrow
carol: Thanks, that works for me.
""",
}


def parse_script(text: str) -> tuple[Line, ...]:
    """Lines from the compact script format above."""
    turns: list[list[Any]] = []  # [speaker, text, action, translation, timing]
    for raw in text.strip().splitlines():
        stripped = raw.strip()
        if stripped.startswith("=>"):
            turns[-1][3] = stripped[2:].strip()
        elif stripped.startswith("->"):
            owner, task, due = (part.strip() for part in stripped[2:].split("|"))
            turns[-1][2] = (owner, task, due or None)
        elif raw[:1].isspace():
            turns[-1][1] += " " + stripped
        else:
            head, _, said = raw.partition(":")
            speaker, _, timing = head.partition(" ")
            if speaker not in ALL_VOICES:
                raise ValueError(f"Unknown speaker {speaker!r} in script line {raw!r}")
            turns.append([speaker, said.strip(), None, None, _timing(timing, raw)])
    return tuple(Line(*turn) for turn in turns)


def _timing(text: str, raw: str) -> tuple[str, float] | None:
    if not text:
        return None
    if text[:1] not in "<@":
        raise ValueError(f"Unknown timing {text!r} in script line {raw!r}; use <seconds or @share")
    return (text[0], float(text[1:]))


_SCRIPT_TEXT.update(MULTILINGUAL_SCRIPTS)
ALL_VOICES: dict[str, str] = {**VOICES, **GUEST_VOICES, **FOREIGN_VOICES, **PANEL_VOICES}
LANGUAGES: dict[str, str] = {**SPEAKER_LANGUAGES, **dict.fromkeys(PANEL_VOICES, "en")}

SCRIPTS: dict[str, tuple[Line, ...]] = {
    name: parse_script(text) for name, text in _SCRIPT_TEXT.items()
}


class SynthesisError(RuntimeError):
    """Festival or sox is missing or failed; the message says how to fix it."""

    def __init__(self, reason: str, command: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.command = command


@dataclass(frozen=True, slots=True)
class MeetingAudio:
    """A synthesised meeting on disk and its parsed ``reference.json``."""

    name: str
    directory: Path
    reference: dict[str, Any]

    @property
    def audio_path(self) -> Path:
        return self.directory / "audio.wav"

    @property
    def reference_path(self) -> Path:
        return self.directory / "reference.json"

    @property
    def rttm_path(self) -> Path:
        return self.directory / "reference.rttm"

    @property
    def text_path(self) -> Path:
        return self.directory / "reference.txt"

    @property
    def duration(self) -> float:
        return float(self.reference["duration"])

    @property
    def speakers(self) -> list[str]:
        return sorted({t["speaker"] for t in self.reference["turns"]})

    def turns(self) -> list[SpeakerTurn]:
        return [SpeakerTurn(t["start"], t["end"], t["speaker"]) for t in self.reference["turns"]]

    def transcript(self) -> str:
        return " ".join(t["text"] for t in self.reference["turns"])

    def translation(self) -> str:
        """The hand-written English of every turn (English turns as spoken)."""
        return " ".join(t.get("translation") or t["text"] for t in self.reference["turns"])

    @property
    def language(self) -> str:
        """The language of most of the speech (by duration)."""
        spoken: dict[str, float] = {}
        for t in self.reference["turns"]:
            key = t.get("language", "en")
            spoken[key] = spoken.get(key, 0.0) + t["end"] - t["start"]
        return max(spoken, key=lambda k: spoken[k])

    def action_items(self) -> list[ActionItem]:
        return [ActionItem(a["text"], a["owner"], a["due"]) for a in self.reference["action_items"]]

    def load_audio(self) -> np.ndarray:
        """Float32 mono samples at 16 kHz."""
        return read_wav(self.audio_path)


def script_lines(name: str, round_index: int = 0) -> list[Line]:
    """The script's lines with slots filled for one round of a (possibly repeated) meeting."""
    if name not in SCRIPTS:
        raise KeyError(f"Unknown meeting script {name!r}; choose one of {', '.join(SCRIPTS)}.")
    values = {slot: options[round_index % len(options)] for slot, options in SLOTS.items()}
    lines = []
    for line in SCRIPTS[name]:
        action = None
        if line.action is not None:
            owner, task, due = line.action
            action = (owner, task.format(**values), due and due.format(**values))
        text = line.text.format(**values)
        lines.append(Line(line.speaker, text, action, line.translation, line.timing))
    return lines


def ensure_festival() -> None:
    """Install Festival voices and sox if missing (idempotent; needs root or sudo)."""
    _run(["bash", str(ENSURE_SCRIPT)])


def ensure_meeting(
    name: str = "standup3",
    minutes: float | None = None,
    cache_dir: Path | str | None = None,
    install: bool = False,
    force: bool = False,
) -> MeetingAudio:
    """Synthesise the meeting unless an identical one is cached; ``minutes`` repeats the
    script with varied slots until the audio is at least that long."""
    script_lines(name)  # validates the name before any work
    root = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    directory = root / (name if minutes is None else f"{name}-{minutes:g}min")
    digest = _script_hash(name, minutes)
    cached = _load_cached(name, directory, digest)
    if cached is not None and not force:
        return cached
    if install:
        ensure_festival()
    _check_tools()
    _build(name, minutes, digest, directory)
    meeting = _load_cached(name, directory, digest)
    assert meeting is not None
    return meeting


def _build(name: str, minutes: float | None, digest: str, directory: Path) -> None:
    """Synthesise into a sibling directory and rename it into place, so an interrupted run
    never leaves a half-written meeting that looks cached."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
    try:
        _synthesise(name, minutes, digest, work)
        if directory.exists():
            shutil.rmtree(directory)
        work.chmod(0o755)  # mkdtemp makes it private
        work.rename(directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    logger.info("Synthesised meeting %s into %s", name, directory)


def _script_hash(name: str, minutes: float | None) -> str:
    spec = [SYNTH_VERSION, name, minutes, _SCRIPT_TEXT[name], SLOTS, VOICES, PAUSE_RANGE_S,
            LEAD_IN_S, TAIL_S, NOISE_FLOOR, TARGET_RMS, SAMPLE_RATE]  # fmt: skip
    if name in MULTILINGUAL_SCRIPTS:  # English meetings keep their cached audio
        spec.append(FOREIGN_VOICES)
    elif any(f"\n{guest}:" in _SCRIPT_TEXT[name] for guest in GUEST_VOICES):
        spec.append(GUEST_VOICES)
    if any(f"\n{person}:" in _SCRIPT_TEXT[name] for person in PANEL_VOICES):
        spec.append(PANEL_VOICES)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _load_cached(name: str, directory: Path, digest: str) -> MeetingAudio | None:
    try:
        reference = json.loads((directory / "reference.json").read_text())
    except (OSError, ValueError):
        return None
    meeting = MeetingAudio(name, directory, reference)
    files = (meeting.audio_path, meeting.rttm_path, meeting.text_path)
    if reference.get("script_hash") != digest or not all(p.is_file() for p in files):
        return None
    return meeting


def _check_tools() -> None:
    for tool in ("text2wave", "sox"):
        if shutil.which(tool) is None:
            raise SynthesisError(
                f"{tool} not found. Run `bash scripts/ensure_festival.sh` (Debian/Ubuntu, root "
                "or sudo) or pass install=True.",
                tool,
            )


class _Timeline:
    """Utterances in script order with random pauses (or crosstalk, ``Line.timing``), and the
    reference they produce. Positions are whole samples, as the pauses are."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.placed: list[tuple[int, np.ndarray]] = []
        self.cursor = LEAD_IN_S  # seconds: where the next line starts, before its pause
        self.at = round(LEAD_IN_S * SAMPLE_RATE)  # the same, in samples
        self.last: tuple[int, int] = (self.at, self.at)  # the last turn not said under another
        self.turns: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []

    def add(self, line: Line, speech: np.ndarray) -> None:
        start_at, start = self._start(line)
        end_at = start_at + speech.size
        end = start + speech.size / SAMPLE_RATE
        turn = {"speaker": line.speaker, "start": round(start, 3), "end": round(end, 3)}
        self.turns.append({**turn, "text": line.text, **_language_fields(line)})
        if line.action is not None:
            owner, task, due = line.action
            self.actions.append(
                {"text": task, "owner": owner, "due": due, "speaker": line.speaker,
                 "turn": len(self.turns) - 1}
            )  # fmt: skip
        self.placed.append((start_at, speech))
        if line.timing is None or line.timing[0] != "@":
            self.last = (start_at, end_at)
        if end_at > self.at:
            self.at, self.cursor = end_at, end

    def _start(self, line: Line) -> tuple[int, float]:
        """Where the line starts, in samples and seconds."""
        if line.timing is not None and self.turns:
            kind, value = line.timing
            first, last = self.last
            at = (
                last - round(value * SAMPLE_RATE)
                if kind == "<"
                else first + round(value * (last - first))
            )
            at = max(at, first)
            return at, at / SAMPLE_RATE
        if self.turns:
            pause = round(float(self.rng.uniform(*PAUSE_RANGE_S)), 2)
            self.at += round(pause * SAMPLE_RATE)
            self.cursor += pause
        return self.at, self.cursor

    def render(self) -> np.ndarray:
        audio = np.zeros(self.at + round(TAIL_S * SAMPLE_RATE), dtype=np.float32)
        for at, speech in self.placed:
            audio[at : at + speech.size] += speech
        audio = np.clip(audio, -1.0, 1.0)  # crosstalk adds two voices
        return audio + self.rng.normal(0.0, NOISE_FLOOR, audio.size).astype(np.float32)


def _language_fields(line: Line) -> dict[str, str]:
    language = LANGUAGES[line.speaker]
    if language == "en" and line.translation is None:
        return {"language": language}
    return {"language": language, "translation": line.translation or line.text}


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def _synthesise(name: str, minutes: float | None, digest: str, out: Path) -> None:
    timeline = _Timeline(np.random.default_rng(int(digest, 16) % 2**32))
    for round_index in itertools.count():
        lines = script_lines(name, round_index)
        for line, speech in zip(lines, _speak_all(lines, out), strict=True):
            timeline.add(line, speech)
        if minutes is None or timeline.cursor >= minutes * 60:
            break
    _write_outputs(out, timeline, {"name": name, "minutes": minutes, "script_hash": digest})


def _speak_all(lines: list[Line], work: Path) -> list[np.ndarray]:
    # Two workers: text2wave is single-threaded and the machines here are small.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_speak, range(len(lines)), lines, itertools.repeat(work)))


def _speak(index: int, line: Line, work: Path) -> np.ndarray:
    """One utterance: synthesise, resample to 16 kHz mono, trim silence, level to TARGET_RMS."""
    text_file, raw, resampled = (work / f"_{index}.{ext}" for ext in ("txt", "raw.wav", "wav"))
    # Festival reads bytes as ISO-8859-1: accented Italian and Finnish letters need it.
    encoding = "utf-8" if LANGUAGES[line.speaker] == "en" else "iso-8859-1"
    text_file.write_text(line.text + "\n", encoding=encoding)
    voice = f"({ALL_VOICES[line.speaker]})"
    _run(["text2wave", "-eval", voice, "-o", str(raw), str(text_file)])
    _run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(resampled)])
    samples = _trim(read_wav(resampled))
    for path in (text_file, raw, resampled):
        path.unlink()
    rms = float(np.sqrt(np.mean(samples**2))) or 1.0
    gain = min(TARGET_RMS / rms, 0.95 / float(np.abs(samples).max() or 1.0))
    return (samples * gain).astype(np.float32)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SynthesisError(f"{command[0]} failed: {result.stderr.strip()}", " ".join(command))


def _trim(samples: np.ndarray, frame: int = 160) -> np.ndarray:
    """Drop leading/trailing frames quieter than 5 % of the loudest frame (10 ms frames)."""
    usable = samples[: samples.size - samples.size % frame].reshape(-1, frame)
    energy = np.sqrt(np.mean(usable**2, axis=1))
    loud = np.flatnonzero(energy > 0.05 * energy.max())
    if loud.size == 0:
        raise SynthesisError("Festival produced silence; check the voice packages.")
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise SynthesisError(f"{path} is not 16-bit mono PCM.")
        data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path: Path, samples: np.ndarray) -> int:
    """Write float samples as 16-bit mono PCM at 16 kHz; returns the sample count."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setparams((1, 2, SAMPLE_RATE, pcm.size, "NONE", "not compressed"))
        wav.writeframes(pcm.tobytes())
    return int(pcm.size)


def _write_outputs(out: Path, timeline: _Timeline, meta: dict[str, Any]) -> None:
    size = write_wav(out / "audio.wav", timeline.render())
    turns = timeline.turns
    segments = [
        Segment(f"t{i}", t["speaker"], t["text"], t["start"], t["end"], 0)
        for i, t in enumerate(turns)
    ]
    (out / "reference.rttm").write_text(render_transcript(segments, "rttm", meta["name"])[0])
    (out / "reference.txt").write_text("".join(t["text"] + "\n" for t in turns))
    reference = {
        **meta, "sample_rate": SAMPLE_RATE, "duration": round(size / SAMPLE_RATE, 3),
        "voices": {t["speaker"]: ALL_VOICES[t["speaker"]] for t in turns},
        "turns": turns, "action_items": timeline.actions,
    }  # fmt: skip
    (out / "reference.json").write_text(json.dumps(reference, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesise a test meeting with Festival.")
    parser.add_argument("name", nargs="?", default="standup3", choices=sorted(SCRIPTS))
    parser.add_argument("--minutes", type=float, default=None, help="repeat to this length")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--install", action="store_true", help="run ensure_festival.sh first")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args(argv)
    meeting = ensure_meeting(args.name, args.minutes, args.cache_dir, args.install, args.force)
    print(f"{meeting.audio_path}  {meeting.duration:.1f} s, {len(meeting.reference['turns'])} "
          f"turns, {len(meeting.reference['action_items'])} action items")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
