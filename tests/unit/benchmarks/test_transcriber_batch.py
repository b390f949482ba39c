"""The transcriber-batch benchmark on the CPU with the packaged tiny.en: a real, small run."""

from __future__ import annotations

from benchmarks.tables import transcriber_batch_section
from benchmarks.transcriber_batch import main, parse_args, run


def test_a_small_run_times_vad_and_decode_apart_and_scores_the_text() -> None:
    opts = parse_args(["--meetings", "short2", "--windows", "2", "--batch-sizes", "1,2",
                       "--repeats", "1"])  # fmt: skip
    got = run(opts)
    assert [r["batch_size"] for r in got["rows"]] == [1, 2]
    for row in got["rows"]:
        assert row["windows"] == 2 and row["vad_s"][0] > 0 and row["decode_s"][0] > 0
        assert row["x_real_time_decode"] > row["x_real_time"]  # the decode alone is faster
        assert row["overlapped_s"][0] > 0 and row["x_real_time_overlapped"] > 0
        assert row["wer"][0] < 0.5 and row["gpu_memory_used_mib"] is None
    table = transcriber_batch_section({"transcriber_batch": got})
    rows = [line for line in table.splitlines() if line.startswith(("| 1 |", "| 2 |"))]
    assert len(rows) == 2 and "x real time decoding" in table
    assert "VAD in threads" in table and got["vad_threads"] >= 5


def test_the_command_writes_its_result_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    argv = ["--meetings", "short2", "--windows", "2", "--batch-sizes", "2", "--repeats", "1",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert "Transcriber batches" in (tmp_path / "transcriber-batch.md").read_text()
