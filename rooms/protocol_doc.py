"""Generates the message-schema section of ``docs/protocol.md`` from ``rooms.messages``.

``python -m rooms.protocol_doc`` rewrites the section between the markers in place;
``tests/unit/rooms/test_protocol_doc.py`` fails when the file and the models disagree, so the
documented schemas cannot drift from what the server sends.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from rooms.live_messages import LIVE_CLIENT_MESSAGES, LIVE_SERVER_MESSAGES
from rooms.messages import SERVER_MESSAGES, AuthRequest, PingRequest, ResumeRequest

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
BEGIN = "<!-- BEGIN GENERATED: python -m rooms.protocol_doc -->"
END = "<!-- END GENERATED -->"
CLIENT_MESSAGES: dict[str, type[BaseModel]] = {
    "ping": PingRequest,
    "auth": AuthRequest,
    "resume": ResumeRequest,
}


def _schema_block(title: str, model: type[BaseModel], mode: str) -> str:
    schema = model.model_json_schema(mode="serialization" if mode == "out" else "validation")
    body = json.dumps(schema, indent=2, sort_keys=True)
    return f"#### `{title}`\n\n```json\n{body}\n```\n"


def render_schemas() -> str:
    """The generated section, markers included."""
    parts = [BEGIN, "", "### Server → client message schemas", ""]
    parts += [_schema_block(name, model, "out") for name, model in SERVER_MESSAGES.items()]
    parts += ["### Client → server message schemas", ""]
    parts += [_schema_block(name, model, "in") for name, model in CLIENT_MESSAGES.items()]
    parts += ["### Live-audio socket: server → client message schemas", ""]
    parts += [_schema_block(name, model, "out") for name, model in LIVE_SERVER_MESSAGES.items()]
    parts += ["### Live-audio socket: client → server message schemas", ""]
    parts += [_schema_block(name, model, "in") for name, model in LIVE_CLIENT_MESSAGES.items()]
    parts.append(END)
    return "\n".join(parts)


def replace_section(document: str, section: str) -> str:
    """``document`` with the text between the markers replaced by ``section``."""
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + section + document[end:]


def main(path: Path = DOC_PATH) -> int:
    """Rewrite the generated section of ``path``; exit status 0."""
    path.write_text(replace_section(path.read_text(), render_schemas()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
