"""The cpu, gpu and load profiles against Serve's schema, the builder's args and the GPU budget."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from ray.serve._private.build_app import build_app as build_deployments
from ray.serve.schema import ServeDeploySchema

from deployments import diarizer, instant_models, summarizer, transcriber
from deployments.builder import build_app
from deployments.options import AppArgs
from deployments.profiles import ProfileError, load_config, profile_path

REPO_ROOT = Path(__file__).resolve().parents[3]


def builder_deployments(profile: str | None = None) -> dict[str, Any]:
    """Name -> class of every deployment the builder's graph contains (no Ray needed), built
    with the profile's own args (the CPU profile adds a second Transcriber deployment)."""
    args = AppArgs()
    if profile is not None:
        config = load_config(profile_path(profile))
        args = AppArgs.model_validate(config["applications"][0]["args"])
    built = build_deployments(build_app(args), name="meetingserve")
    return {d.name: d.func_or_class for d in built.deployments}


def start_replicas(deployment: dict[str, Any]) -> int:
    """Replicas Serve starts with: num_replicas, else autoscaling initial/min replicas."""
    if isinstance(deployment.get("num_replicas"), int):
        return int(deployment["num_replicas"])
    autoscaling = deployment.get("autoscaling_config") or {}
    initial = autoscaling.get("initial_replicas")
    return int(initial if initial is not None else autoscaling.get("min_replicas", 1))


def single_node_usage(config: dict[str, Any], resource: str) -> float:
    """``resource`` (num_gpus / num_cpus) that one replica set of every deployment needs."""
    total = 0.0
    for app in config["applications"]:
        for deployment in app.get("deployments", []):
            options = deployment.get("ray_actor_options") or {}
            total += float(options.get(resource, 0)) * start_replicas(deployment)
    return round(total, 6)


def deployments_of(profile: str) -> dict[str, dict[str, Any]]:
    config = load_config(profile_path(profile))
    return {d["name"]: d for d in config["applications"][0]["deployments"]}


@pytest.mark.parametrize("profile", ["cpu", "gpu", "load"])
def test_profile_passes_serve_schema_and_builder_args(profile: str) -> None:
    config = load_config(profile_path(profile))  # ServeDeploySchema + AppArgs, raises otherwise
    ServeDeploySchema.model_validate(config)
    args = AppArgs.model_validate(config["applications"][0]["args"])
    assert args.profile == profile


@pytest.mark.parametrize("profile", ["cpu", "gpu", "load"])
def test_profile_names_only_deployments_the_builder_creates(profile: str) -> None:
    # Serve refuses a config naming a deployment the app lacks, but only at deploy time.
    assert set(deployments_of(profile)) == set(builder_deployments(profile))


@pytest.mark.parametrize("profile", ["cpu", "gpu", "load"])
def test_user_config_only_where_the_deployment_can_reconfigure(profile: str) -> None:
    # Serve refuses user_config on a class without reconfigure(), at deploy time only.
    classes = builder_deployments(profile)
    for name, deployment in deployments_of(profile).items():
        if "user_config" in deployment:
            assert hasattr(classes[name], "reconfigure"), name


def test_gpu_fractions_fit_one_gpu_for_a_single_node_start() -> None:
    config = load_config(profile_path("gpu"))
    assert single_node_usage(config, "num_gpus") == 0.95
    assert single_node_usage(config, "num_gpus") <= 1.0


def test_gpu_profile_fits_the_smallest_gpu_worker_of_cluster_yaml() -> None:
    config = load_config(profile_path("gpu"))
    cluster = yaml.safe_load((REPO_ROOT / "cluster.yaml").read_text())
    workers = [
        spec["resources"]
        for name, spec in cluster["available_node_types"].items()
        if name != cluster["head_node_type"]
    ]
    assert single_node_usage(config, "num_cpus") <= min(w["CPU"] for w in workers)
    assert single_node_usage(config, "num_gpus") <= min(w["GPU"] for w in workers)


def test_each_model_deployment_gets_a_gpu_share_and_ingress_none() -> None:
    gpus = {
        name: (d.get("ray_actor_options") or {}).get("num_gpus", 0)
        for name, d in deployments_of("gpu").items()
    }
    assert gpus == {
        "Ingress": 0,
        "Processor": 0,
        "Transcriber": 0.3,
        "Diarizer": 0.1,
        "Summarizer": 0.55,
    }


def test_load_profile_deploys_the_instant_models_under_the_model_names() -> None:
    classes = builder_deployments("load")
    assert {name: cls.__name__ for name, cls in classes.items() if name != "Ingress"} == {
        "Transcriber": "InstantTranscriber",
        "Diarizer": "InstantDiarizer",
        "Summarizer": "InstantSummarizer",
        "Processor": "Processor",
    }
    assert single_node_usage(load_config(profile_path("load")), "num_gpus") == 0


def test_cpu_profile_uses_no_gpu() -> None:
    assert single_node_usage(load_config(profile_path("cpu")), "num_gpus") == 0


def test_budget_arithmetic_counts_start_replicas() -> None:
    config = {
        "applications": [
            {
                "deployments": [
                    {"name": "A", "num_replicas": 2, "ray_actor_options": {"num_gpus": 0.4}},
                    {
                        "name": "B",
                        "autoscaling_config": {"min_replicas": 1, "max_replicas": 9},
                        "ray_actor_options": {"num_gpus": 0.25},
                    },
                ]
            }
        ]
    }
    assert single_node_usage(config, "num_gpus") == 1.05


def test_invalid_gpu_profile_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(profile_path("gpu").read_text())
    broken = copy.deepcopy(raw)
    broken["applications"][0]["args"]["summarizer"]["engine"] = "nonexistent"
    path = tmp_path / "serve_broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(ProfileError, match="invalid args"):
        load_config(path)


def test_gpu_profile_vllm_share_fits_inside_its_replica_fraction() -> None:
    """vLLM pre-allocates gpu_memory_utilization of the whole GPU: it must not exceed the
    Summarizer's num_gpus, or it eats the memory promised to the other deployments."""
    config = load_config(profile_path("gpu"))
    app = config["applications"][0]
    summarizer = app["args"]["summarizer"]
    [deployment] = [d for d in app["deployments"] if d["name"] == "Summarizer"]
    share = deployment["ray_actor_options"]["num_gpus"]
    assert summarizer["engine"] == "vllm"
    assert 0 < summarizer["gpu_memory_utilization"] <= share


@pytest.mark.parametrize(
    ("real", "stand_in"),
    [
        (transcriber.Transcriber, instant_models.InstantTranscriber),
        (diarizer.Diarizer, instant_models.InstantDiarizer),
        (summarizer.Summarizer, instant_models.InstantSummarizer),
    ],
)
def test_the_load_profiles_stand_ins_answer_every_call_of_the_real_models(
    real: Any, stand_in: Any
) -> None:
    def public_calls(deployment: Any) -> set[str]:
        cls = deployment.func_or_class
        return {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}

    assert public_calls(real) - {"check_health"} <= public_calls(stand_in)
