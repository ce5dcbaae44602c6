"""Fixtures of the 核发 tests: the seed notice 已归档 and the archive store its package is in."""

from __future__ import annotations

import pytest

from storage.archive.local import LocalArchiveStore
from tests.flows.dispatch_helpers import archived_notice


@pytest.fixture
def archived(db, kaifeng, notice, pins, tmp_path):
    return db, archived_notice(db, kaifeng, notice, pins, tmp_path / "archive")


@pytest.fixture
def store(tmp_path) -> LocalArchiveStore:
    """The archive store ``archived`` (and ``archived_notice``) put the package in: 核发 reads its files from there."""
    return LocalArchiveStore(tmp_path / "archive")
