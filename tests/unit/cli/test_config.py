"""Where the CLI keeps its credential, and which one it sends where."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from meetingserve_cli.config import (
    Credentials,
    config_path,
    read_config,
    resolve_credentials,
    write_config,
)
from meetingserve_cli.errors import CliError, ExitCode
from meetingserve_cli.render import clock, reattribution_text, segment_line


def test_config_file_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "xdg" / "meetingserve" / "config.json"
    write_config(path, {"server": "http://a", "token": "t1"})
    write_config(path, {"server": "http://a", "token": "t2"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_config(path) == {"server": "http://a", "token": "t2"}
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp files left


def test_config_location_follows_xdg_and_override(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/meetingserve/config.json")
    assert config_path({"MEETINGSERVE_CONFIG": "/y/c.json", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/y/c.json"
    )


def test_precedence_and_stored_token_only_goes_to_its_server(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write_config(path, {"server": "http://stored:8000/", "token": "stored-token"})
    env = {"MEETINGSERVE_CONFIG": str(path)}
    assert resolve_credentials(None, env) == Credentials("http://stored:8000", "stored-token")
    other = resolve_credentials("http://elsewhere", env)
    assert other == Credentials("http://elsewhere", None)  # never leak it to another server
    env_token = {**env, "MEETINGSERVE_TOKEN": "key", "MEETINGSERVE_URL": "https://api.example"}
    assert resolve_credentials(None, env_token) == Credentials("https://api.example", "key")
    assert resolve_credentials("http://flag", env_token).server == "http://flag"


def test_bad_server_url_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(CliError) as e:
        resolve_credentials("ftp://x", {"MEETINGSERVE_CONFIG": str(tmp_path / "none.json")})
    assert e.value.code == ExitCode.USAGE


def test_websocket_base_follows_the_scheme() -> None:
    assert Credentials("https://h:1/p", None).ws_base == "wss://h:1/p"
    assert Credentials("http://h", None).ws_base == "ws://h"


def test_segment_lines() -> None:
    segment = {"speaker": "SPEAKER_01", "text": "Hello there", "start": 59.96, "end": 3725.04}
    assert segment_line(segment, False) == "[00:01:00.0 - 01:02:05.0] SPEAKER_01: Hello there"
    assert segment_line(segment, True).startswith('{"speaker":"SPEAKER_01"')
    assert clock(0.04) == "00:00:00.0"
    captioned = {**segment, "text": "Ciao a tutti", "translation": "Hello everyone"}
    assert segment_line(captioned, False).splitlines() == [
        "[00:01:00.0 - 01:02:05.0] SPEAKER_01: Ciao a tutti",
        "    [Hello everyone]",
    ]


def test_reattribution_text() -> None:
    change = {"action": "reattribute", "merges": {"SPEAKER_02": "SPEAKER_00"}}
    assert reattribution_text(change) == "Speakers settled: SPEAKER_02 is SPEAKER_00"
    moved = {**change, "segment_speakers": {"w0-1": "SPEAKER_01", "w3-0": "SPEAKER_01"}}
    assert reattribution_text(moved).endswith("SPEAKER_00; 2 lines moved to another speaker")
    one = {"merges": {}, "segment_speakers": {"w0-1": "SPEAKER_01"}}
    assert reattribution_text(one) == "Speakers settled: 1 line moved to another speaker"
