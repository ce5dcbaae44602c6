"""S3ArchiveStore beyond the contract: encoding, links, credentials, policies, outages.

moto proves the protocol; the guarantees (signatures, link expiry, COMPLIANCE,
bucket policies, a gateway going away) are checked on Ceph RGW.
"""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from models.archive_package import LATEST_LOCK
from models.errors import ArchiveLocked, InputError, NotAllowed, NotFound, ServiceUnavailable, VerificationFailed
from storage.archive.base import Lock
from storage.archive.s3 import S3ArchiveStore, parse_retain_until
from tests.servers.rgw import RgwServer, read_only_policy
from tests.storage.archive.s3_servers import fresh_store

TITLE = "关于印发《开封市公文处理办法》的通知"
CODE = "J001-WS·2022-永久-办公室-0001"


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


LONG = Lock("COMPLIANCE", _utc(86400 * 30))


@pytest.fixture(params=["moto", "rgw"])
def s3(request) -> S3ArchiveStore:
    return fresh_store(request.getfixturevalue(f"{request.param}_server"))


@pytest.fixture
def rgw_store(rgw_server: RgwServer) -> S3ArchiveStore:
    return fresh_store(rgw_server)


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---------------------------------------------------------------- metadata and keys


def test_chinese_metadata_and_keys_round_trip_percent_encoded(s3: S3ArchiveStore) -> None:
    key = f"J001/2022/Y/{CODE}/关于印发的通知.docx"
    metadata = {"title": TITLE, "archive_code": CODE, "sha256": "a" * 64, "note": "100% 原件 / 第1份"}
    stored = s3.put(key, "正文".encode(), metadata=metadata, lock=LONG)
    assert stored.metadata == metadata
    assert s3.stat(key).metadata == metadata
    assert [v.metadata for v in s3.versions("J001/2022/Y/")] == [metadata]
    assert s3.get(key) == "正文".encode()
    # on the wire: ASCII only, '-' for '_' in names (RGW would turn '_' into '-' anyway)
    raw = {k.lower(): v for k, v in s3.client.stat_object(s3.bucket, key).metadata.items()}
    assert raw["x-amz-meta-title"] == urllib.parse.quote(TITLE)
    assert raw["x-amz-meta-archive-code"] == urllib.parse.quote(CODE)
    assert raw["x-amz-meta-sha256"] == "a" * 64


def test_metadata_names_must_be_lowercase_identifiers(s3: S3ArchiveStore) -> None:
    for name in ("Title", "标题", "archive-code", "1st", ""):
        with pytest.raises(InputError, match="元数据名"):
            s3.put("k/bad-meta", b"x", metadata={name: "v"}, lock=LONG)
    assert s3.versions("k/") == []


def test_bad_keys_are_refused_before_any_request(s3: S3ArchiveStore) -> None:
    for key in ("", "/abs", "a/../b", "a//b", "a\\b"):
        with pytest.raises(InputError):
            s3.put(key, b"x", metadata={}, lock=LONG)


def test_retain_until_dates_parse_with_any_fraction() -> None:
    utc = dt.UTC
    assert parse_retain_until("2026-11-25T21:05:06.123456789Z") == dt.datetime(2026, 11, 25, 21, 5, 6, 123456, utc)
    assert parse_retain_until("2026-11-25T21:05:06.583Z") == dt.datetime(2026, 11, 25, 21, 5, 6, 583000, utc)
    assert parse_retain_until("2026-11-25T21:05:06Z") == dt.datetime(2026, 11, 25, 21, 5, 6, tzinfo=utc)
    assert parse_retain_until("2026-11-26T05:05:06+08:00") == dt.datetime(2026, 11, 25, 21, 5, 6, tzinfo=utc)


# ---------------------------------------------------------------- versions and delete markers


def test_delete_markers_are_listed_and_hide_the_key(s3: S3ArchiveStore) -> None:
    first = s3.put("m/doc.pdf", b"one", metadata={}, lock=LONG)
    second = s3.put("m/doc.pdf", b"two", metadata={}, lock=LONG)
    s3.client.remove_object(s3.bucket, "m/doc.pdf")  # no version id: S3 only adds a delete marker
    listed = s3.versions("m/")
    assert [v.version_id for v in listed[:2]] == [first.version_id, second.version_id]
    assert [v.is_delete_marker for v in listed] == [False, False, True]
    assert listed[2].lock is None and listed[2].size == 0
    with pytest.raises(NotFound):
        s3.get("m/doc.pdf")
    assert s3.get("m/doc.pdf", first.version_id) == b"one"
    s3.delete("m/doc.pdf", listed[2].version_id)  # a marker holds no data and no lock
    assert s3.get("m/doc.pdf") == b"two"
    assert len(s3.versions("m/")) == 2


