"""A developer's gongwen and Prefect settings do not reach the tests; the test suite's own do (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gongwen.settings import load_settings
from tests.conftest import ROOT, TEST_SUITE_SETTINGS, developer_settings
from tests.deploy.test_compose_file import setting_variables

SEEN = "test-suite settings seen: "
LEAKED = {
    "GONGWEN_DATABASE_URL": "postgresql+psycopg://developer@db.example.invalid/gongwen",
    "GONGWEN_ARCHIVE": "s3",
    "GONGWEN_MAIL": "smtp",
    "PREFECT_API_URL": "http://127.0.0.1:9/api",
    "PREFECT_HOME": "/nonexistent/prefect-home",
}


def test_developer_settings_are_every_gongwen_and_prefect_variable_but_the_suites_own():
    environ = {
        "GONGWEN_ARCHIVE": "s3",
        "PREFECT_API_URL": "http://127.0.0.1:9/api",
        "GONGWEN_TEST_POSTGRES": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "GONGWEN_REQUIRE_SERVERS": "1",
        "GONGWENX": "not a setting",
        "HOME": "/root",
    }
    assert developer_settings(environ) == ["GONGWEN_ARCHIVE", "PREFECT_API_URL"]


def test_no_setting_of_the_test_suite_is_one_gongwen_reads():
    assert TEST_SUITE_SETTINGS & setting_variables() == set()


def test_no_developer_setting_reaches_a_test():
    """Run alone by the test below with a developer's settings in the environment."""
    from prefect.settings import get_current_settings

    assert developer_settings(os.environ) == []
    settings = load_settings()
    assert (settings.database_url, settings.archive, settings.mail, settings.prefect_api_url) == (
        None,
        "local",
        "outbox",
        None,
    )
    assert get_current_settings().api.url != LEAKED["PREFECT_API_URL"]
    print(SEEN + json.dumps({name: os.environ[name] for name in sorted(TEST_SUITE_SETTINGS & set(os.environ))}))


def test_a_developers_settings_in_the_environment_do_not_reach_the_tests():
    kept = {"GONGWEN_LOAD_DOCUMENTS": "7", "GONGWEN_CRASH_SEED": "361380923"}
    environ = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            f"{Path(__file__).relative_to(ROOT)}::test_no_developer_setting_reaches_a_test",
        ],
        cwd=ROOT,
        env=environ | LEAKED | kept,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [seen] = [line.split(SEEN, 1)[1] for line in result.stdout.splitlines() if SEEN in line]
    assert json.loads(seen).items() >= kept.items()


@pytest.fixture(scope="module")
def left_by_earlier_code() -> Iterator[None]:
    """What ``gongwen server`` run in-process leaves in os.environ, set before the test's own fixtures."""
    os.environ["GONGWEN_ARCHIVE"] = "s3"
    os.environ["PREFECT_API_URL"] = LEAKED["PREFECT_API_URL"]
    yield
    del os.environ["GONGWEN_ARCHIVE"], os.environ["PREFECT_API_URL"]


def test_a_setting_left_in_the_process_is_removed_for_each_test(left_by_earlier_code):
    assert developer_settings(os.environ) == []
    assert load_settings().archive == "local"


def test_a_tests_own_fixture_sets_what_it_needs(left_by_earlier_code, monkeypatch):
    monkeypatch.setenv("GONGWEN_ARCHIVE", "s3")
    assert developer_settings(os.environ) == ["GONGWEN_ARCHIVE"]
    assert load_settings().archive == "s3"
