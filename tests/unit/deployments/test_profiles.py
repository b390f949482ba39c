"""Bad configuration fails fast, with a message that says what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deployments import run
from deployments.options import AppArgs
from deployments.profiles import ProfileError, load_config, profile_path

CPU = Path(__file__).resolve().parents[3] / "configs" / "serve_cpu.yaml"


def write_profile(tmp_path: Path, mutate: object) -> Path:
    config = yaml.safe_load(CPU.read_text())
    mutate(config)  # type: ignore[operator]
    path = tmp_path / "serve_x.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_shipped_profiles_validate() -> None:
    for profile in ("cpu", "gpu"):
        config = load_config(profile_path(profile))
        assert config["applications"][0]["import_path"] == "deployments.builder:build_app"


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'laptop'; choose one of: cpu, "):
        profile_path("laptop")


def test_cli_exits_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--profile", "laptop", "--check"]) == 2
    assert "error: unknown profile 'laptop'" in capsys.readouterr().err
    assert run.main(["--profile", "cpu", "--check"]) == 0


def test_malformed_yaml(tmp_path: Path) -> None:
    path = tmp_path / "serve_bad.yaml"
    path.write_text("applications:\n  - name: x\n    args: {unclosed\n")
    with pytest.raises(ProfileError, match="malformed YAML"):
        load_config(path)


def test_missing_model_path(tmp_path: Path) -> None:
    def mutate(config: dict) -> None:  # type: ignore[type-arg]
        config["applications"][0]["args"]["transcriber"]["model"] = "/nowhere/whisper-large"

    with pytest.raises(ProfileError, match=r"model path '/nowhere/whisper-large' does not exist"):
        load_config(write_profile(tmp_path, mutate))


def test_unknown_packaged_model_and_unknown_key(tmp_path: Path) -> None:
    def packaged(config: dict) -> None:  # type: ignore[type-arg]
        config["applications"][0]["args"]["transcriber"]["model"] = "packaged:huge"

    with pytest.raises(ProfileError, match=r"unknown packaged model 'huge'; known: "):
        load_config(write_profile(tmp_path, packaged))

    def typo(config: dict) -> None:  # type: ignore[type-arg]
        config["applications"][0]["args"]["transcriber"]["modle"] = "tiny"

    with pytest.raises(ProfileError, match="modle"):
        load_config(write_profile(tmp_path, typo))


def test_serve_schema_errors_are_reported(tmp_path: Path) -> None:
    def bad(config: dict) -> None:  # type: ignore[type-arg]
        config["applications"][0]["deployments"][0]["num_replicas"] = "many"

    with pytest.raises(ProfileError, match="not a valid Serve config"):
        load_config(write_profile(tmp_path, bad))


def test_window_bounds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="window_min_s <= window_target_s <= window_max_s"):
        AppArgs.model_validate({"processor": {"window_target_s": 60, "window_max_s": 45}})


def test_the_banner_names_the_ingress_path_it_starts() -> None:
    http = {"host": "127.0.0.1", "port": 8000}
    plain = run.banner("cpu", "configs/serve_cpu.yaml", http, direct_ingress=False)
    direct = run.banner("cpu", "configs/serve_cpu.yaml", http, direct_ingress=True)
    assert "web app:        http://127.0.0.1:8000/" in plain and "direct ingress" not in plain
    assert f"direct ingress: http://127.0.0.1:{run.DIRECT_INGRESS_FIRST_PORT}/" in direct
    haproxy = run.banner("cpu", "configs/serve_cpu.yaml", http, direct_ingress=False, haproxy=True)
    assert "Serve's HAProxy on the port above" in haproxy and "direct ingress" not in haproxy


def test_haproxy_turns_on_the_direct_ingress_it_routes_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(run.DRAIN_ENV, raising=False)
    for name in run.PROXY_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    proxy = {
        run.PROXY_CALLBACK_ENV: run.PROXY_CALLBACK,
        run.PROXY_GRPC_ENV: "1",
        run.GRPC_MESSAGE_ENV: run.GRPC_MESSAGE_BYTES,
    }
    assert run.ingress_env(direct_ingress=False, haproxy=False) == proxy
    direct = {**proxy, run.DIRECT_INGRESS_ENV: "1", run.DRAIN_ENV: run.LOCAL_DRAIN_S}
    assert run.ingress_env(direct_ingress=True, haproxy=False) == direct
    both = run.ingress_env(direct_ingress=False, haproxy=True)
    assert {k: both[k] for k in direct} == direct and both[run.HAPROXY_ENV] == "1"


def test_the_operator_can_turn_the_proxys_grpc_channel_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(run.PROXY_GRPC_ENV, "0")
    assert run.ingress_env(direct_ingress=False, haproxy=False)[run.PROXY_GRPC_ENV] == "0"


def test_a_drain_period_set_by_the_operator_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(run.DRAIN_ENV, "30")
    assert run.ingress_env(direct_ingress=False, haproxy=True)[run.DRAIN_ENV] == "30"
