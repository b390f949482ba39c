"""docs/protocol.md documents exactly the message schemas the server sends and accepts."""

from __future__ import annotations

from rooms.live_messages import LIVE_CLIENT_MESSAGES, LIVE_SERVER_MESSAGES
from rooms.messages import SERVER_MESSAGES
from rooms.protocol_doc import BEGIN, DOC_PATH, END, render_schemas, replace_section


def test_protocol_doc_schema_section_is_current() -> None:
    document = DOC_PATH.read_text()
    assert replace_section(document, render_schemas()) == document, (
        "docs/protocol.md is out of date: run `python -m rooms.protocol_doc`"
    )


def test_every_message_type_has_a_schema_heading() -> None:
    section = render_schemas()
    for name in [*SERVER_MESSAGES, "ping", "auth", "resume", *LIVE_SERVER_MESSAGES]:
        assert f"#### `{name}`" in section
    for name in LIVE_CLIENT_MESSAGES:
        assert f"#### `{name}`" in section
    assert section.startswith(BEGIN) and section.endswith(END)


def test_replace_section_keeps_the_surrounding_text() -> None:
    document = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert (
        replace_section(document, f"{BEGIN}\nnew\n{END}") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    )
