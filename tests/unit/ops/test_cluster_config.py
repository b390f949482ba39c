"""cluster.yaml against Ray's own cluster-launcher validation (what `ray up` runs first)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

REPO_ROOT = Path(__file__).resolve().parents[3]
CLUSTER_YAML = REPO_ROOT / "cluster.yaml"
KEY_LINE = re.compile(r"^\s*(?:- )?[A-Za-z_][\w./-]*:(?:\s|$)")


def load_cluster() -> dict[str, Any]:
    return yaml.safe_load(CLUSTER_YAML.read_text())


def validated(config: dict[str, Any]) -> dict[str, Any]:
    """What `ray up` does before touching the cloud: fill defaults, then validate."""
    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    return prepared


def test_cluster_yaml_passes_rays_validation() -> None:
    prepared = validated(load_cluster())
    assert prepared["provider"]["type"] == "aws"
    assert prepared["head_node_type"] == "head.cpu"


def test_rays_validation_rejects_an_unknown_key() -> None:
    config = load_cluster()
    config["max_worker"] = 3  # typo of max_workers
    with pytest.raises(jsonschema.ValidationError):
        validated(config)


def test_min_workers_above_the_global_max_is_rejected() -> None:
    config = load_cluster()
    config["available_node_types"]["gpu.a10g"]["min_workers"] = config["max_workers"] + 1
    with pytest.raises(ValueError, match="max_workers"):
        validated(config)


def test_head_runs_no_replicas() -> None:
    config = load_cluster()
    head = config["available_node_types"][config["head_node_type"]]
    assert head["resources"] == {"CPU": 0}
    start = " ".join(config["head_start_ray_commands"])
    assert "ray start --head" in start
    assert "--num-cpus=0" in start


def test_gpu_worker_types_have_one_gpu_and_bounds() -> None:
    config = load_cluster()
    workers = {
        name: spec
        for name, spec in config["available_node_types"].items()
        if name != config["head_node_type"]
    }
    assert sorted(workers) == ["gpu.a10g", "gpu.l40s"]
    for spec in workers.values():
        assert spec["resources"]["GPU"] == 1
        assert 0 <= spec["min_workers"] <= spec["max_workers"] <= config["max_workers"]
    assert workers["gpu.a10g"]["min_workers"] == 1  # the app can start without scaling up


def test_setup_installs_gpu_extras_and_pyannote_venv_then_deploys_the_gpu_profile() -> None:
    config = load_cluster()
    setup = "\n".join(config["setup_commands"])
    assert 'pip install -q -e ".[gpu]"' in setup
    assert "make pyannote-venv" in setup
    assert config["head_start_ray_commands"][-1].endswith("serve deploy configs/serve_gpu.yaml")
    assert config["file_mounts"]["/home/ray/meetingserve"] == "."


def test_workers_export_metrics_on_the_same_fixed_port_as_the_head() -> None:
    config = load_cluster()
    for commands in (config["head_start_ray_commands"], config["worker_start_ray_commands"]):
        assert "--metrics-export-port=8080" in " ".join(commands)


def test_every_node_starts_ray_with_the_proxy_hook_and_grpc() -> None:
    """Serve reads these variables once, in each node's proxy, from Ray's environment."""
    from deployments.run import PROXY_DEFAULTS

    config = load_cluster()
    for commands in (config["head_start_ray_commands"], config["worker_start_ray_commands"]):
        start = next(c for c in commands if "ray start" in c)
        environment = start.split(" ray start")[0]
        for name, value in PROXY_DEFAULTS.items():
            assert f"{name}=${{{name}:-{value}}}" in environment, start


def uncommented_keys(text: str) -> list[str]:
    """Mapping keys whose previous non-blank line is not a comment."""
    missing, previous = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if KEY_LINE.match(line) and not previous.startswith("#"):
            missing.append(stripped)
        previous = stripped
    return missing


def test_every_key_has_a_comment_above_it() -> None:
    assert uncommented_keys(CLUSTER_YAML.read_text()) == []


def test_comment_check_finds_a_bare_key() -> None:
    assert uncommented_keys("# ok\na: 1\nb: 2\n  # ok\n  c: 3\n- d: 4\n") == ["b: 2", "- d: 4"]
