"""Request-side language rules: the 400 for language codes no loaded model serves
(``unsupported_language``), shared by meetings, uploads and live sessions. The codes a request
may carry are typed in ``rooms.live_messages``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from core.languages import LanguageRouter, UnsupportedLanguageError


async def get_languages(request: Request) -> LanguageRouter:
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