def test_delete_of_a_missing_version_is_not_found(s3: S3ArchiveStore) -> None:
    stored = s3.put("n/doc", b"x", metadata={}, lock=LONG)
    other = ("0" if stored.version_id[0] != "0" else "1") + stored.version_id[1:]
    with pytest.raises(NotFound):
        s3.delete("n/doc", other)  # S3 itself answers 204 here
    with pytest.raises(NotFound):
        s3.delete("n/other", stored.version_id)


def test_ensure_bucket_creates_checks_and_refuses_an_unlocked_bucket(s3: S3ArchiveStore) -> None:
    s3.ensure_bucket()  # already there, with object lock: fine
    assert s3.client.get_bucket_versioning(s3.bucket).status == "Enabled"
    plain = f"gw-plain-{uuid.uuid4().hex[:10]}"
    s3.client.make_bucket(plain)
    with pytest.raises(InputError, match="对象锁定"):
        S3ArchiveStore(s3.client, plain).ensure_bucket()


# ---------------------------------------------------------------- links


def test_a_link_downloads_the_bytes_of_its_version(s3: S3ArchiveStore) -> None:
    first = s3.put("l/doc.pdf", b"%PDF-1.7 first", metadata={}, lock=LONG)
    s3.put("l/doc.pdf", b"%PDF-1.7 second", metadata={}, lock=LONG)
    url = s3.link("l/doc.pdf", first.version_id, dt.timedelta(minutes=5))
    assert http_get(url) == (200, b"%PDF-1.7 first")
    with pytest.raises(NotFound):
        s3.link("l/none.pdf", first.version_id, dt.timedelta(minutes=5))
    with pytest.raises(InputError, match="有效期"):
        s3.link("l/doc.pdf", first.version_id, dt.timedelta(days=8))


def test_an_expired_or_altered_link_is_refused_on_rgw(rgw_store: S3ArchiveStore) -> None:
    stored = rgw_store.put("e/doc.pdf", b"%PDF-1.7 content", metadata={}, lock=LONG)
    url = rgw_store.link("e/doc.pdf", stored.version_id, dt.timedelta(seconds=1))
    assert http_get(url)[0] == 200
    fresh = rgw_store.link("e/doc.pdf", stored.version_id, dt.timedelta(minutes=5))
    assert http_get(fresh.replace("versionId=", "versionId=x"))[0] in (403, 404)  # the link names one version
    time.sleep(2.1)
    status, body = http_get(url)
    assert status == 403 and b"AccessDenied" in body


# ---------------------------------------------------------------- locks on RGW


def test_a_compliance_version_cannot_be_deleted_on_rgw(rgw_store: S3ArchiveStore) -> None:
    stored = rgw_store.put("c/doc.docx", b"issued", metadata={}, lock=LONG)
    with pytest.raises(ArchiveLocked, match="保留期至"):
        rgw_store.delete("c/doc.docx", stored.version_id)
    # not even with the SDK directly: the refusal is the server's
    from minio.error import S3Error

    with pytest.raises(S3Error) as refused:
        rgw_store.client.remove_object(rgw_store.bucket, "c/doc.docx", version_id=stored.version_id)
    assert refused.value.code == "AccessDenied"
    assert rgw_store.get("c/doc.docx", stored.version_id) == b"issued"


def test_a_lock_the_server_did_not_keep_is_never_accepted_on_rgw(rgw_store: S3ArchiveStore) -> None:
    """RGW keeps retain-until as 32-bit seconds: a later date wraps to 1970, unlocked."""
    kept = rgw_store.put("w/max", b"x", metadata={}, lock=Lock("COMPLIANCE", LATEST_LOCK, legal_hold=True))
    assert kept.lock == Lock("COMPLIANCE", LATEST_LOCK, True)
    with pytest.raises(VerificationFailed, match="没有按要求锁定.*该版本已删除"):
        rgw_store.put("w/beyond", b"x", metadata={}, lock=Lock("COMPLIANCE", LATEST_LOCK + dt.timedelta(days=1)))
    assert rgw_store.versions("w/beyond") == []


# ---------------------------------------------------------------- who may do what on RGW


def test_a_wrong_secret_key_is_refused_on_rgw(rgw_server: RgwServer, rgw_store: S3ArchiveStore) -> None:
    stored = rgw_store.put("s/doc", b"secret", metadata={}, lock=LONG)
    wrong = fresh_store(rgw_server, secret_key=rgw_server.secret_key[:-4] + "XXXX", bucket=rgw_store.bucket)
    for call in (
        lambda: wrong.put("s/forged", b"forged", metadata={}, lock=LONG),
        lambda: wrong.get("s/doc"),
        lambda: wrong.stat("s/doc", stored.version_id),
        lambda: wrong.versions("s/"),
        wrong.ensure_bucket,
    ):
        with pytest.raises(NotAllowed, match="访问密钥"):
            call()
    unknown = fresh_store(rgw_server, access_key="NOSUCHKEY0000000000X", bucket=rgw_store.bucket)
    with pytest.raises(NotAllowed, match="InvalidAccessKeyId"):
        unknown.get("s/doc")
    assert [v.key for v in rgw_store.versions("s/")] == ["s/doc"]


