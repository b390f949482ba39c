"""One table of close codes: the server's enum, the protocol docs and the web client agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rooms.close_codes import CloseCode

ROOT = Path(__file__).resolve().parents[3]
WEB_TABLES = {
    "web/src/lib/meetingSocket.js": "CLOSE_REASONS",
    "web/src/lib/liveAudio.js": "FATAL_AUDIO_CLOSES",
}
CLIENT_ONLY = {1006}  # abnormal closure: reported by the browser, never sent by a server


def js_object_keys(source: str, name: str) -> set[int]:
    body = re.search(rf"{name} = \{{(.*?)\n\}};", source, re.S)
    assert body is not None, f"{name} not found"
    return {int(code) for code in re.findall(r"^\s*(\d{4}):", body.group(1), re.M)}


@pytest.mark.parametrize(("path", "table"), sorted(WEB_TABLES.items()))
def test_the_web_clients_close_codes_are_the_servers(path: str, table: str) -> None:
    codes = js_object_keys((ROOT / path).read_text(), table)
    assert codes, table
    assert codes - CLIENT_ONLY <= {int(c) for c in CloseCode}


def test_codes_the_room_client_gives_up_on_are_server_codes() -> None:
    source = (ROOT / "web/src/lib/meetingSocket.js").read_text()
    fatal = re.search(r"FATAL_CLOSE_CODES = new Set\(\[([\d, ]+)\]\)", source)
    assert fatal is not None
    codes = {int(code) for code in fatal.group(1).split(",")}
    assert codes == {CloseCode.UNAUTHORIZED, CloseCode.FORBIDDEN, CloseCode.NOT_FOUND}


def test_every_close_code_is_documented() -> None:
    protocol = (ROOT / "docs/protocol.md").read_text()
    missing = [code.name for code in CloseCode if str(int(code)) not in protocol]
    assert missing == []
