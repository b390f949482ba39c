"""Exit codes a script can rely on, and the one exception that carries them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    UNEXPECTED = 1  # a bug: please report it
    USAGE = 2  # bad arguments or options (also click's own usage errors)
    AUTH = 3  # not logged in, or the token/API key was refused (401)
    NOT_FOUND = 4  # the meeting (or webhook) does not exist or is not yours (404)
    SERVER = 5  # server error (5xx), server unreachable, or a connection that never came back
    REJECTED = 6  # the server refused the request (400, 403, 409, 413, 422, 429)
    JOB_FAILED = 7  # the meeting's processing ended ``failed``


# The server's 409 ``transcript_exists`` (upload or live socket), in the CLI's terms.
TRANSCRIPT_EXISTS_HINT = "the meeting already has a transcript; pass --replace to record again"


class CliError(Exception):
    """A failure to report on stderr and exit with ``code``."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def http_error(status_code: int, detail: str, action: str) -> CliError:
    """The exit code and message for an HTTP error answer."""
    if status_code == 401:
        return CliError(
            f"{action}: not authenticated ({detail}). Run `meetingserve login` or set "
            "MEETINGSERVE_TOKEN.",
            ExitCode.AUTH,
        )
    if status_code == 404:
        return CliError(f"{action}: {detail}", ExitCode.NOT_FOUND)
    if status_code >= 500:
        return CliError(f"{action}: server error {status_code} ({detail})", ExitCode.SERVER)
    return CliError(f"{action}: {detail} (HTTP {status_code})", ExitCode.REJECTED)
