"""Tests that need a server or program this machine lacks: skipped on a developer's machine, failed in CI.

PostgreSQL, Redis, LibreOffice, Chromium, Ceph RGW, the compose binary: a test that needs one of them
skips with the reason when it is missing. With ``GONGWEN_REQUIRE_SERVERS=1`` (``.ci/run`` sets it) the
same test fails with the same reason instead, so a CI machine that lost one cannot pass by skipping.

    need(rgw_missing())                      # in a fixture or a test: None means it is there
    @needs(chromium_missing())               # instead of pytest.mark.skipif
    pytestmark = needs(rgw_missing())        # a whole module
    module("moto.server", "moto[server] is not installed")   # instead of pytest.importorskip

``needs`` is the ``needs`` marker; tests/conftest.py's ``pytest_runtest_setup`` calls ``need`` with it.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

REQUIRE_SERVERS = "GONGWEN_REQUIRE_SERVERS"


def required() -> bool:
    """Whether a missing server fails the test (CI) rather than skipping it."""
    return os.environ.get(REQUIRE_SERVERS) == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the running test for ``reason``, or fail it when servers are required."""
    if required():
        pytest.fail(f"{reason} ({REQUIRE_SERVERS}=1: this test must run here)", pytrace=False)
    pytest.skip(reason)


def need(reason: str | None) -> None:
    """Nothing when ``reason`` is None (the server is there), else ``unavailable(reason)``."""
    if reason is not None:
        unavailable(reason)


def needs(reason: str | None) -> pytest.MarkDecorator:
    """The marker form of ``need``, for a test or a module (``pytestmark``)."""
    return pytest.mark.needs(reason)


def module(name: str, reason: str) -> ModuleType:
    """``import name``, or ``unavailable(reason)`` when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(reason)
