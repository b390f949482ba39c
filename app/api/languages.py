"""Request-side language rules: the codes a request may carry and the 400 for ones no loaded
model serves (``unsupported_language``), shared by meetings, uploads and live sessions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request, status
from pydantic import StringConstraints

from core.languages import LanguageRouter, UnsupportedLanguageError

# "auto" or an ISO 639-1 code (Whisper also knows "haw" and "yue"); malformed ones get a 422,
# well-formed ones no loaded model writes get the 400 below.
LanguageCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"(?i)^(auto|[a-z]{2,3})$"),
]
TranslationTarget = Literal["en"]


def get_languages(request: Request) -> LanguageRouter:
    router: LanguageRouter = request.app.state.backend.languages()
    return router


LanguagesDep = Annotated[LanguageRouter, Depends(get_languages)]


def unsupported_language_detail(router: LanguageRouter, error: UnsupportedLanguageError) -> Any:
    return {
        "code": error.code,
        "message": error.reason,
        "language": error.language,
        "supported": sorted(router.supported),
        "detection": router.detector is not None,
    }


def check_languages(router: LanguageRouter, language: str | None, translate_to: str | None) -> None:
    """400 ``unsupported_language`` for a request the loaded models cannot serve."""
    try:
        router.check(language, translate_to)
    except UnsupportedLanguageError as e:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, unsupported_language_detail(router, e)
        ) from e
