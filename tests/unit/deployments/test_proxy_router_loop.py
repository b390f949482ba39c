"""The proxy's router runs on the proxy's own loop: only in Serve's proxy actor, and never
against an operator's own ``RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP``."""

from __future__ import annotations

import pytest
from ray.serve._private import default_impl

from deployments import proxy_tuning


@pytest.mark.parametrize(
    ("in_proxy", "env", "wanted"),
    [(True, None, True), (False, None, False), (True, "1", False), (True, "0", False)],
)
def test_only_the_proxy_and_only_unless_the_operator_chose(
    monkeypatch: pytest.MonkeyPatch, in_proxy: bool, env: str | None, wanted: bool
) -> None:
    monkeypatch.setattr(proxy_tuning, "in_serve_proxy", lambda: in_proxy)
    if env is None:
        monkeypatch.delenv(proxy_tuning.ROUTER_LOOP_ENV, raising=False)
    else:
        monkeypatch.setenv(proxy_tuning.ROUTER_LOOP_ENV, env)
    assert proxy_tuning.callers_loop_wanted() is wanted


def test_outside_ray_this_is_no_proxy() -> None:
    assert proxy_tuning.in_serve_proxy() is False


def test_handles_built_afterwards_route_on_the_callers_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(default_impl, "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP", True)
    proxy_tuning.route_on_callers_loop()
    assert default_impl.RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP is False


@pytest.mark.parametrize(
    ("env", "where"),
    [(None, "proxy: its own loop"), ("1", "Serve's router thread"), ("0", "caller's loop")],
)
def test_results_can_say_where_routers_ran(
    monkeypatch: pytest.MonkeyPatch, env: str | None, where: str
) -> None:
    if env is None:
        monkeypatch.delenv(proxy_tuning.ROUTER_LOOP_ENV, raising=False)
    else:
        monkeypatch.setenv(proxy_tuning.ROUTER_LOOP_ENV, env)
    assert where in proxy_tuning.router_loops()
