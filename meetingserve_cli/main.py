"""The ``meetingserve`` commands (typer). Data goes to stdout, messages and progress to stderr,
and every failure exits with a documented code (``errors.ExitCode``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from core.exports import SummaryFormat, TranscriptFormat, TranscriptText
from meetingserve_cli.api import ApiClient, Languages, Recording
from meetingserve_cli.config import (
    Credentials,
    config_path,
    read_config,
    resolve_credentials,
    write_config,
)
from meetingserve_cli.errors import TRANSCRIPT_EXISTS_HINT, CliError, ExitCode
from meetingserve_cli.live import SAMPLE_RATE, AudioBuffer, LiveStreamer, decode_file, play_file
from meetingserve_cli.render import meetings_table, reattribution_text, segment_line
from meetingserve_cli.room import Outcome, RoomWatcher, current_last_seq
from meetingserve_cli.webhooks import app as webhooks_app

app = typer.Typer(
    name="meetingserve",
    help="Command-line client of a meetingserve server: upload, watch, stream, export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(webhooks_app, name="webhooks")
stderr = Console(stderr=True, soft_wrap=True, highlight=False)

ServerOption = Annotated[
    str | None,
    typer.Option("--server", help="Server URL (default: MEETINGSERVE_URL, then the login's)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


MeetingArg = Annotated[str, typer.Argument(help="Meeting id.")]
LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        help='Spoken language: "auto" (detect) or an ISO 639-1 code such as "it".',
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace", help="Record over a finished transcript (kept as an earlier version)."
    ),
]
TranslateOption = Annotated[
    str | None,
    typer.Option("--translate-to", help='"en": add English captions to non-English speech.'),
]


def notice(message: str) -> None:
    stderr.print(message, markup=False)


def credentials(ctx: typer.Context) -> Credentials:
    return resolve_credentials(ctx.obj)


@app.callback()
def main(ctx: typer.Context, server: ServerOption = None) -> None:
    ctx.obj = server


@app.command()
def login(
    ctx: typer.Context,
    email: Annotated[str | None, typer.Option("--email", "-e", help="Account email.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Store a token or API key read from stdin.")
    ] = False,
) -> None:
    """Log in and store the token (mode 0600) for later commands."""
    creds = Credentials(resolve_credentials(ctx.obj).server, None)  # log in afresh
    if token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            raise CliError("No token on stdin", ExitCode.USAGE)
    else:
        address = email or typer.prompt("Email")
        password = (
            sys.stdin.readline().rstrip("\n")
            if password_stdin
            else typer.prompt("Password", hide_input=True)
        )
        with ApiClient(creds) as api:
            token = api.login(address, password)
    with ApiClient(Credentials(creds.server, token)) as api:
        me = api.me()
    path = config_path()
    write_config(path, {**read_config(path), "server": creds.server, "token": token})
    notice(f"Logged in to {creds.server} as {me['email']} (saved to {path})")


@app.command()
def logout() -> None:
    """Forget the stored token."""
    path = config_path()
    stored = read_config(path)
    stored.pop("token", None)
    write_config(path, stored)
    notice("Logged out")


@app.command()
def whoami(ctx: typer.Context) -> None:
    """Print the account the token belongs to."""
    creds = credentials(ctx)
    creds.require_token()
    with ApiClient(creds) as api:
        me = api.me()
    print(me["email"])


@app.command()
def meetings(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the meetings you own or that were shared with you."""
    creds = credentials(ctx)
    creds.require_token()
    with ApiClient(creds) as api:
        rows = api.meetings()
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        Console(soft_wrap=True).print(meetings_table(rows))


