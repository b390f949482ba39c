"""Languages: what Whisper models can write, and which model serves a meeting's language.

Model-free: the router works on ``ModelRoute`` descriptions that the builder derives from the
profile, so the web layer can validate a request and the Processor can pick a deployment with
the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"
ENGLISH = "en"

# Whisper's language codes and names (the order and set of faster_whisper.tokenizer's list).
WHISPER_LANGUAGES: dict[str, str] = {
    "af": "Afrikaans", "am": "Amharic", "ar": "Arabic", "as": "Assamese", "az": "Azerbaijani",
    "ba": "Bashkir", "be": "Belarusian", "bg": "Bulgarian", "bn": "Bengali", "bo": "Tibetan",
    "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech", "cy": "Welsh",
    "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fo": "Faroese",
    "fr": "French", "gl": "Galician", "gu": "Gujarati", "ha": "Hausa", "haw": "Hawaiian",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "ht": "Haitian Creole", "hu": "Hungarian",
    "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian", "ja": "Japanese",
    "jw": "Javanese", "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada",
    "ko": "Korean", "la": "Latin", "lb": "Luxembourgish", "ln": "Lingala", "lo": "Lao",
    "lt": "Lithuanian", "lv": "Latvian", "mg": "Malagasy", "mi": "Maori", "mk": "Macedonian",
    "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "mt": "Maltese",
    "my": "Myanmar", "ne": "Nepali", "nl": "Dutch", "nn": "Nynorsk", "no": "Norwegian",
    "oc": "Occitan", "pa": "Punjabi", "pl": "Polish", "ps": "Pashto", "pt": "Portuguese",
    "ro": "Romanian", "ru": "Russian", "sa": "Sanskrit", "sd": "Sindhi", "si": "Sinhala",
    "sk": "Slovak", "sl": "Slovenian", "sn": "Shona", "so": "Somali", "sq": "Albanian",
    "sr": "Serbian", "su": "Sundanese", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil",
    "te": "Telugu", "tg": "Tajik", "th": "Thai", "tk": "Turkmen", "tl": "Tagalog",
    "tr": "Turkish", "tt": "Tatar", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek",
    "vi": "Vietnamese", "yi": "Yiddish", "yo": "Yoruba", "zh": "Chinese", "yue": "Cantonese",
}  # fmt: skip

# Whisper checkpoints trained on English only: they can neither detect nor translate.
ENGLISH_ONLY_SUFFIXES = (".en",)
ENGLISH_ONLY_PREFIXES = ("distil-",)


def language_name(code: str) -> str:
    return WHISPER_LANGUAGES.get(code, code)


def model_languages(model: str) -> frozenset[str]:
    """The languages a faster-whisper model spec can transcribe, judged from its name."""
    name = model.rstrip("/").rsplit("/", 1)[-1].removeprefix("packaged:")
    if name.endswith(ENGLISH_ONLY_SUFFIXES) or name.startswith(ENGLISH_ONLY_PREFIXES):
        return frozenset({ENGLISH})
    return frozenset(WHISPER_LANGUAGES)


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """One Transcriber deployment and the languages its model writes."""

    deployment: str
    languages: frozenset[str]

    @property
    def multilingual(self) -> bool:
        """Multilingual checkpoints detect the language and translate into English."""
        return self.languages != frozenset({ENGLISH})


class UnsupportedLanguageError(ValueError):
    """No loaded model writes ``language``; ``code`` goes to the client as is."""

    code = "unsupported_language"

    def __init__(self, language: str, reason: str) -> None:
        super().__init__(reason)
        self.language = language
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LanguageRouter:
    """Picks the Transcriber for a language: the first route (in profile order) that serves it,
    so a fast English-only default keeps English meetings and a multilingual model takes the
    rest."""

    routes: tuple[ModelRoute, ...]

    @property
    def supported(self) -> frozenset[str]:
        return frozenset().union(*(r.languages for r in self.routes))

    @property
    def detector(self) -> ModelRoute | None:
        """The route that detects languages (the first multilingual one), if any."""
        return next((r for r in self.routes if r.multilingual), None)

    def route(self, language: str) -> ModelRoute:
        for candidate in self.routes:
            if language in candidate.languages:
                return candidate
        raise UnsupportedLanguageError(language, self._unsupported_reason(language))

    def translator(self, language: str) -> ModelRoute | None:
        """The route that translates ``language`` speech into English; None for English."""
        if language == ENGLISH:
            return None
        return next((r for r in self.routes if r.multilingual and language in r.languages), None)

    def check(self, language: str | None, translate_to: str | None = None) -> None:
        """Raise ``UnsupportedLanguageError`` for a request this profile cannot serve."""
        if language == AUTO and self.detector is None:
            raise UnsupportedLanguageError(
                AUTO,
                "Language detection needs a multilingual model, and none is loaded; "
                "give the meeting's language instead",
            )
        if language not in (None, AUTO):
            self.route(language)
        if translate_to is not None and translate_to != ENGLISH:
            raise UnsupportedLanguageError(
                translate_to, "Captions can be translated into English ('en') only"
            )
        if translate_to is not None and self.detector is None:
            raise UnsupportedLanguageError(
                translate_to, "Translation needs a multilingual model, and none is loaded"
            )

    def _unsupported_reason(self, language: str) -> str:
        if language not in WHISPER_LANGUAGES:
            return f"{language!r} is not a language Whisper knows (ISO 639-1 codes such as 'it')"
        served = ", ".join(sorted(self.supported))
        return (
            f"No loaded model transcribes {language_name(language)}; this profile serves: {served}"
        )
