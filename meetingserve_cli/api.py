"""REST calls over httpx, each turning an error answer into a ``CliError`` with an exit code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from meetingserve_cli.config import Credentials
from meetingserve_cli.errors import TRANSCRIPT_EXISTS_HINT, CliError, ExitCode, http_error

UPLOAD_TIMEOUT = httpx.Timeout(30.0, write=600.0, read=600.0)
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Languages:
    """A meeting's language settings as the server takes them (docs/protocol.md "Meeting
    languages"); what is None keeps the meeting's setting."""

    language: str | None = None  # "auto" or an ISO 639-1 code
    translate_to: str | None = None  # "en": English captions of non-English speech

    def fields(self) -> dict[str, str]:
        fields = {"language": self.language, "translate_to": self.translate_to}
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True, slots=True)
class Recording:
    """What a new recording (an upload or a live session) asks of the meeting."""

    languages: Languages = field(default_factory=Languages)
    replace: bool = False  # record over a finished transcript (kept as an earlier version)

    def query(self) -> dict[str, str]:
        """The upload's query parameters (a live session sends the languages in ``start``)."""
        return {**self.languages.fields(), **({"replace": "true"} if self.replace else {})}


class ProgressFile:
    """A binary file that reports every chunk httpx reads from it (for the upload bar)."""

    def __init__(self, file: IO[bytes], on_read: Progress) -> None:
        self._file = file
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._on_read(len(chunk))
        return chunk

    def fileno(self) -> int:  # lets httpx size the body (Content-Length) from fstat
        return self._file.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def detail_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("code") == "transcript_exists":
        return TRANSCRIPT_EXISTS_HINT
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    if isinstance(detail, dict) and "error" in detail:
        return str(detail["error"].get("message", detail["error"]))
    if isinstance(detail, dict) and "message" in detail:  # e.g. unsupported_language
        return str(detail["message"])[:300]
    return str(detail)[:300]


class ApiClient:
    def __init__(self, credentials: Credentials, transport: httpx.BaseTransport | None = None):
        self.credentials = credentials
        headers = {"User-Agent": "meetingserve-cli"}
        if credentials.token:
            headers["Authorization"] = f"Bearer {credentials.token}"
        self._http = httpx.Client(
            base_url=credentials.server, headers=headers, timeout=30.0, transport=transport
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    def request(self, action: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise CliError(f"{action}: the server did not answer in time", ExitCode.SERVER) from e
        except httpx.HTTPError as e:
            raise CliError(
                f"{action}: cannot reach {self.credentials.server} ({type(e).__name__})",
                ExitCode.SERVER,
            ) from e
        if response.is_error:
            raise http_error(response.status_code, detail_of(response), action)
        return response

    def json(self, action: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(action, method, path, **kwargs).json()

    def login(self, email: str, password: str) -> str:
        body = {"email": email, "password": password}
        return str(self.json("Login", "POST", "/api/auth/login", json=body)["access_token"])

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self.json("Who am I", "GET", "/api/auth/me")
        return result

    def meetings(self) -> list[dict[str, Any]]:
        """Every meeting the caller can see, following the list's ``Link: rel="next"`` pages."""
        result: list[dict[str, Any]] = []
        url: str | None = "/api/meetings"
        while url is not None:
            response = self.request("List meetings", "GET", url)
            result.extend(response.json())
            following = response.links.get("next", {}).get("url")
            url = str(response.url.join(following)) if following else None
        return result

    def meeting(self, meeting_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.json("Meeting", "GET", f"/api/meetings/{meeting_id}")
        return result

    def has_transcript(self, meeting_id: str) -> bool:
        """Whether the meeting has a current transcript (which an upload would replace)."""
        path = f"/api/meetings/{meeting_id}/transcript/versions"
        return self.json("Meeting", "GET", path).get("current") is not None

    def create_meeting(self, title: str, languages: Languages | None = None) -> str:
        body = {"title": title, **(languages.fields() if languages else {})}
        return str(self.json("Create meeting", "POST", "/api/meetings", json=body)["id"])

    def upload(
        self,
        meeting_id: str,
        path: Path,
        on_read: Progress,
        recording: Recording | None = None,
    ) -> str:
        """Upload the file; returns the job id (the server answers 202 at once)."""
        params = (recording or Recording()).query()
        with path.open("rb") as f:
            files = {"file": (path.name, ProgressFile(f, on_read), "application/octet-stream")}
            result = self.json(
                "Upload",
                "POST",
                f"/api/meetings/{meeting_id}/audio",
                files=files,
                params=params,
                timeout=UPLOAD_TIMEOUT,
            )
        return str(result["job_id"])

    def transcript(self, meeting_id: str, fmt: str, text: str = "original") -> bytes:
        path = f"/api/meetings/{meeting_id}/transcript"
        params = {"format": fmt, "text": text}
        return self.request("Export", "GET", path, params=params).content

    def summary(self, meeting_id: str, fmt: str) -> bytes:
        path = f"/api/meetings/{meeting_id}/summary"
        return self.request("Summary", "GET", path, params={"format": fmt}).content
