"""The KubeRay RayService manifest is generated, current, and deployable as far as we can check."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

import scripts.gen_kuberay
from deployments.run import PROXY_DEFAULTS

REPO_ROOT = Path(__file__).resolve().parents[3]
MANIFEST = REPO_ROOT / "deploy" / "kuberay" / "rayservice.yaml"
SERVE_GPU = REPO_ROOT / "configs" / "serve_gpu.yaml"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return scripts.gen_kuberay


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def test_committed_manifest_equals_generator_output(generator: ModuleType) -> None:
    assert MANIFEST.read_text() == generator.render(), (
        "deploy/kuberay/rayservice.yaml is stale: run python scripts/gen_kuberay.py"
    )


def test_check_mode_fails_on_a_stale_manifest(generator: ModuleType, tmp_path: Path) -> None:
    stale = tmp_path / "rayservice.yaml"
    stale.write_text(generator.render().replace("maxReplicas: 4", "maxReplicas: 5", 1))
    assert generator.main(["--check", "--output", str(stale)]) == 1
    assert generator.main(["--check", "--output", str(MANIFEST)]) == 0


def test_manifest_is_a_rayservice(manifest: dict[str, Any]) -> None:
    assert manifest["apiVersion"] == "ray.io/v1"
    assert manifest["kind"] == "RayService"
    assert manifest["metadata"]["name"] == "meetingserve"


def test_serve_config_is_the_gpu_profile_verbatim(manifest: dict[str, Any]) -> None:
    text = manifest["spec"]["serveConfigV2"]
    assert isinstance(text, str)
    assert text == SERVE_GPU.read_text()
    ServeDeploySchema.model_validate(yaml.safe_load(text))


def test_head_runs_no_replicas_and_workers_mirror_cluster_yaml(manifest: dict[str, Any]) -> None:
    cluster = yaml.safe_load((REPO_ROOT / "cluster.yaml").read_text())
    ray_cluster = manifest["spec"]["rayClusterConfig"]
    assert ray_cluster["rayVersion"] == "2.60.0"
    assert ray_cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    groups = {g["groupName"]: g for g in ray_cluster["workerGroupSpecs"]}
    assert sorted(groups) == ["gpu-a10g", "gpu-l40s"]
    for name, group in groups.items():
        node_type = cluster["available_node_types"][name.replace("-", ".")]
        assert group["minReplicas"] == node_type["min_workers"]
        assert group["maxReplicas"] == node_type["max_workers"]
        limits = group["template"]["spec"]["containers"][0]["resources"]["limits"]
        assert limits["nvidia.com/gpu"] == 1
        assert limits["cpu"] == str(node_type["resources"]["CPU"])


def test_every_pod_gets_settings_from_the_secret_and_the_proxy_switches(
    manifest: dict[str, Any],
) -> None:
    ray_cluster = manifest["spec"]["rayClusterConfig"]
    groups = [ray_cluster["headGroupSpec"], *ray_cluster["workerGroupSpecs"]]
    for group in groups:
        container = group["template"]["spec"]["containers"][0]
        assert container["envFrom"] == [{"secretRef": {"name": "meetingserve-env"}}]
        for name, value in PROXY_DEFAULTS.items():
            assert {"name": name, "value": value} in container["env"]
        assert group["rayStartParams"]["metrics-export-port"] == "8080"


def test_unknown_instance_type_is_a_clear_error(generator: ModuleType) -> None:
    with pytest.raises(generator.GeneratorError, match="INSTANCE_MEMORY_GI"):
        generator.memory_gi("p5.48xlarge")
