"""归档 and 四性检测 on Ceph RGW: the scenarios of test_archiving.py against a real S3 server.

What the local store fakes, RGW does for real here: COMPLIANCE retention and legal
hold (永久) set by the server, versions and delete markers the 安全性 check must
see, and an outage of the gateway in the middle of archiving.
"""

from __future__ import annotations

import pytest

from models.archive_package import LATEST_LOCK
from models.errors import ArchiveLocked, ServiceUnavailable
from models.vocabulary import Retention
from storage import archiving, documents
from storage.archive.s3 import S3ArchiveStore
from tests.servers.rgw import RgwServer
from tests.storage.archive.files import pdf_with
from tests.storage.archive.helpers import failed, printed_document, verify
from tests.storage.archive.s3_servers import fresh_store
from tests.storage.helpers import load

PACKAGE = ["audit-trail.json", "document.docx", "document.pdf", "manifest.json", "metadata.json"]


@pytest.fixture
def on_rgw(db, kaifeng, notice, pins, rgw_server: RgwServer):
    load(db, kaifeng)
    return db, fresh_store(rgw_server), printed_document(db, notice, pins)


def state_and_record(db, document_id: int):
    with db.transaction() as session:
        return documents.get(session, document_id=document_id).state, archiving.find_record(
            session, document_id=document_id
        )


def test_archiving_on_rgw_makes_one_verified_package(on_rgw) -> None:
    db, store, document_id = on_rgw
    record = archiving.archive(db, store, document_id=document_id, store_name="s3")
    assert record.prefix == "J001/2022/D30/J001-WS·2022-D30-0001"
    stored = store.versions(record.prefix + "/")
    assert sorted(v.key.rsplit("/", 1)[1] for v in stored) == PACKAGE
    assert {(v.key.rsplit("/", 1)[1], v.version_id) for v in stored} == set(record.versions.items())
    for version in stored:
        assert version.lock.mode == "COMPLIANCE" and not version.lock.legal_hold
        assert version.lock.until.year == record.archived_at.year + 30
        assert version.metadata["archive_code"] == "J001-WS·2022-D30-0001" and version.metadata["retention"] == "30年"
    checks = verify(db, store, document_id)
    assert failed(checks) == []
    assert {c.property for c in checks} == {"真实性", "完整性", "可用性", "安全性"}
    assert state_and_record(db, document_id)[0] == "archived"

    again = archiving.archive(db, store, document_id=document_id, store_name="s3")
    assert again.versions == record.versions
    assert len(store.versions(record.prefix + "/")) == 5
    with pytest.raises(ArchiveLocked):  # refused by RGW itself
        store.delete(f"{record.prefix}/document.pdf", record.versions["document.pdf"])


def test_permanent_retention_is_a_legal_hold_on_the_longest_lock_rgw_keeps(
    db, kaifeng, notice, pins, rgw_server
) -> None:
    load(db, kaifeng)
    store = fresh_store(rgw_server)
    document_id = printed_document(db, notice.model_copy(update={"retention": Retention.PERMANENT}), pins)
    record = archiving.archive(db, store, document_id=document_id, store_name="s3")
    assert record.archive_code == "J001-WS·2022-Y-0001"
    for name, version_id in record.versions.items():
        lock = store.stat(f"{record.prefix}/{name}", version_id).lock
        assert (lock.mode, lock.until, lock.legal_hold) == ("COMPLIANCE", LATEST_LOCK, True)
    assert failed(verify(db, store, document_id)) == []


def test_a_new_version_over_an_archived_key_is_caught(on_rgw) -> None:
    db, store, document_id = on_rgw
    record = archiving.archive(db, store, document_id=document_id, store_name="s3")
    key = f"{record.prefix}/document.pdf"
    store.put(key, pdf_with("forged"), metadata={}, lock=store.stat(key).lock)
    assert failed(verify(db, store, document_id)) == ["无意外版本"]


def test_a_delete_marker_over_an_archived_key_is_caught(on_rgw) -> None:
    """S3 accepts a delete without version id even under COMPLIANCE: it hides the key."""
    db, store, document_id = on_rgw
    record = archiving.archive(db, store, document_id=document_id, store_name="s3")
    store.client.remove_object(store.bucket, f"{record.prefix}/document.docx")
    assert failed(verify(db, store, document_id)) == ["无意外版本"]


class GatewayStopsAfter:
    """The RGW store, whose gateway really stops after ``puts`` successful puts."""

    def __init__(self, inner: S3ArchiveStore, rgw: RgwServer, puts: int) -> None:
        self.inner, self.rgw, self.puts = inner, rgw, puts

    def put(self, key, data, *, metadata, lock):
        if self.puts == 0:
            self.rgw.stop_gateway()
        self.puts -= 1
        return self.inner.put(key, data, metadata=metadata, lock=lock)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_gateway_down_before_archiving_leaves_the_document_printed(on_rgw, rgw_server: RgwServer) -> None:
    db, store, document_id = on_rgw
    rgw_server.stop_gateway()
    try:
        with pytest.raises(ServiceUnavailable, match="无法连接"):
            archiving.archive(db, store, document_id=document_id, store_name="s3")
    finally:
        rgw_server.start_gateway()
    assert state_and_record(db, document_id) == ("printed", None)
    record = archiving.archive(db, store, document_id=document_id, store_name="s3")
    assert record.item_no == 1
    assert failed(verify(db, store, document_id)) == []


def test_a_gateway_lost_mid_package_then_back_completes_without_extra_versions(on_rgw, rgw_server) -> None:
    db, store, document_id = on_rgw
    try:
        with pytest.raises(ServiceUnavailable):
            archiving.archive(
                db, GatewayStopsAfter(store, rgw_server, puts=2), document_id=document_id, store_name="s3"
            )
    finally:
        rgw_server.start_gateway()
    assert state_and_record(db, document_id) == ("printed", None)
    prefix = "J001/2022/D30/J001-WS·2022-D30-0001/"
    left = store.versions(prefix)
    assert len(left) == 2  # what the failed attempt stored stays, locked

    record = archiving.archive(db, store, document_id=document_id, store_name="s3")
    assert record.item_no == 1
    stored = store.versions(prefix)
    assert len(stored) == 5  # the two earlier files were found by their hash and reused
    assert {(v.key, v.version_id) for v in left} <= {(v.key, v.version_id) for v in stored}
    assert failed(verify(db, store, document_id)) == []
    assert state_and_record(db, document_id)[0] == "archived"
