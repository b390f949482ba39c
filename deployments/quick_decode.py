"""Quick hypotheses of a short open utterance (live partials): Whisper's encoder run on the
audio's own length instead of a 30 s window.

faster-whisper pads every input to Whisper's 30 s window, so the encoder costs as much for a
2 s partial as for a full window: on 2 CPU cores about 0.3 s of the 0.4 s a tiny.en decode
takes. CTranslate2's encoder accepts shorter inputs (8 s: about a tenth of the cost). A model
trained on padded windows then sometimes stops early or repeats itself, so this path is for
partials and for live finals of short utterances, guarded: greedy, bounded in length, n-gram
repeats blocked, and local agreement (``core/agreement.py``) shows only words two hypotheses
agree on. A live final (``Transcriber.transcribe_short``) takes the quick words only when
they do not loop back on themselves (``repeats_itself``, ``too_many_words``) and are not
unsure on average (``mean_probability``: noise heard as "you"); otherwise, and for uploads,
the whole window is decoded the usual way. Measured on the 5-minute standup3's 78 turns
decoded one by one (2 cores, tiny.en, a direct call, not the Serve path): 0.12 s vs 0.38 s
median per turn, WER 9.1 % vs 9.3 %.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from core.agreement import normalize
from core.types import SAMPLE_RATE, Word
from core.word_pieces import whole_words

PAD_S = 1.0  # silence after the audio: the model expects speech to end before its input does
# A live final's input is padded with silence to this length: Whisper was trained on 30 s
# windows, and a sentence encoded on its own length is misheard more often. Offline (standup3's
# 30 minutes cut at 0.3 s pauses, 477 finals decoded after the text before them; the
# Transcriber called directly, not the Serve path): own length + 1 s 7.45 % WER with 149
# fallbacks to the batched decode, 10 s 7.04 % / 41, 15 s 6.68 % / 16 (the upload path:
# 6.7 %), and the whole run 118 s -> 63 s, as fallbacks cost a full window each.
FINAL_INPUT_S = 15.0
MAX_FRAMES = 3000  # Whisper's 30 s window, in 10 ms mel frames
HOP_SAMPLES = 160  # one mel frame
TOKENS_PER_S = 6.0  # generous for speech (about 3 words per second), tight for a loop
EXTRA_TOKENS = 8
CONTEXT_TOKENS = 64  # of the previous text; Whisper's own limit is 223
MAX_WORDS_PER_SPEECH_S = 5.0  # fast speech is about 4 words a second
MIN_SPEECH_S = 0.6  # a one-word turn's VAD region can be shorter than the word sounds
NO_REPEAT_NGRAM = 4  # "a b c d a b c d": the short-context loop; legitimate 4-gram repeats are rare
PREPENDED = "\"'\u201c\u00bf([{-"  # faster-whisper's defaults: punctuation joins its word
APPENDED = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001"


def quick_words(
    model: Any,
    audio: np.ndarray,
    language: str | None,
    context: str = "",
    min_input_s: float = 0.0,
) -> list[Word]:
    """Words of ``audio`` (16 kHz mono, under 30 s) with times from its start.

    ``model`` is a loaded ``faster_whisper.WhisperModel``; ``language`` None lets a
    multilingual model pick the language from this audio, as its whole-window decode would.
    ``context``, the text said just before, is Whisper's previous-text prompt: a sentence
    decoded on its own loses what a long window knows ("Morning." heard as "More than").
    ``min_input_s``: silence pads the input to at least this long (``FINAL_INPUT_S``).
    """
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import merge_punctuations

    pad_s = max(PAD_S, min_input_s - len(audio) / SAMPLE_RATE)
    padded = np.concatenate([audio, np.zeros(round(pad_s * SAMPLE_RATE), dtype=np.float32)])
    features = model.feature_extractor(padded)
    frames = min(features.shape[-1] - features.shape[-1] % 2, MAX_FRAMES)
    encoded = model.model.encode(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None, :, :frames])),
        to_cpu=False,
    )
    multilingual = model.model.is_multilingual
    if language is None and multilingual:
        best_token, _probability = model.model.detect_language(encoded)[0][0]
        language = best_token[2:-2]  # "<|it|>"
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, "transcribe", language or "en")
    previous = tokenizer.encode(" " + context.strip())[-CONTEXT_TOKENS:] if context else []
    prompt = [
        *([tokenizer.sot_prev, *previous] if previous else []),
        *tokenizer.sot_sequence,
        tokenizer.no_timestamps,
    ]
    budget = int(len(audio) / SAMPLE_RATE * TOKENS_PER_S) + EXTRA_TOKENS
    result = model.model.generate(
        encoded,
        [prompt],
        beam_size=1,
        max_length=len(prompt) + budget,
        suppress_blank=True,
        suppress_tokens=[-1],
        no_repeat_ngram_size=NO_REPEAT_NGRAM,
    )
    tokens = [t for t in result[0].sequences_ids[0] if t < tokenizer.eot]
    if not tokens:
        return []
    content_frames = min(len(audio) // HOP_SAMPLES, frames)
    aligned = model.find_alignment(tokenizer, [tokens], encoded, content_frames)[0]
    merge_punctuations(aligned, PREPENDED, APPENDED)
    return whole_words(
        [
            Word(
                str(w["word"]),
                round(float(w["start"]), 3),
                round(float(w["end"]), 3),
                round(float(w["probability"]), 3),
            )
            for w in aligned
        ]
    )


def repeats_itself(words: list[Word]) -> bool:
    """True when a word pair comes back ("Alice, can you ... Monday? Alice, can") or a word
    follows itself ("Agreed. Agreed."): the loops a short encoder context falls into at the
    end of its input, rare in a few seconds of speech."""
    seen: set[tuple[str, str]] = set()
    texts = [normalize(w.word) for w in words]
    for pair in itertools.pairwise(texts):
        if pair in seen or pair[0] == pair[1]:
            return True
        seen.add(pair)
    return False


def too_many_words(words: list[Word], speech_s: float) -> bool:
    """More words than anyone says in ``speech_s`` seconds of speech: a loop of near-repeats
    the other guards miss ("Agreed Agrade Agreed Agride" for one spoken "Agreed.")."""
    return len(words) > MAX_WORDS_PER_SPEECH_S * max(speech_s, MIN_SPEECH_S)


def mean_probability(words: list[Word]) -> float:
    return sum(w.probability for w in words) / len(words) if words else 0.0
