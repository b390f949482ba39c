"""Resource numbers have one source, the profiles' Serve YAML: every deployment of every profile
states its own, no ``@serve.deployment`` decorator carries any, and an app built in code (as
tests and scripts deploy it, without the YAML) gets the profile's numbers. No Ray is started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ray.serve._private.build_app import build_app as build_deployments

from deployments import diarizer, ingress, instant_models, processor, summarizer, transcriber
from deployments.builder import as_deployment, build_app, compose_app
from deployments.options import AppArgs, TranscriberArgs
from deployments.profiles import (
    CONFIG_DIR,
    RESOURCE_KEYS,
    available_profiles,
    load_config,
    profile_path,
    profile_resources,
)

DEPLOYMENT_CLASSES = [
    diarizer.Diarizer,
    ingress.Ingress,
    instant_models.InstantDiarizer,
    instant_models.InstantSummarizer,
    instant_models.InstantTranscriber,
    processor.Processor,
    summarizer.Summarizer,
    transcriber.Transcriber,
]


def yaml_deployments(profile: str) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((CONFIG_DIR / f"serve_{profile}.yaml").read_text())
    [app] = config["applications"]
    return {d["name"]: d for d in app["deployments"]}


def built_resources(
    args: AppArgs, options: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Each deployment's resource options in the app the builder makes (Ray not started)."""
    built = build_deployments(compose_app(args, options or {}), name="meetingserve")
    return {
        d.name: {k: v for k, v in d.ray_actor_options.items() if k in RESOURCE_KEYS}
        for d in built.deployments
    }


def test_every_profile_is_checked() -> None:
    assert {"cpu", "cpu_pyannote", "gpu", "load"} <= set(available_profiles())


@pytest.mark.parametrize("profile", available_profiles())
def test_every_deployment_of_every_profile_states_its_resources(profile: str) -> None:
    for name, deployment in yaml_deployments(profile).items():
        options = deployment.get("ray_actor_options") or {}
        assert isinstance(options.get("num_cpus"), int | float), f"{profile}: {name}"
        if profile.startswith("gpu") and name not in {"Ingress", "Processor"}:
            assert options.get("num_gpus", 0) > 0, f"{profile}: {name} needs its GPU share"


@pytest.mark.parametrize("cls", DEPLOYMENT_CLASSES, ids=lambda c: as_deployment(c).name)
def test_no_decorator_carries_resource_numbers(cls: object) -> None:
    configured = as_deployment(cls)._deployment_config.user_configured_option_names
    assert "ray_actor_options" not in configured


@pytest.mark.parametrize("profile", ["cpu", "gpu", "load"])
def test_an_app_built_in_code_gets_its_profiles_numbers(profile: str) -> None:
    config = load_config(profile_path(profile))
    args = AppArgs.model_validate(config["applications"][0]["args"])
    assert built_resources(args) == profile_resources(profile)


def test_the_integration_suites_app_fits_its_four_logical_cpus() -> None:
    # tests/integration/conftest.py: ray.init(num_cpus=4) and the CPU profile's two Transcribers
    args = AppArgs(multilingual=TranscriberArgs(model="packaged:base", language=None))
    built = built_resources(args)
    assert set(built) == set(yaml_deployments("cpu"))
    assert sum(r["num_cpus"] for r in built.values()) <= 4


def test_options_given_in_code_apply_on_top_of_the_profile() -> None:
    runtime_env = {"py_executable": "/opt/venv/bin/python"}
    override = {"Diarizer": {"ray_actor_options": {"num_cpus": 0.75, "runtime_env": runtime_env}}}
    built = build_deployments(compose_app(AppArgs(), override), name="meetingserve")
    [diarizer_app] = [d for d in built.deployments if d.name == "Diarizer"]
    assert diarizer_app.ray_actor_options["num_cpus"] == 0.75
    assert diarizer_app.ray_actor_options["runtime_env"] == runtime_env


def test_without_the_yaml_serve_defaults_apply(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("deployments.profiles.CONFIG_DIR", tmp_path)
    assert profile_resources("cpu") == {}
    built = build_deployments(build_app(AppArgs()), name="meetingserve")
    assert {d.ray_actor_options["num_cpus"] for d in built.deployments} == {1}  # Serve's own


def test_a_runtime_env_set_on_the_deployment_in_code_survives_the_profiles_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # tests/integration/test_hub_shards.py redeploys the Processor with its own env vars.
    import deployments.builder as builder

    env = {"env_vars": {"MEETING_HUB_SHARDS": "2"}}
    decorated = as_deployment(builder.Processor)
    with_env = decorated.options(
        ray_actor_options={**decorated.ray_actor_options, "runtime_env": env}
    )
    monkeypatch.setattr(builder, "Processor", with_env)
    built = build_deployments(build_app(AppArgs()), name="meetingserve")
    [processor_app] = [d for d in built.deployments if d.name == "Processor"]
    assert processor_app.ray_actor_options["runtime_env"] == env
    assert (
        processor_app.ray_actor_options["num_cpus"]
        == profile_resources("cpu")["Processor"]["num_cpus"]
    )
