"""The archive store contract, run against every implementation.

Write once, versions kept, retention and legal hold enforced, metadata
(Chinese included) round-trips. Stores: the local folder, moto's S3 server over
HTTP (proves the protocol), Ceph RGW (proves the guarantees; skipped with the
reason when its Debian packages are missing) and a real MinIO when
GONGWEN_TEST_S3_ENDPOINT, GONGWEN_TEST_S3_ACCESS_KEY and GONGWEN_TEST_S3_SECRET_KEY
are set. Each test gets a fresh bucket on the S3 stores.

The server fixtures (``moto_server``, ``rgw_server``) are in conftest.py; each
server starts once per session.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from models.errors import ArchiveLocked, NotFound
from storage.archive.base import Lock
from storage.archive.local import LocalArchiveStore
from tests.storage.archive.s3_servers import fresh_store, minio_endpoint


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


STORES = ["local", "moto", "rgw"] + (["minio"] if minio_endpoint() else [])


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    if request.param == "local":
        return LocalArchiveStore(tmp_path / "archive")
    if request.param == "minio":
        return fresh_store(minio_endpoint())
    return fresh_store(request.getfixturevalue(f"{request.param}_server"))


LONG = Lock("COMPLIANCE", _utc(86400 * 365))


def test_put_then_get_and_stat(store):
    stored = store.put(
        "J001/2022/D30/a/document.pdf", b"%PDF-1.7 data", metadata={"title": "关于印发方案的通知"}, lock=LONG
    )
    assert store.get("J001/2022/D30/a/document.pdf") == b"%PDF-1.7 data"
    assert store.get("J001/2022/D30/a/document.pdf", stored.version_id) == b"%PDF-1.7 data"
    info = store.stat("J001/2022/D30/a/document.pdf", stored.version_id)
    assert info.metadata["title"] == "关于印发方案的通知"
    assert info.size == len(b"%PDF-1.7 data")
    assert info.lock.mode == "COMPLIANCE" and info.lock.until >= LONG.until - dt.timedelta(seconds=1)


def test_putting_an_existing_key_keeps_the_old_version(store):
    first = store.put("k/file", b"one", metadata={}, lock=LONG)
    second = store.put("k/file", b"two", metadata={}, lock=LONG)
    assert first.version_id != second.version_id
    assert store.get("k/file") == b"two"
    assert store.get("k/file", first.version_id) == b"one"
    assert [v.version_id for v in store.versions("k/")] == [first.version_id, second.version_id]


def test_a_version_under_retention_cannot_be_deleted(store):
    stored = store.put("k/locked", b"x", metadata={}, lock=LONG)
    with pytest.raises(ArchiveLocked):
        store.delete("k/locked", stored.version_id)
    assert store.get("k/locked", stored.version_id) == b"x"


def test_legal_hold_blocks_deletion_even_after_retention(store):
    stored = store.put("k/held", b"x", metadata={}, lock=Lock("COMPLIANCE", _utc(1), legal_hold=True))
    time.sleep(1.5)
    with pytest.raises(ArchiveLocked, match="法律保留"):
        store.delete("k/held", stored.version_id)


def test_a_version_can_be_deleted_once_retention_has_ended(store):
    stored = store.put("k/short", b"x", metadata={}, lock=Lock("COMPLIANCE", _utc(1)))
    time.sleep(1.5)
    store.delete("k/short", stored.version_id)
    with pytest.raises(NotFound):
        store.get("k/short", stored.version_id)


def test_missing_keys_and_versions_are_not_found(store):
    with pytest.raises(NotFound):
        store.get("no/such/key")
    stored = store.put("k/one", b"x", metadata={}, lock=LONG)
    with pytest.raises(NotFound):
        store.stat("k/one", "0" + stored.version_id[1:] if stored.version_id[0] != "0" else "1" + stored.version_id[1:])


def test_versions_lists_only_the_prefix(store):
    store.put("a/b/1", b"1", metadata={}, lock=LONG)
    store.put("a/c/1", b"2", metadata={}, lock=LONG)
    assert [v.key for v in store.versions("a/b/")] == ["a/b/1"]
