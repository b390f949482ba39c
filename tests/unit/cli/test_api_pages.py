"""The CLI's list of meetings follows the server's ``Link: rel="next"`` pages to the end."""

from __future__ import annotations

import httpx

from meetingserve_cli.api import ApiClient
from meetingserve_cli.config import Credentials

PAGES = {
    None: ([{"id": "c"}, {"id": "b"}], '</app/api/meetings?limit=2&cursor=Yg>; rel="next"'),
    "Yg": ([{"id": "a"}], None),
}


def serve_pages(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer t"
    assert request.url.path == "/app/api/meetings"
    items, link = PAGES[request.url.params.get("cursor")]
    return httpx.Response(200, json=items, headers={"link": link} if link else {})


def test_meetings_follows_next_links_under_the_servers_path() -> None:
    credentials = Credentials("http://server.example/app", "t")
    with ApiClient(credentials, transport=httpx.MockTransport(serve_pages)) as api:
        assert [m["id"] for m in api.meetings()] == ["c", "b", "a"]