def test_the_auditor_reads_but_cannot_write_or_delete_on_rgw(rgw_server: RgwServer, rgw_store: S3ArchiveStore) -> None:
    stored = rgw_store.put("a/doc.docx", "原件".encode(), metadata={"title": TITLE}, lock=LONG)
    held = rgw_store.put("a/held.pdf", b"held", metadata={}, lock=Lock("GOVERNANCE", _utc(3600), legal_hold=True))
    auditor = fresh_store(
        rgw_server, rgw_server.auditor_access_key, rgw_server.auditor_secret_key, bucket=rgw_store.bucket
    )
    with pytest.raises(NotAllowed):
        auditor.get("a/doc.docx")  # nothing before the policy
    rgw_store.client.set_bucket_policy(rgw_store.bucket, read_only_policy(rgw_store.bucket, rgw_server.auditor_arn))
    before = rgw_store.versions("a/")

    assert auditor.get("a/doc.docx", stored.version_id) == "原件".encode()
    assert auditor.stat("a/doc.docx").metadata == {"title": TITLE}
    assert auditor.stat("a/held.pdf").lock.legal_hold
    assert auditor.versions("a/") == before
    assert http_get(auditor.link("a/doc.docx", stored.version_id, dt.timedelta(minutes=5))) == (200, "原件".encode())

    with pytest.raises(NotAllowed):
        auditor.put("a/new.docx", b"x", metadata={}, lock=LONG)
    with pytest.raises(NotAllowed):
        auditor.put("a/doc.docx", b"overwrite", metadata={}, lock=LONG)
    with pytest.raises(ArchiveLocked):
        auditor.delete("a/doc.docx", stored.version_id)
    with pytest.raises(ArchiveLocked):
        auditor.delete("a/held.pdf", held.version_id)
    assert rgw_store.versions("a/") == before


# ---------------------------------------------------------------- outages


def test_a_stopped_gateway_is_service_unavailable_and_recovers(
    rgw_server: RgwServer, rgw_store: S3ArchiveStore
) -> None:
    stored = rgw_store.put("o/doc", b"survives", metadata={}, lock=LONG)
    rgw_server.stop_gateway()
    try:
        for call in (
            lambda: rgw_store.put("o/during", b"x", metadata={}, lock=LONG),
            lambda: rgw_store.get("o/doc"),
            lambda: rgw_store.versions("o/"),
        ):
            started = time.monotonic()
            with pytest.raises(ServiceUnavailable, match="无法连接"):
                call()
            assert time.monotonic() - started < 3
    finally:
        rgw_server.start_gateway()
    assert rgw_store.get("o/doc", stored.version_id) == b"survives"
    after = rgw_store.put("o/after", b"fine", metadata={}, lock=LONG)
    assert rgw_store.get("o/after", after.version_id) == b"fine"
    assert [v.key for v in rgw_store.versions("o/")] == ["o/after", "o/doc"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_nothing_listening_is_service_unavailable_at_once() -> None:
    store = S3ArchiveStore.connect(f"127.0.0.1:{_free_port()}", "k", "s", bucket="gw-none", secure=False)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="gw-none"):
        store.get("k/doc")
    with pytest.raises(ServiceUnavailable):
        store.ensure_bucket()
    assert time.monotonic() - started < 3


class _Overloaded(http.server.BaseHTTPRequestHandler):
    """Answers every request with 503 SlowDown (XML), or 502 from a proxy (HTML) under /proxy/."""

    def _answer(self) -> None:
        if "/proxy/" in self.path:
            status, kind, body = 502, "text/html", b"<html>Bad Gateway</html>"
        else:
            status, kind = 503, "application/xml"
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def overloaded() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Overloaded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_5xx_and_slow_down_are_service_unavailable(overloaded: str) -> None:
    store = S3ArchiveStore.connect(overloaded, "k", "s", bucket="gw-busy", secure=False)
    with pytest.raises(ServiceUnavailable, match="SlowDown"):
        store.put("k/doc", b"x", metadata={}, lock=LONG)
    with pytest.raises(ServiceUnavailable, match="SlowDown"):
        store.get("k/doc")
    with pytest.raises(ServiceUnavailable, match="503"):
        store.stat("k/doc")  # HEAD: no body, only the status
    with pytest.raises(ServiceUnavailable, match="502"):
        S3ArchiveStore(store.client, "gw-busy").get("proxy/doc")
