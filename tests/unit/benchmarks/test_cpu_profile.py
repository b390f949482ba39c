"""The CPU profile's reading of py-spy's collapsed stacks (the sampling itself needs a
cluster: ``python -m benchmarks load --meetings 1 --watchers 200 --live 1 --cpu-profile 20``)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.cpu_profile import Sampled, group_of, report, summarize
from benchmarks.tables import cpu_profile_section

RAW = """\
process 1:"ray::ProxyActor";run (ray/serve/_private/proxy.py:10);\
send (ray/serve/_private/http_util.py:5) 30
process 1:"ray::ProxyActor";run (ray/serve/_private/proxy.py:10);\
get (ray/_private/worker.py:9) 50
process 1:"ray::ProxyActor";pump (app/api/routes/ws.py:266);\
dumps (json/__init__.py:231) 15
process 1:"ray::ProxyActor";pump (app/api/routes/ws.py:266) 5
"""


def test_each_sample_is_charged_to_its_innermost_frame(tmp_path: Path) -> None:
    raw = tmp_path / "proxy.txt"
    raw.write_text(RAW)
    total, groups, functions = summarize(raw)
    assert total == 100
    assert groups == {"ray_core": 50, "ray_serve": 30, "json": 15, "ours": 5}
    assert functions.most_common(1) == [("get (_private/worker.py)", 50)]


def test_frames_are_grouped_by_where_their_file_lives() -> None:
    assert group_of("receive (starlette/websockets.py:40)") == "asgi_websocket"
    assert group_of("offer (app/sockets/fanout.py:70)") == "ours"
    assert group_of("publish (rooms/hub.py:12)") == "ours"
    assert group_of("run_once (asyncio/base_events.py:1)") == "asyncio"
    assert group_of("<native> (libc.so.6)") == "other"


def test_cpu_per_socket_message_divides_busy_time_by_the_messages_delivered(
    tmp_path: Path,
) -> None:
    raw = tmp_path / "proxy.txt"
    raw.write_text(RAW)  # 100 samples at 100 Hz: 1 s of CPU
    result = report([Sampled("proxy", 1, raw)], seconds=4.0, messages=500)
    proxy = result["processes"]["proxy"]
    assert proxy["core_share"] == 0.25
    assert proxy["cpu_ms_per_message"] == 2.0
    assert proxy["groups"]["ray_core"] == 0.5


def test_the_report_table_lists_each_profiled_process(tmp_path: Path) -> None:
    raw = tmp_path / "proxy.txt"
    raw.write_text(RAW)
    profile = report([Sampled("proxy", 1, raw)], seconds=4.0, messages=500)
    row = {"name": "custom", "sockets": 200, "cpu_profile": profile}
    text = cpu_profile_section({"load": {"headline": [row]}})
    assert "500 socket-messages in 4.0 s" in text
    assert "| proxy | 0.250 | 2.000 | 5.000 | 30.000 | 50.000 | 0.000 | 15.000 |" in text
