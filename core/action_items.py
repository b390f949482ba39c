"""Find action items in a speaker-attributed transcript with commitment patterns.

A rule-based finder so the CPU profile and the extractive summary have action items without
a language model. It looks for commitments ("I'll ...", "we need to ..."), requests
("Bob, can you ...", "please ...") and explicit "action item" markers, and pulls out the owner
and a due phrase ("by Friday", "tomorrow", "end of week", "March 3rd").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from core.types import ActionItem, Segment

Kind = Literal["self", "team", "request", "marker"]


def _split(words: str) -> list[str]:
    return words.split()


_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
)
_DAY_OF_MONTH = r"\d{1,2}(?:st|nd|rd|th)?"
_PREP = r"(?:\b(?:by|before|until|on|at|for)\s+)?(?:the\s+)?"
_DUE = re.compile(
    _PREP + r"\b("
    r"end of (?:the )?(?:day|week|month|sprint|quarter)"
    r"|(?:next|this) (?:week|month|sprint|quarter)"
    r"|(?:tomorrow|today|tonight)(?: morning| afternoon| evening| night)?"
    rf"|(?:(?:next|this) )?{_WEEKDAY}(?: morning| afternoon| evening| night)?"
    rf"|{_MONTH} {_DAY_OF_MONTH}\b"
    rf"|{_DAY_OF_MONTH} (?:of )?{_MONTH}"
    r"|eod|eow"
    r")\b",
    re.IGNORECASE,
)
_CAPITALISE = re.compile(rf"\b(?:{_WEEKDAY}|{_MONTH})\b", re.IGNORECASE)

_COMMITMENTS: tuple[tuple[re.Pattern[str], Kind], ...] = (
    (re.compile(r"\baction items?\b\s*(?:[:\-]|is\b)?\s*", re.I), "marker"),
    (re.compile(r"\b(?:can|could|would|will) you\s+", re.I), "request"),
    (re.compile(r"\bplease\s+", re.I), "request"),
    (
        re.compile(
            r"\b(?:I will|I'll|I'm going to|I am going to|I need to|I have to|I can)\s+", re.I
        ),
        "self",
    ),
    (re.compile(r"\b(?:we need to|we should|we must|we will|we'll|let's|let us)\s+", re.I), "team"),
)
# Words that can open a task but add nothing ("could you *please* just send ...").
_FILLER = re.compile(
    r"^(?:please|also|just|then|definitely|quickly|go ahead and|make sure to|try to"
    r"|can you|could you)\s+",
    re.IGNORECASE,
)
# "Can you hear me?", "I'll be honest", "let's start with updates": commitment phrasing
# without a task (meeting flow, not work to do).
_NON_TASK_VERBS = frozenset(
    _split(
        """be say think guess hear see mean admit agree remember imagine know believe repeat
    start begin move wrap continue recap go"""
    )
)
# Meeting flow that opens with a task verb: "let's get started with the review".
_NON_TASK_OPENING = re.compile(
    r"^(?:get (?:started|going)|kick (?:things|it) off|dive in|jump in|call it a day"
    r"|take a (?:quick |short )?break)\b",
    re.IGNORECASE,
)
# "I'll send it", "I can do that": a task that only points back at something said before.
_POINTS_BACK = re.compile(
    r"^(?:\w+ (?:it|that|this|them|those)|take care of (?:it|that|this|them))\b",
    re.IGNORECASE,
)
# Capitalised words that open a sentence with a comma but are not names.
_NOT_NAMES = frozenset(
    _split(
        """okay ok so well yes yeah no also then now alright right great thanks thank sure hi hello
    hey everyone guys team folks actually sorry anyway first second finally otherwise meanwhile
    basically honestly good perfect cool fine look listen and but because"""
    )
)
_LEADING_NAME = re.compile(r"^(?i:(?:ok(?:ay)?|so|and|hey)\s*,?\s+)?([A-Z][a-z]+),\s")
_TRAILING_NAME = re.compile(r",\s*([A-Z][a-z]+)\s*[?.!]*$")
_MARKER_OWNER = re.compile(r"^(?:for\s+)?([A-Z][a-z]+)(?:\s+(?:to|will|should|needs to)|:|,)\s+")
# After . ! ? and a space; after a CJK full stop, question or exclamation mark with or without.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])\s*")


@dataclass(frozen=True, slots=True)
class _Commitment:
    kind: Kind
    task: str  # the sentence after the commitment phrase


def split_sentences(text: str) -> list[str]:
    """Sentences split after ``.``, ``!`` or ``?`` (and their CJK forms); whitespace
    normalised."""
    return [s for s in (" ".join(p.split()) for p in _SENTENCE_END.split(text)) if s]


def find_action_items(
    segments: Sequence[Segment], known_names: Iterable[str] | None = None
) -> list[ActionItem]:
    """Action items in transcript order, without duplicates.

    ``known_names`` (participant names), when given, limits addressed-person detection to
    them; otherwise any capitalised word before a leading comma counts ("Bob, can you ...").
    A request to nobody by name goes to the next different speaker, who is the one answering.
    An answer that only points back at the request ("Sure, I'll send it by Friday") is the
    same item, not a second, vaguer one: the due date it agrees to replaces the asked one.
    """
    names = {n.lower() for n in known_names} if known_names is not None else None
    items: list[ActionItem] = []
    seen: set[tuple[str, str | None]] = set()
    open_request: tuple[int, int] | None = None  # (item index, index of the answering segment)
    for index, segment in enumerate(segments):
        answer = _responder_index(segments, index)
        responder = segments[answer].speaker if answer is not None else None
        for sentence in split_sentences(segment.text):
            found = _extract(sentence, segment.speaker, responder, names)
            if found is None:
                continue
            item, kind = found
            if open_request is not None and _answers(item, kind, open_request[1] == index):
                request = items[open_request[0]]
                items[open_request[0]] = ActionItem(
                    request.text, request.owner, item.due or request.due
                )
                continue
            if (item.text.lower(), item.owner) in seen:
                continue
            seen.add((item.text.lower(), item.owner))
            items.append(item)
            if kind == "request" and answer is not None:
                open_request = (len(items) - 1, answer)
    return items


def extract_action_item(
    sentence: str,
    speaker: str | None,
    responder: str | None = None,
    known_names: set[str] | None = None,
) -> ActionItem | None:
    """The action item one sentence states, or None."""
    found = _extract(sentence, speaker, responder, known_names)
    return found[0] if found is not None else None


def _extract(
    sentence: str,
    speaker: str | None,
    responder: str | None,
    known_names: set[str] | None,
) -> tuple[ActionItem, Kind] | None:
    commitment = _find_commitment(sentence)
    if commitment is None:
        return None
    addressed = addressed_name(sentence, known_names)
    task, owner = commitment.task, None
    if commitment.kind == "marker":
        task, owner = _marker_owner(task)
    due_match = _DUE.search(task)
    due = _normalise_due(due_match.group(1)) if due_match else None
    if due_match:
        task = task[: due_match.start()] + " " + task[due_match.end() :]
    text = _clean_task(task, addressed)
    if not _is_task(text):
        return None
    owner = owner or _owner(commitment.kind, speaker, addressed, responder)
    return ActionItem(text=text, owner=owner, due=due), commitment.kind


def addressed_name(sentence: str, known_names: set[str] | None = None) -> str | None:
    """The person a sentence addresses by name: "Bob, can you ..." or "... the notes, Bob?"."""
    for pattern in (_LEADING_NAME, _TRAILING_NAME):
        match = pattern.search(sentence)
        if match and _is_name(match.group(1), known_names):
            return match.group(1)
    return None


def _find_commitment(sentence: str) -> _Commitment | None:
    """The earliest commitment phrase in the sentence and the words after it."""
    found = [(m.start(), m.end(), kind) for p, kind in _COMMITMENTS if (m := p.search(sentence))]
    if not found:
        return None
    _, end, kind = min(found)
    return _Commitment(kind=kind, task=sentence[end:])


def _marker_owner(task: str) -> tuple[str, str | None]:
    match = _MARKER_OWNER.match(task)
    if match and match.group(1).lower() not in _NOT_NAMES:
        return task[match.end() :], match.group(1)
    return task, None


def _owner(
    kind: Kind, speaker: str | None, addressed: str | None, responder: str | None
) -> str | None:
    if kind == "self":
        return speaker
    if kind == "request":
        return addressed or responder
    return addressed or speaker


def _clean_task(task: str, addressed: str | None) -> str:
    text = " ".join(task.split())
    if addressed:
        text = re.sub(rf",\s*{re.escape(addressed)}\s*([?.!]*)$", r"\1", text)
    while (match := _FILLER.match(text)) is not None:
        text = text[match.end() :]
    return text.strip(" ,;:.!?-")


def _is_task(text: str) -> bool:
    words = text.split()
    return (
        len(words) >= 2
        and words[0].lower() not in _NON_TASK_VERBS
        and _NON_TASK_OPENING.match(text) is None
    )


def _is_name(word: str, known_names: set[str] | None) -> bool:
    if known_names is not None:
        return word.lower() in known_names
    return word.lower() not in _NOT_NAMES


def _normalise_due(phrase: str) -> str:
    phrase = " ".join(phrase.split())
    if phrase.lower() in ("eod", "eow"):
        return phrase.upper()
    return _CAPITALISE.sub(lambda m: m.group(0).capitalize(), phrase)


def _answers(item: ActionItem, kind: Kind, in_answering_segment: bool) -> bool:
    """An "I'll do it" in the segment that answers an open request: that request, agreed."""
    return in_answering_segment and kind == "self" and _POINTS_BACK.match(item.text) is not None


def _responder_index(segments: Sequence[Segment], index: int) -> int | None:
    """The segment that answers segment ``index``: the next one by another speaker, unless
    the same speaker goes on talking first."""
    speaker = segments[index].speaker
    for later in range(index + 1, len(segments)):
        if segments[later].speaker != speaker:
            return later
        if segments[later].text.strip():
            return None  # the same speaker went on talking: nobody answered the request
    return None
