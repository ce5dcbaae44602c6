"""A missing server skips its test on a developer's machine and fails it in CI (tests/servers/requirements.py)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import pytest_runtest_setup
from tests.servers.requirements import REQUIRE_SERVERS, module, need, needs, unavailable

REASON = "Ceph RGW not installed (radosgw missing)"


@pytest.fixture(params=[None, "", "0", "yes"])
def developer(request, monkeypatch):
    """A developer's machine: GONGWEN_REQUIRE_SERVERS unset, or set to anything but 1."""
    if request.param is None:
        monkeypatch.delenv(REQUIRE_SERVERS, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_SERVERS, request.param)


@pytest.fixture
def ci(monkeypatch):
    monkeypatch.setenv(REQUIRE_SERVERS, "1")


def test_on_a_developers_machine_a_missing_server_skips(developer):
    with pytest.raises(pytest.skip.Exception, match="^Ceph RGW not installed"):
        unavailable(REASON)
    with pytest.raises(pytest.skip.Exception, match="^Ceph RGW not installed"):
        need(REASON)


def test_in_ci_a_missing_server_fails_with_the_same_reason(ci):
    with pytest.raises(pytest.fail.Exception) as failed:
        need(REASON)
    assert str(failed.value).startswith(REASON) and f"{REQUIRE_SERVERS}=1" in str(failed.value)
    assert not failed.value.pytrace


@pytest.mark.parametrize("required", [None, "1"])
def test_a_server_that_is_there_neither_skips_nor_fails(required, monkeypatch):
    monkeypatch.delenv(REQUIRE_SERVERS, raising=False)
    if required:
        monkeypatch.setenv(REQUIRE_SERVERS, required)
    assert need(None) is None
    assert module("json", "never") is json


def test_a_missing_module_skips_or_fails(developer, monkeypatch):
    with pytest.raises(pytest.skip.Exception, match="moto"):
        module("gongwen_no_such_module", "moto[server] is not installed")
    monkeypatch.setenv(REQUIRE_SERVERS, "1")
    with pytest.raises(pytest.fail.Exception, match="moto"):
        module("gongwen_no_such_module", "moto[server] is not installed")


def test_the_needs_marker_is_applied_before_the_test_runs(request, monkeypatch):
    """The marker form, as tests/conftest.py's hook sees it on a test (or on its module)."""
    request.node.add_marker(needs(None))
    monkeypatch.delenv(REQUIRE_SERVERS, raising=False)
    pytest_runtest_setup(request.node)  # None: nothing missing
    request.node.add_marker(needs(REASON))
    with pytest.raises(pytest.skip.Exception, match="^Ceph RGW"):
        pytest_runtest_setup(request.node)
    monkeypatch.setenv(REQUIRE_SERVERS, "1")
    with pytest.raises(pytest.fail.Exception, match="^Ceph RGW"):
        pytest_runtest_setup(request.node)
