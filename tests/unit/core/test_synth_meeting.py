"""The synthetic meeting corpus: script consistency (fast) and real Festival synthesis (slow)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from core.action_items import find_action_items
from core.types import Segment
from scripts.synth_meeting import (
    ALL_VOICES,
    GUEST_VOICES,
    LANGUAGES,
    PANEL_VOICES,
    PAUSE_RANGE_S,
    SAMPLE_RATE,
    SCRIPTS,
    VOICES,
    Line,
    MeetingAudio,
    _script_hash,
    _Timeline,
    ensure_meeting,
    parse_script,
    script_lines,
)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
@pytest.mark.parametrize("round_index", [0, 1, 2])
def test_scripted_action_items_are_what_the_finder_reads(name: str, round_index: int) -> None:
    lines = script_lines(name, round_index)
    segments = [Segment(f"t{i}", ln.speaker, ln.text, 0.0, 0.0, 0) for i, ln in enumerate(lines)]
    found = [
        (item.owner.lower() if item.owner else None, item.text, item.due)
        for item in find_action_items(segments)
    ]
    assert found == [line.action for line in lines if line.action is not None]


def test_rounds_vary_slots() -> None:
    first, second = script_lines("standup3", 0), script_lines("standup3", 1)
    assert first[0].text.endswith("customer portal.")
    assert second[0].text.endswith("search service.")
    assert len(first) == len(second)


def test_default_script_uses_the_three_main_voices_and_guest4_all_four() -> None:
    assert {line.speaker for line in SCRIPTS["standup3"]} == {"alice", "bob", "carol"}
    assert {line.speaker for line in SCRIPTS["guest4"]} == set(VOICES) | set(GUEST_VOICES)
    # The guest speaks exactly once.
    assert [line.speaker for line in SCRIPTS["guest4"]].count("marco") == 1


def test_panel7_is_seven_voices_all_speaking_english() -> None:
    people = {line.speaker for line in SCRIPTS["panel7"]}
    assert len(people) == 7
    assert len({ALL_VOICES[person] for person in people}) == 7
    assert {LANGUAGES[person] for person in people} == {"en"}


def test_panel_voices_leave_the_other_meetings_cached_audio_alone() -> None:
    """A voice in another meeting's cache key re-renders it with new pauses (and moves every
    committed figure): only scripts that use a panel voice carry them."""
    for name in SCRIPTS:
        uses_panel = any(line.speaker in PANEL_VOICES for line in SCRIPTS[name])
        assert uses_panel == (name == "panel7")
    # The keys the committed results were rendered with (English, guest and Italian meetings).
    assert _script_hash("standup3", None) == "e8f9cb306f3fb738"
    assert _script_hash("guest4", None) == "85b5c52acbb21c6b"
    assert _script_hash("italian2", None) == "fdd11bef4e59a3c7"


def test_script_format_errors() -> None:
    with pytest.raises(ValueError, match="Unknown speaker 'dave'"):
        parse_script("dave: hello")
    with pytest.raises(ValueError, match="Unknown timing '~1'"):
        parse_script("alice: Hi.\nbob ~1: Hello.")
    with pytest.raises(KeyError, match="standup3"):
        script_lines("nope")


def test_crosstalk_lines_start_inside_the_turn_before() -> None:
    lines = parse_script("alice: One two three.\nbob @0.5: Mm-hmm.\ncarol <0.25: Sorry?")
    assert [line.timing for line in lines] == [None, ("@", 0.5), ("<", 0.25)]
    timeline = _Timeline(np.random.default_rng(0))
    tone = np.full(SAMPLE_RATE, 0.1, dtype=np.float32)  # one second each
    for line in lines:
        timeline.add(line, tone)
    # bob halfway into alice's second; carol 0.25 s before alice's end, not before bob's.
    assert [(t["start"], t["end"]) for t in timeline.turns] == [
        (0.5, 1.5),
        (1.0, 2.0),
        (1.25, 2.25),
    ]
    audio = timeline.render()
    at = round(1.3 * SAMPLE_RATE)
    assert audio[at] == pytest.approx(0.3, abs=1e-3)  # three voices at once, mixed
    assert audio.size == round((2.25 + 0.8) * SAMPLE_RATE)


def test_crosstalk3_has_backchannels_and_interruptions() -> None:
    timings = [line.timing[0] for line in SCRIPTS["crosstalk3"] if line.timing is not None]
    assert timings.count("@") >= 3 and timings.count("<") >= 3
    assert SCRIPTS["crosstalk3"][1] == Line("carol", "Mm-hmm.", timing=("@", 0.55))


def _check_meeting_audio(meeting: MeetingAudio) -> None:
    """Speech inside every reference turn, near-silence between turns, scripted pauses."""
    audio = meeting.load_audio()
    sr = json.loads(meeting.reference_path.read_text())["sample_rate"]
    assert sr == 16_000
    assert audio.size / sr == pytest.approx(meeting.duration, abs=1e-3)
    turns = meeting.turns()
    mask = np.zeros(audio.size, dtype=bool)
    for turn in turns:
        speech = audio[round(turn.start * sr) : round(turn.end * sr)]
        assert float(np.sqrt(np.mean(speech**2))) > 0.05, turn
        mask[round(turn.start * sr) : round(turn.end * sr)] = True
    assert float(np.sqrt(np.mean(audio[~mask] ** 2))) < 1e-3  # pauses are silent
    for prev, nxt in itertools.pairwise(turns):
        assert PAUSE_RANGE_S[0] - 1e-6 <= nxt.start - prev.end <= PAUSE_RANGE_S[1] + 1e-6


@pytest.mark.slow
def test_festival_synthesis_of_short_meeting(tmp_path: Path) -> None:
    meeting = ensure_meeting("short2", cache_dir=tmp_path, install=True)
    assert meeting.directory == tmp_path / "short2"
    assert 8.0 < meeting.duration < 30.0
    assert meeting.speakers == ["bob", "carol"]
    lines = script_lines("short2")
    assert [t["text"] for t in meeting.reference["turns"]] == [line.text for line in lines]
    assert meeting.text_path.read_text().splitlines() == [line.text for line in lines]
    rttm = meeting.rttm_path.read_text().splitlines()
    assert len(rttm) == len(lines)
    first = meeting.turns()[0]
    assert rttm[0] == (
        f"SPEAKER short2 1 {first.start:.3f} {first.end - first.start:.3f} <NA> <NA> bob <NA> <NA>"
    )
    assert [(a.owner, a.text, a.due) for a in meeting.action_items()] == [
        line.action for line in lines if line.action
    ]
    _check_meeting_audio(meeting)

    # Cached: a second call rebuilds nothing.
    mtime = meeting.audio_path.stat().st_mtime_ns
    assert ensure_meeting("short2", cache_dir=tmp_path).audio_path.stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_longer_meeting_repeats_script_with_variation(tmp_path: Path) -> None:
    meeting = ensure_meeting("short2", minutes=0.5, cache_dir=tmp_path, install=True)
    assert meeting.directory == tmp_path / "short2-0.5min"
    assert meeting.duration >= 30.0
    texts = [t["text"] for t in meeting.reference["turns"]]
    assert len(texts) > len(SCRIPTS["short2"])
    assert texts[0] == "Hi Carol, the build is ready for testing."
    assert texts[4] == "Hi Carol, the release candidate is ready for testing."
    script = SCRIPTS["short2"]
    expected = [i for i in range(len(texts)) if script[i % len(script)].action is not None]
    assert [a["turn"] for a in meeting.reference["action_items"]] == expected
    _check_meeting_audio(meeting)


def test_multilingual_scripts_carry_hand_written_translations() -> None:
    from scripts.multilingual_scripts import SPEAKER_LANGUAGES

    for name in ("italian2", "finnish2", "bilingual2"):
        for line in SCRIPTS[name]:
            english = SPEAKER_LANGUAGES[line.speaker] == "en"
            assert (line.translation is None) == english, (name, line)
    assert SCRIPTS["italian2"][3].text == "Penso venerdì, dopo i test finali."
    assert SCRIPTS["italian2"][3].translation == "I think on Friday, after the final tests."
    assert {SPEAKER_LANGUAGES[line.speaker] for line in SCRIPTS["bilingual2"]} == {"en", "it"}


@pytest.mark.slow
def test_italian_meeting_synthesis_keeps_language_and_translation(tmp_path: Path) -> None:
    meeting = ensure_meeting("italian2", cache_dir=tmp_path)
    assert meeting.language == "it"
    assert meeting.speakers == ["giulia", "marco"]
    assert meeting.translation().startswith("Good morning Marco.")
    assert "venerdì" in meeting.transcript()
    assert 15 < meeting.duration < 40
