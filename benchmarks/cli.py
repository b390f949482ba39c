"""``python -m benchmarks <command>``: one entry point for every benchmark.

    all         the default set (``make bench``): latency 1/5/10/20 min (+60 with --long),
                accuracy, throughput 1/2/4 uploads (+8 with --long) batching on vs off,
                whole-file baseline, memory
    smoke       a small subset for CI (under 3 minutes against a running platform)
    accuracy    WER, DER, JER, cpWER and action items on the synthetic corpus
    latency     time to first segment, per-stage latency, end-to-end RTF
    throughput  concurrent uploads with batching on and off
    baseline    whole-file faster-whisper + diarization, no Serve
    memory      peak memory per deployment and of the cluster during one upload
    fanout      WebSocket fan-out under plain uvicorn (benchmarks.fanout; explains a cost)
    load        control-plane load through the real Serve path (benchmarks.load, own options)
    abuse       hostile input while other users work (benchmarks.abuse, own options)
    hubs        the hub alone, 1 vs 2 shards: publish and long-poll delivery (own options)
    long-upload a 2-hour upload through the real Serve path: Processor memory, first window
                (benchmarks.long_upload, own options)
    sqlite-writers  SQLite write transactions from busy processes: our writer queue vs SQLite's
                busy handler (benchmarks.sqlite_writers, own options; a direct measurement)
    decode      decoding's CPU per minute of audio in four encodings, optionally alternated
                with core/audio.py of another commit (benchmarks.decode; a direct measurement)
    transcriber-batch  the Transcriber class on one device, audio s per s by batch size
                (benchmarks.transcriber_batch, own options; a direct measurement)
    compare     diff two result files

Without ``--url`` a private local Ray cluster runs the chosen profile on a free port.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.noise import NOISE_COLOURS
from benchmarks.platform import Platform, external_platform, profile_application, started_platform
from benchmarks.report import compare, deployed_settings, load_result, new_result, write_result
from benchmarks.runner import (
    SuiteOutput,
    SuitePlan,
    check_targets,
    meeting_spec,
    noisy_specs,
    run_baseline,
    run_platform_benchmarks,
)

logger = logging.getLogger(__name__)
DEFAULT_LENGTHS = [1.0, 5.0, 10.0, 20.0]
LONG_LENGTH = 60.0
DEFAULT_CONCURRENCY = [1, 2, 4]
ACCURACY_MEETINGS = ["standup3", "planning2", "panel7", "crosstalk3"]
# The throughput sweep uploads up to 8 files at once as one benchmark user: above the per-user
# cap on concurrent jobs that protects a shared server (a platform given by --url needs it too).
SUITE_ENV = {"MEETING_MAX_CONCURRENT_JOBS_PER_USER": "64"}
OWN_OPTIONS = {
    "load": "benchmarks.load",
    "abuse": "benchmarks.abuse",
    "hubs": "benchmarks.hub_shards",
    "long-upload": "benchmarks.long_upload",
    "sqlite-writers": "benchmarks.sqlite_writers",
    "decode": "benchmarks.decode",
    "transcriber-batch": "benchmarks.transcriber_batch",
}
SUITES = ("all", "smoke", "accuracy", "latency", "throughput", "baseline", "memory")


def build_plan(command: str, opts: argparse.Namespace) -> SuitePlan:
    lengths = list(opts.lengths or DEFAULT_LENGTHS) + ([LONG_LENGTH] if opts.long else [])
    lengths_specs = [meeting_spec(m) for m in lengths]
    concurrency = list(opts.concurrency or DEFAULT_CONCURRENCY) + ([8] if opts.long else [])
    repeats, backends = opts.repeats, list(opts.backends or [])
    plans = {
        "all": SuitePlan(
            "all", lengths_specs, repeats, ACCURACY_MEETINGS, True, meeting_spec(1),
            concurrency, True, lengths_specs, True, backends,
        ),
        "smoke": SuitePlan(
            "smoke", ["planning2"], 1, [], True, "short2", [2], True, ["planning2"], True,
            backends,
        ),
        "accuracy": SuitePlan(
            "accuracy", [], 1, [*ACCURACY_MEETINGS, meeting_spec(5)], False, memory=False,
            backends=backends,
        ),
        "latency": SuitePlan("latency", lengths_specs, repeats, memory=False, backends=backends),
        "throughput": SuitePlan(
            "throughput", throughput_meeting=meeting_spec(1), concurrency=concurrency,
            memory=False,
        ),
        "baseline": SuitePlan("baseline", baseline=lengths_specs, memory=False),
        "memory": SuitePlan("memory", ["standup3"], 1, score_latency_runs=False),
    }  # fmt: skip
    plan = plans[command]
    if opts.meetings:
        plan.accuracy = list(opts.meetings)
    plan.accuracy = noisy_specs(plan.accuracy, list(opts.snr or []), opts.noise)
    return plan


@contextlib.contextmanager
def platform_for(plan: SuitePlan, opts: argparse.Namespace) -> Iterator[Platform | None]:
    if not plan.needs_platform:
        yield None
    elif opts.url:
        yield external_platform(opts.url, opts.profile)
    else:
        with started_platform(opts.profile, extra_env=SUITE_ENV) as platform:
            yield platform


def run_suite(plan: SuitePlan, opts: argparse.Namespace) -> Path:
    """Run one suite end to end and write its result files; returns the JSON path."""
    started = time.monotonic()
    out = SuiteOutput()
    app = profile_application(opts.profile)
    with platform_for(plan, opts) as platform:
        if platform is not None:
            app = platform.app_config or app
            run_platform_benchmarks(plan, platform, out)
    if plan.baseline:
        run_baseline(plan, app["args"], out)
    result = new_result(plan.name, opts.profile, settings_of(plan, app, opts))
    result["models"] = models_of(app["args"])
    result.update(out.as_dict())
    result["targets"] = check_targets(out)
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["note"] = (
        f"Latency figures are medians of {plan.latency_repeats} run(s) per meeting on a shared "
        f"{os.cpu_count()}-core machine, so timings are noisy."
    )
    return write_result(result, Path(opts.out) if opts.out else None)


def settings_of(plan: SuitePlan, app: dict[str, Any], opts: argparse.Namespace) -> dict[str, Any]:
    return {
        "platform": "external: " + opts.url if opts.url else "started by the benchmark",
        "plan": {k: v for k, v in vars(plan).items() if k != "name"},
        **deployed_settings(app),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
    }


def models_of(args: dict[str, Any]) -> dict[str, Any]:
    from deployments.options import AppArgs

    parsed = AppArgs.model_validate(args)
    return {
        "asr": {"model": parsed.transcriber.model, "compute_type": parsed.transcriber.compute_type,
                "device": parsed.transcriber.device, "beam_size": parsed.transcriber.beam_size},
        "diarization": {"backend": parsed.diarizer.backend},
        "summary": {"engine": parsed.summarizer.engine, "model": parsed.summarizer.model
                    or parsed.summarizer.embedding_model},
    }  # fmt: skip


def run_fanout(argv: list[str]) -> int:
    """Delegate to ``benchmarks.fanout.main`` (written separately); fail clearly without it."""
    try:
        fanout = importlib.import_module("benchmarks.fanout")
    except ModuleNotFoundError as e:
        if e.name != "benchmarks.fanout":
            raise
        print("error: the fan-out benchmark (benchmarks/fanout.py) is not installed in this "
              "checkout yet; update the repository and try again", file=sys.stderr)  # fmt: skip
        return 2
    result = fanout.main(argv)
    return int(result or 0)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = root.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="benchmark a running platform instead of starting one")
    common.add_argument("--profile", default="cpu", choices=["cpu", "gpu"])
    common.add_argument("--out", help="results directory (default benchmarks/results/<hw-id>)")
    common.add_argument("--lengths", type=float, nargs="+", help="latency meeting minutes")
    common.add_argument(
        "--long", action="store_true", help="add the 60-minute meeting and 8 uploads"
    )
    common.add_argument("--concurrency", type=int, nargs="+", help="concurrent uploads")
    common.add_argument("--repeats", type=int, default=1, help="runs per latency meeting")
    common.add_argument("--backends", nargs="+", help="diarization backends to compare")
    common.add_argument(
        "--meetings", nargs="+", help="accuracy meetings (name, name:minutes, name@pink10)"
    )
    common.add_argument(
        "--snr", type=float, nargs="+", help="also score each accuracy meeting at these SNRs (dB)"
    )
    common.add_argument("--noise", default="pink", choices=NOISE_COLOURS, help="noise for --snr")
    for name in SUITES:
        sub.add_parser(name, parents=[common], help=f"run the {name} benchmark(s)")
    fanout = sub.add_parser("fanout", help="WebSocket fan-out benchmark (own options)")
    fanout.add_argument("rest", nargs=argparse.REMAINDER)
    load = sub.add_parser("load", help="control-plane load benchmark (own options)")
    load.add_argument("rest", nargs=argparse.REMAINDER)
    abuse = sub.add_parser("abuse", help="abuse run against the real cluster (own options)")
    abuse.add_argument("rest", nargs=argparse.REMAINDER)
    long_upload = sub.add_parser("long-upload", help="long upload: memory, first window")
    long_upload.add_argument("rest", nargs=argparse.REMAINDER)
    cmp = sub.add_parser("compare", help="diff two result JSON files")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    return root


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fanout"]:  # its options are its own; pass them through untouched
        return run_fanout(argv[1:])
    if argv[:1] and argv[0] in OWN_OPTIONS:  # benchmarks that parse their own options
        module = importlib.import_module(OWN_OPTIONS[argv[0]])
        return int(module.main(argv[1:]) or 0)
    opts = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if opts.command == "compare":
        sys.stdout.write(compare(load_result(opts.a), load_result(opts.b)))
        return 0
    started = time.monotonic()
    path = run_suite(build_plan(opts.command, opts), opts)
    print(f"{opts.command}: wrote {path} in {time.monotonic() - started:.0f} s")
    return 0
