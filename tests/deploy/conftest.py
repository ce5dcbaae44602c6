"""tests/deploy: the files in deploy/ and the production shape they describe."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: starts real servers and workers (deselect with -m 'not slow')")
