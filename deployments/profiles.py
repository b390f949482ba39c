"""Serve config profiles (``configs/serve_<profile>.yaml``): loading and fail-fast validation."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from deployments.options import AppArgs

logger = logging.getLogger(__name__)
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


# ``ray_actor_options`` keys that are resource numbers (a runtime_env is not one).
RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory", "resources", "accelerator_type")


class ProfileError(Exception):
    """A profile that cannot be deployed; the message says what to fix."""


def available_profiles() -> list[str]:
    return sorted(p.stem.removeprefix("serve_") for p in CONFIG_DIR.glob("serve_*.yaml"))


def profile_path(profile: str) -> Path:
    path = CONFIG_DIR / f"serve_{profile}.yaml"
    if not path.is_file():
        known = ", ".join(available_profiles())
        raise ProfileError(f"unknown profile {profile!r}; choose one of: {known}")
    return path


def profile_resources(profile: str) -> dict[str, dict[str, Any]]:
    """Each deployment's resource numbers as its profile's Serve config states them.

    The YAML is the only place they are written (the ``@serve.deployment`` decorators carry
    none); the builder applies them so an app deployed without the YAML (``serve.run`` in
    tests and scripts) gets the same numbers. Empty when the config is not installed.
    """
    path = CONFIG_DIR / f"serve_{profile}.yaml"
    if not path.is_file():
        logger.warning("no %s: deployments get Serve's default resources", path)
        return {}
    config = yaml.safe_load(path.read_text())
    return {
        d["name"]: resource_options(d.get("ray_actor_options") or {})
        for app in config["applications"]
        for d in app.get("deployments", [])
    }


def resource_options(ray_actor_options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ray_actor_options.items() if k in RESOURCE_KEYS}


def load_config(path: Path) -> dict[str, Any]:
    """Parse and validate a Serve config: Serve's own schema, then each app's builder args."""
    from ray.serve.schema import ServeDeploySchema

    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ProfileError(f"{path}: malformed YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: expected a mapping at the top level")
    try:
        ServeDeploySchema.model_validate(raw)
    except ValidationError as e:
        raise ProfileError(f"{path}: not a valid Serve config:\n{e}") from e
    for app in raw["applications"]:
        validate_app_args(path, app.get("name", "?"), app.get("args") or {})
    return raw


def validate_app_args(path: Path, name: str, args: dict[str, Any]) -> AppArgs:
    try:
        return AppArgs.model_validate(args)
    except ValidationError as e:
        raise ProfileError(f"{path}: application {name!r} has invalid args:\n{e}") from e
