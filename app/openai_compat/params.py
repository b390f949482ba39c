"""The form fields of ``POST /v1/audio/transcriptions`` and ``/v1/audio/translations``, checked
into ``TranscriptionParams``.

What is honoured, ignored or different is listed in docs/protocol.md ("OpenAI-compatible
endpoints"); invalid values answer 400 with ``param`` naming the field, as OpenAI does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from app.openai_compat.errors import OpenAIError
from app.uploads import ReceivedUpload
from processor_api.backend import ServedModel

ResponseFormat = Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json"]
RESPONSE_FORMATS: tuple[str, ...] = get_args(ResponseFormat)
Task = Literal["transcribe", "translate"]  # translate: English text of any language's speech
Granularity = Literal["word", "segment"]
GRANULARITIES: tuple[str, ...] = get_args(Granularity)
# OpenAI's transcription model names, served by the profile's pipeline (tools hard-code them).
OPENAI_MODEL_ALIASES: tuple[str, ...] = (
    "whisper-1",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-transcribe-diarize",
)
TRUE_VALUES = frozenset({"true", "1"})
FALSE_VALUES = frozenset({"false", "0", ""})


@dataclass(frozen=True, slots=True)
class TranscriptionParams:
    model: ServedModel
    response_format: ResponseFormat = "json"
    language: str | None = None  # the spoken language as given; None: not given
    task: Task = "transcribe"
    # No language given, and the model named does not fix one (OpenAI's names, a multilingual
    # model): detect it where the profile can, as OpenAI's models do.
    detect: bool = False
    prompt: str | None = None  # accepted, not used (see docs)
    temperature: float | None = None  # accepted, not used (see docs)
    granularities: frozenset[str] = frozenset({"segment"})
    stream: bool = False


def model_ids(served: list[ServedModel]) -> list[str]:
    """Every id ``/v1`` accepts: the profile's models, then OpenAI's names as aliases."""
    own = [model.id for model in served]
    return own + [alias for alias in OPENAI_MODEL_ALIASES if alias not in own] if own else []


def resolve_model(
    name: str | None, served: list[ServedModel], language: str | None = None
) -> ServedModel:
    """A served model by id; OpenAI's names pick the first served model that writes
    ``language`` (the profile's default model when no language is given)."""
    if not name:
        raise OpenAIError(400, "You must provide a model parameter.", param="model")
    for model in served:
        if name == model.id:
            return model
    if served and name in OPENAI_MODEL_ALIASES:
        writes = [m for m in served if language is None or m.language in (None, language)]
        return (writes or served)[0]
    raise OpenAIError(
        404,
        f"The model `{name}` does not exist; GET /v1/models lists the served models.",
        param="model",
        code="model_not_found",
    )


def parse_params(
    form: ReceivedUpload, served: list[ServedModel], task: Task = "transcribe"
) -> TranscriptionParams:
    code = _language_code(form.first("language"))
    name = form.first("model")
    model = resolve_model(name, served, code)
    return TranscriptionParams(
        model=model,
        response_format=_response_format(form.first("response_format")),
        language=_language(code, model),
        task=task,
        detect=code is None and (name in OPENAI_MODEL_ALIASES or model.language is None),
        prompt=form.first("prompt"),
        temperature=_temperature(form.first("temperature")),
        granularities=_granularities(form),
        stream=_flag(form.first("stream"), "stream"),
    )


def _response_format(value: str | None) -> ResponseFormat:
    if value is None or value == "":
        return "json"
    if value not in RESPONSE_FORMATS:
        raise OpenAIError(
            400,
            f"Invalid response_format {value!r}; choose one of {', '.join(RESPONSE_FORMATS)}.",
            param="response_format",
            code="invalid_value",
        )
    return value  # type: ignore[return-value]


def _language_code(value: str | None) -> str | None:
    """An ISO-639-1 code (``it``, also from ``it-IT``), or None when none was given."""
    if not value:
        return None
    code = value.strip().lower().split("-", 1)[0]
    if not (2 <= len(code) <= 3 and code.isalpha()):
        raise OpenAIError(
            400, f"Invalid language {value!r}", param="language", code="invalid_value"
        )
    return code


def _language(code: str | None, model: ServedModel) -> str | None:
    """A model fixed to one language refuses another (it cannot honour it)."""
    if code is None:
        return None
    if model.language is not None and code != model.language:
        raise OpenAIError(
            400,
            f"The model `{model.id}` transcribes only {model.language!r}; "
            f"language {code!r} is not served by this deployment.",
            param="language",
            code="unsupported_language",
        )
    return code


def _temperature(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        temperature = float(value)
    except ValueError:
        temperature = -1.0
    if not 0.0 <= temperature <= 1.0:
        raise OpenAIError(400, "temperature must be a number between 0 and 1", param="temperature")
    return temperature


def _granularities(form: ReceivedUpload) -> frozenset[str]:
    values = form.fields.get("timestamp_granularities[]", []) + form.fields.get(
        "timestamp_granularities", []
    )
    for value in values:
        if value not in GRANULARITIES:
            raise OpenAIError(
                400,
                f"Invalid timestamp granularity {value!r}; use 'word' and/or 'segment'.",
                param="timestamp_granularities",
                code="invalid_value",
            )
    return frozenset(values) if values else frozenset({"segment"})


def _flag(value: str | None, name: str) -> bool:
    lowered = (value or "").strip().lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise OpenAIError(400, f"{name} must be true or false", param=name)