@app.command()
def upload(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Audio file.")
    ],
    title: Annotated[str | None, typer.Option(help="Title of the new meeting.")] = None,
    meeting: Annotated[
        str | None, typer.Option("--meeting", help="Upload into this meeting instead.")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Print segments as they are transcribed.")
    ] = False,
    language: LanguageOption = None,
    translate_to: TranslateOption = None,
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Upload an audio file (progress bar); with --watch, print its segments as they arrive."""
    creds = credentials(ctx)
    creds.require_token()
    languages = Languages(language, translate_to)
    with ApiClient(creds) as api:
        # The settings go with the meeting too, so a refused language leaves no empty meeting.
        meeting_id = meeting or api.create_meeting(
            (title or file.stem)[:200] or "Upload", languages
        )
        if meeting:
            refuse_before_sending(api, meeting, replace)
        last_seq = asyncio.run(current_last_seq(creds, meeting_id)) if watch else 0
        job_id = upload_with_progress(api, meeting_id, file, Recording(languages, replace))
    notice(f"Meeting {meeting_id}: job {job_id} queued")
    if not watch:
        print(meeting_id)
        return
    report(asyncio.run(follow(creds, meeting_id, last_seq, job_id, as_json)))


def refuse_before_sending(api: ApiClient, meeting_id: str, replace: bool) -> None:
    """The server's 404 and 409 ``transcript_exists``, found before the file is sent: the
    server answers them at once, but an HTTP client sends the whole body first."""
    meeting = api.meeting(meeting_id)  # 404: exit 4
    busy = meeting.get("status") in ("queued", "processing")  # the server's 409 says so itself
    if not replace and not busy and api.has_transcript(meeting_id):
        raise CliError(f"Upload: {TRANSCRIPT_EXISTS_HINT}", ExitCode.REJECTED)


def upload_with_progress(
    api: ApiClient, meeting_id: str, file: Path, recording: Recording | None = None
) -> str:
    columns = (
        TextColumn("Uploading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr) as progress:
        task = progress.add_task(file.name, total=file.stat().st_size)
        return api.upload(meeting_id, file, lambda n: progress.advance(task, n), recording)


def printer(meeting_id: str, as_json: bool) -> Any:
    def on_event(event: dict[str, Any]) -> None:
        kind = event.get("type")
        change = event.get("change") or {}
        if kind == "transcript":
            print(segment_line(event["segment"], as_json), flush=True)
        elif kind == "status" and event.get("details", {}).get("language_source") == "detected":
            notice(str(event["details"].get("message", "")))
        elif kind == "speakers" and change.get("action") == "reattribute":
            final = f"`meetingserve export {meeting_id}` has the final transcript"
            notice(f"{reattribution_text(change)}; {final}")
        elif kind == "summary":
            notice(f"Summary ready (meetingserve summary {meeting_id})")
        elif kind == "error" and "seq" in event:
            notice(f"Error: {event.get('error')} ({event.get('code')})")

    return on_event


async def follow(
    creds: Credentials, meeting_id: str, last_seq: int, job_id: str, as_json: bool
) -> Outcome:
    watcher = RoomWatcher(creds, meeting_id, last_seq, printer(meeting_id, as_json), notice)
    return await watcher.until_done(job_id)


def report(outcome: Outcome) -> None:
    if outcome.status != "completed":
        raise CliError(f"Processing failed: {outcome.message}", ExitCode.JOB_FAILED)
    notice("Completed")


@app.command()
def live(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Audio file to stream."),
    ] = None,
    mic: Annotated[bool, typer.Option("--mic", help="Stream the microphone instead.")] = False,
    device: Annotated[str | None, typer.Option(help="Input device for --mic.")] = None,
    title: Annotated[str | None, typer.Option(help="Title of the new meeting.")] = None,
    meeting: Annotated[str | None, typer.Option("--meeting", help="Stream into it.")] = None,
    language: LanguageOption = None,
    translate_to: TranslateOption = None,
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
) -> None:
    """Stream a file at real time (or the microphone; Ctrl-C stops) and print segments."""
    if (file is None) == (not mic):
        raise CliError("Give an audio FILE or --mic (not both)", ExitCode.USAGE)
    creds = credentials(ctx)
    creds.require_token()
    pcm = decode_file(file) if file is not None else b""
    languages = Languages(language, translate_to)
    with ApiClient(creds) as api:
        default_title = file.stem if file is not None else "Live recording"
        meeting_id = meeting or api.create_meeting((title or default_title)[:200], languages)
        if meeting:
            api.meeting(meeting)
    notice(f"Meeting {meeting_id}: streaming {'the microphone' if mic else file}")
    recording = Recording(languages, replace)
    streaming = stream_live(creds, meeting_id, pcm, mic, device, recording, as_json)
    report(asyncio.run(streaming))


async def stream_live(
    creds: Credentials,
    meeting_id: str,
    pcm: bytes,
    mic: bool,
    device: str | None,
    recording: Recording,
    as_json: bool,
) -> Outcome:
    last_seq = await current_last_seq(creds, meeting_id)
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # Ctrl-C ends the audio, not the program
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)

    rate = SAMPLE_RATE
    if mic:
        from meetingserve_cli.mic import input_rate

        rate = input_rate(device)

    async def source(buffer: AudioBuffer) -> None:
        if mic:
            from meetingserve_cli.mic import record_microphone

            await record_microphone(buffer, stop, device, rate)
            return
        player = asyncio.create_task(play_file(pcm, buffer))
        await asyncio.wait(
            {player, asyncio.create_task(stop.wait())}, return_when="FIRST_COMPLETED"
        )
        player.cancel()
        buffer.finish()

    streamer = LiveStreamer(creds, meeting_id, notice, recording, sample_rate=rate)
    sending = asyncio.create_task(streamer.run(source))
    started: set[asyncio.Future[Any]] = {sending, streamer.job_id}
    await asyncio.wait(started, return_when=asyncio.FIRST_COMPLETED)
    if sending.done() and not streamer.job_id.done():
        await sending  # failed before the session started: raises its CliError
    watcher = RoomWatcher(creds, meeting_id, last_seq, printer(meeting_id, as_json), notice)
    watching = asyncio.create_task(watcher.until_done(streamer.job_id.result()))
    try:  # either failing ends both
        _, outcome = await asyncio.gather(sending, watching)
        return outcome
    finally:
        sending.cancel()
        watching.cancel()


@app.command()
def export(
    ctx: typer.Context,
    meeting_id: MeetingArg,
    fmt: Annotated[TranscriptFormat, typer.Option("--format", "-f")] = "srt",
    text: Annotated[
        TranscriptText,
        typer.Option(help="The original words, their English captions, or both."),
    ] = "original",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to this file.")
    ] = None,
) -> None:
    """Export a meeting's transcript."""
    creds = credentials(ctx)
    creds.require_token()
    with ApiClient(creds) as api:
        content = api.transcript(meeting_id, fmt, text)
    write_output(content, output)


@app.command()
def summary(
    ctx: typer.Context,
    meeting_id: MeetingArg,
    fmt: Annotated[SummaryFormat, typer.Option("--format", "-f")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to this file.")
    ] = None,
) -> None:
    """Print a meeting's summary and action items."""
    creds = credentials(ctx)
    creds.require_token()
    with ApiClient(creds) as api:
        content = api.summary(meeting_id, fmt)
    write_output(content, output)


def write_output(content: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(content)
        if content and not content.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    try:
        output.write_bytes(content)
    except OSError as e:
        raise CliError(f"Cannot write {output}: {e}", ExitCode.USAGE) from e
    notice(f"Wrote {output} ({len(content)} bytes)")


def run() -> None:
    """Console-script entry point: CliError → message on stderr and its exit code."""
    try:
        app(prog_name="meetingserve")
    except CliError as e:
        notice(f"meetingserve: {e.message}")
        sys.exit(int(e.code))
    except KeyboardInterrupt:
        notice("meetingserve: interrupted")
        sys.exit(130)
