"""What the archive relies on, proved against a real S3 server: Ceph RGW (Debian 12: 16.2.15).

moto's S3 server accepts bad signatures, expired links and shortened COMPLIANCE retention, so
these guarantees are checked here, on a throwaway RGW (tests/servers/ceph_rgw.sh), through the
`minio` SDK the archive uses. Each test names a guarantee; the surprises are spelled out:

- `get_object_retention` raises ValueError in minio-py: RGW writes the retain-until date with
  nanoseconds, which minio's parser rejects. Read lock state from `stat_object` headers.
- `is_object_legal_hold_enabled` raises (ObjectLockConfigurationNotFoundError) on an object
  whose legal hold was never set, instead of returning False.
- RGW keeps retain-until dates as 32-bit seconds: a date after 2106-02-07T06:28:15Z wraps
  silently into the past and the COMPLIANCE object can be deleted at once. The same happens to
  a bucket default retention reaching past that date (e.g. 99 years). Cap retain-until at
  RGW_MAX_RETAIN_UNTIL and check the header after every put.
- A delete without a version id is accepted: it only adds a delete marker (every version
  stays), and the owner may remove that marker again. The 安全性 check must look for markers.
- The owner may switch a legal hold off at any time; only retention binds the owner.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3  # minio's HTTP client; minio is a dependency of gongwen (the archive's S3 client)
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import SUSPENDED, VersioningConfig

from tests.servers.requirements import needs
from tests.servers.rgw import SCRIPT, RgwServer, read_only_policy, rgw_missing, running_rgw

pytestmark = needs(rgw_missing())

# The latest retain-until date RGW 16.2 stores faithfully (2**32 - 1 seconds since 1970).
RGW_MAX_RETAIN_UNTIL = dt.datetime(2106, 2, 7, 6, 28, 15, tzinfo=dt.UTC)
TITLE = "关于印发《开封市公文处理办法》的通知"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def rgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RgwServer]:
    with running_rgw(tmp_path_factory.mktemp("rgw")) as server:
        yield server


def make_client(endpoint: str, access_key: str, secret_key: str, retries: int = 2) -> Minio:
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=30),
        retries=urllib3.Retry(total=retries, backoff_factor=0.1, status_forcelist=[500, 502, 503, 504]),
    )
    return Minio(endpoint, access_key, secret_key, secure=False, region="us-east-1", http_client=http)


@pytest.fixture(scope="module")
def owner(rgw: RgwServer) -> Minio:
    return make_client(rgw.endpoint, rgw.access_key, rgw.secret_key)


@pytest.fixture(scope="module")
def auditor(rgw: RgwServer) -> Minio:
    return make_client(rgw.endpoint, rgw.auditor_access_key, rgw.auditor_secret_key)


@pytest.fixture
def bucket(owner: Minio) -> str:
    """A fresh bucket with object lock (RGW cannot delete it afterwards: its objects are locked)."""
    name = f"gw-{uuid.uuid4().hex[:16]}"
    owner.make_bucket(name, object_lock=True)
    return name


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def put(client: Minio, bucket: str, key: str, data: bytes, **kwargs):
    return client.put_object(bucket, key, io.BytesIO(data), len(data), **kwargs)


def lock_headers(client: Minio, bucket: str, key: str, version_id: str | None = None) -> dict[str, str]:
    """Lock state as RGW reports it: x-amz-object-lock-{mode,retain-until-date,legal-hold}."""
    stat = client.stat_object(bucket, key, version_id=version_id)
    return {k.lower(): v for k, v in stat.metadata.items() if k.lower().startswith("x-amz-object-lock-")}


def retain_until(headers: dict[str, str]) -> dt.datetime:
    # RGW answers with nanoseconds ("2026-11-25T21:05:06.000000000Z"); Python 3.11 parses it
    return dt.datetime.fromisoformat(headers["x-amz-object-lock-retain-until-date"])


def refused(call, code: str = "AccessDenied") -> S3Error:
    with pytest.raises(S3Error) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value


def versions(client: Minio, bucket: str, prefix: str = "") -> list[tuple[str, str, bool]]:
    return sorted(
        (o.object_name, o.version_id, bool(o.is_delete_marker))
        for o in client.list_objects(bucket, prefix=prefix, recursive=True, include_version=True)
    )


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---------------------------------------------------------------- object lock


def test_object_lock_bucket_is_versioned_for_good(owner: Minio, bucket: str) -> None:
    assert owner.get_bucket_versioning(bucket).status == "Enabled"
    error = refused(lambda: owner.set_bucket_versioning(bucket, VersioningConfig(SUSPENDED)), "InvalidBucketState")
    assert "object lock" in error.message
    assert owner.get_bucket_versioning(bucket).status == "Enabled"


def test_compliance_version_cannot_be_deleted_or_shortened(owner: Minio, bucket: str) -> None:
    until = now() + dt.timedelta(days=30)
    written = put(owner, bucket, "a/doc.docx", b"original", retention=Retention(COMPLIANCE, until))

    headers = lock_headers(owner, bucket, "a/doc.docx", written.version_id)
    assert headers["x-amz-object-lock-mode"] == "COMPLIANCE"
    assert retain_until(headers) == until

    refused(lambda: owner.remove_object(bucket, "a/doc.docx", version_id=written.version_id))
    # COMPLIANCE cannot be bypassed, not even by the owner
    errors = list(
        owner.remove_objects(bucket, [DeleteObject("a/doc.docx", written.version_id)], bypass_governance_mode=True)
    )
    assert [e.code for e in errors] == ["AccessDenied"]
    # retention can be extended, never shortened nor turned into GOVERNANCE
    refused(
        lambda: owner.set_object_retention(
            bucket, "a/doc.docx", Retention(COMPLIANCE, until - dt.timedelta(days=1)), version_id=written.version_id
        )
    )
    refused(
        lambda: owner.set_object_retention(
            bucket, "a/doc.docx", Retention(GOVERNANCE, until + dt.timedelta(days=1)), version_id=written.version_id
        )
    )
    longer = until + dt.timedelta(days=365)
    owner.set_object_retention(bucket, "a/doc.docx", Retention(COMPLIANCE, longer), version_id=written.version_id)
    assert retain_until(lock_headers(owner, bucket, "a/doc.docx", written.version_id)) == longer
    # the bucket cannot go either
    refused(lambda: owner.remove_bucket(bucket), "BucketNotEmpty")
    assert owner.get_object(bucket, "a/doc.docx", version_id=written.version_id).read() == b"original"


def test_overwrite_and_delete_keep_every_version(owner: Minio, bucket: str) -> None:
    first = put(owner, bucket, "k", b"one", retention=Retention(COMPLIANCE, now() + dt.timedelta(days=1)))
    second = put(owner, bucket, "k", b"two")
    assert first.version_id != second.version_id
    assert owner.get_object(bucket, "k").read() == b"two"
    assert owner.get_object(bucket, "k", version_id=first.version_id).read() == b"one"
    assert lock_headers(owner, bucket, "k", first.version_id)["x-amz-object-lock-mode"] == "COMPLIANCE"
    assert lock_headers(owner, bucket, "k", second.version_id) == {}  # no default rule: not locked

    # a delete without version id is accepted and only hides the key behind a delete marker
    owner.remove_object(bucket, "k")
    refused(lambda: owner.stat_object(bucket, "k"), "NoSuchKey")
    listed = versions(owner, bucket, "k")
    markers = [v for _, v, is_marker in listed if is_marker]
    assert len(listed) == 3 and len(markers) == 1
    assert owner.get_object(bucket, "k", version_id=first.version_id).read() == b"one"
    assert owner.get_object(bucket, "k", version_id=second.version_id).read() == b"two"
    # ...and the owner can take the marker away again (S3 semantics: markers are not locked)
    owner.remove_object(bucket, "k", version_id=markers[0])
    assert owner.get_object(bucket, "k").read() == b"two"


def test_governance_needs_bypass(owner: Minio, bucket: str) -> None:
    until = now() + dt.timedelta(days=30)
    written = put(owner, bucket, "g", b"gov", retention=Retention(GOVERNANCE, until))
    assert lock_headers(owner, bucket, "g")["x-amz-object-lock-mode"] == "GOVERNANCE"

    refused(lambda: owner.remove_object(bucket, "g", version_id=written.version_id))
    errors = list(owner.remove_objects(bucket, [DeleteObject("g", written.version_id)]))
    assert [e.code for e in errors] == ["AccessDenied"]
    refused(
        lambda: owner.set_object_retention(
            bucket, "g", Retention(GOVERNANCE, until - dt.timedelta(days=1)), version_id=written.version_id
        )
    )
    assert owner.get_object(bucket, "g", version_id=written.version_id).read() == b"gov"

    # x-amz-bypass-governance-retention: true (the owner holds s3:BypassGovernanceRetention)
    errors = list(owner.remove_objects(bucket, [DeleteObject("g", written.version_id)], bypass_governance_mode=True))
    assert errors == []
    assert versions(owner, bucket, "g") == []


def test_legal_hold_blocks_deletion_until_released(owner: Minio, bucket: str) -> None:
    written = put(owner, bucket, "h", b"held", legal_hold=True)
    assert lock_headers(owner, bucket, "h") == {"x-amz-object-lock-legal-hold": "ON"}
    assert owner.is_object_legal_hold_enabled(bucket, "h") is True

    refused(lambda: owner.remove_object(bucket, "h", version_id=written.version_id))

    owner.disable_object_legal_hold(bucket, "h", version_id=written.version_id)
    assert lock_headers(owner, bucket, "h") == {"x-amz-object-lock-legal-hold": "OFF"}
    assert owner.is_object_legal_hold_enabled(bucket, "h") is False
    owner.enable_object_legal_hold(bucket, "h", version_id=written.version_id)
    refused(lambda: owner.remove_object(bucket, "h", version_id=written.version_id))
    owner.disable_object_legal_hold(bucket, "h", version_id=written.version_id)
    owner.remove_object(bucket, "h", version_id=written.version_id)
    assert versions(owner, bucket, "h") == []


def test_legal_hold_and_retention_together(owner: Minio, bucket: str) -> None:
    """永久: legal hold plus the longest retention; either alone keeps the version."""
    until = now() + dt.timedelta(seconds=2)
    written = put(owner, bucket, "p", b"forever", legal_hold=True, retention=Retention(COMPLIANCE, until))
    headers = lock_headers(owner, bucket, "p")
    assert headers["x-amz-object-lock-legal-hold"] == "ON"
    assert headers["x-amz-object-lock-mode"] == "COMPLIANCE"
    time.sleep(max(0.0, (until - dt.datetime.now(dt.UTC)).total_seconds()) + 1.1)
    # retention over, legal hold still on
    refused(lambda: owner.remove_object(bucket, "p", version_id=written.version_id))


def test_lock_state_is_read_from_stat_headers(owner: Minio, auditor: Minio, bucket: str, rgw: RgwServer) -> None:
    until = now() + dt.timedelta(days=10)
    put(owner, bucket, "r", b"r", retention=Retention(COMPLIANCE, until))
    owner.set_bucket_policy(bucket, read_only_policy(bucket, rgw.auditor_arn))
    for client in (owner, auditor):
        headers = lock_headers(client, bucket, "r")
        assert headers["x-amz-object-lock-mode"] == "COMPLIANCE"
        assert retain_until(headers) == until
        assert "x-amz-object-lock-legal-hold" not in headers  # never set: no header

    # minio 7.2's get_object_retention cannot parse RGW's nanosecond date
    try:
        retention = owner.get_object_retention(bucket, "r")
    except ValueError as error:
        assert "does not match format" in str(error)
    else:  # a later minio that parses it must agree with the headers
        assert retention.mode == COMPLIANCE and retention.retain_until_date == until

    # no legal hold ever set: RGW answers an error minio does not turn into False
    with pytest.raises(S3Error) as caught:
        owner.is_object_legal_hold_enabled(bucket, "r")
    assert caught.value.code == "ObjectLockConfigurationNotFoundError"


def test_bucket_default_retention(owner: Minio, bucket: str) -> None:
    refused(
        lambda: owner.set_object_lock_config(bucket, ObjectLockConfig(COMPLIANCE, 0, DAYS)), "InvalidRetentionPeriod"
    )
    owner.set_object_lock_config(bucket, ObjectLockConfig(COMPLIANCE, 1, DAYS))
    config = owner.get_object_lock_config(bucket)
    assert (config.mode, config.duration, config.duration_unit) == (COMPLIANCE, 1, "Days")
    written = put(owner, bucket, "d", b"d")  # no retention asked: the default applies
    headers = lock_headers(owner, bucket, "d")
    assert headers["x-amz-object-lock-mode"] == "COMPLIANCE"
    assert abs(retain_until(headers) - (now() + dt.timedelta(days=1))) < dt.timedelta(minutes=1)
    refused(lambda: owner.remove_object(bucket, "d", version_id=written.version_id))


def test_per_object_retention_has_second_granularity(owner: Minio, bucket: str) -> None:
    """The bucket default counts in days or years; a per-object retain-until date is exact
    to the second and binds until then (so tests need not wait for days)."""
    until = now() + dt.timedelta(seconds=2)
    written = put(owner, bucket, "s", b"s", retention=Retention(COMPLIANCE, until))
    refused(lambda: owner.remove_object(bucket, "s", version_id=written.version_id))
    time.sleep(max(0.0, (until - dt.datetime.now(dt.UTC)).total_seconds()) + 1.1)
    owner.remove_object(bucket, "s", version_id=written.version_id)
    assert versions(owner, bucket, "s") == []
    # a date in the past is rejected
    refused(
        lambda: put(owner, bucket, "past", b"x", retention=Retention(COMPLIANCE, now() - dt.timedelta(days=1))),
        "InvalidArgument",
    )


def test_retain_until_past_2106_wraps_and_unlocks(owner: Minio, bucket: str) -> None:
    """RGW 16.2 stores retain-until as 32-bit seconds. Up to RGW_MAX_RETAIN_UNTIL it holds;
    one second later the date wraps to 1970 and the COMPLIANCE version can be deleted at once.
    The archive must cap retain-until (永久 = legal hold + RGW_MAX_RETAIN_UNTIL) and compare the
    header with what it asked for after every put."""
    kept = put(owner, bucket, "max", b"x", retention=Retention(COMPLIANCE, RGW_MAX_RETAIN_UNTIL))
    assert retain_until(lock_headers(owner, bucket, "max")) == RGW_MAX_RETAIN_UNTIL
    refused(lambda: owner.remove_object(bucket, "max", version_id=kept.version_id))

    beyond = RGW_MAX_RETAIN_UNTIL + dt.timedelta(seconds=1)
    wrapped = put(owner, bucket, "beyond", b"x", retention=Retention(COMPLIANCE, beyond))
    stored = retain_until(lock_headers(owner, bucket, "beyond"))
    assert stored == dt.datetime(1970, 1, 1, tzinfo=dt.UTC), stored
    owner.remove_object(bucket, "beyond", version_id=wrapped.version_id)  # not protected at all
    assert versions(owner, bucket, "beyond") == []


# ---------------------------------------------------------------- metadata and names


def test_chinese_metadata_round_trips_percent_encoded(owner: Minio, bucket: str) -> None:
    key = "0001-WS·2025-Y-BGS-0001/关于印发的通知.docx"
    metadata = {
        "x-amz-meta-title": urllib.parse.quote(TITLE),
        "x-amz-meta-danghao": urllib.parse.quote("0001-WS·2025-永久-办公室-0001"),
        "x-amz-meta-sha256": "a" * 64,
    }
    put(owner, bucket, key, "正文".encode(), metadata=metadata)
    stat = owner.stat_object(bucket, key)
    assert urllib.parse.unquote(stat.metadata["x-amz-meta-title"]) == TITLE
    assert urllib.parse.unquote(stat.metadata["x-amz-meta-danghao"]) == "0001-WS·2025-永久-办公室-0001"
    assert stat.metadata["x-amz-meta-sha256"] == "a" * 64
    assert [o.object_name for o in owner.list_objects(bucket, prefix="0001-WS·2025", recursive=True)] == [key]
    assert owner.get_object(bucket, key).read() == "正文".encode()
    # unencoded, the HTTP client cannot send it at all (headers are latin-1)
    with pytest.raises(UnicodeEncodeError):
        put(owner, bucket, "raw", b"x", metadata={"x-amz-meta-title": TITLE})


# ---------------------------------------------------------------- who may do what


def test_presigned_get_works_and_expires(owner: Minio, bucket: str) -> None:
    put(owner, bucket, "link.pdf", b"%PDF-1.7 content")
    url = owner.presigned_get_object(bucket, "link.pdf", expires=dt.timedelta(seconds=1))
    assert http_get(url) == (200, b"%PDF-1.7 content")
    time.sleep(2)
    status, body = http_get(url)
    assert status == 403 and b"AccessDenied" in body

    fresh = owner.presigned_get_object(bucket, "link.pdf", expires=dt.timedelta(minutes=5))
    assert http_get(fresh)[0] == 200
    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(fresh).query)["X-Amz-Signature"][0]
    forged = fresh.replace(signature, signature[:-1] + ("0" if signature[-1] != "0" else "1"))
    assert http_get(forged)[0] == 403  # tampered signature
    assert http_get(fresh.replace("link.pdf", "other.pdf"))[0] == 403  # the link names one object
    assert http_get(f"http://{owner._base_url.host}/{bucket}/link.pdf")[0] == 403  # anonymous


def test_wrong_secret_or_unknown_key_is_refused(rgw: RgwServer, owner: Minio, bucket: str) -> None:
    put(owner, bucket, "s.txt", b"secret")
    wrong = make_client(rgw.endpoint, rgw.access_key, rgw.secret_key[:-4] + "XXXX")
    refused(lambda: wrong.list_buckets(), "SignatureDoesNotMatch")
    refused(lambda: wrong.get_object(bucket, "s.txt").read(), "SignatureDoesNotMatch")
    refused(lambda: put(wrong, bucket, "forged.txt", b"forged"), "SignatureDoesNotMatch")
    unknown = make_client(rgw.endpoint, "NOSUCHKEY0000000000X", rgw.secret_key)
    refused(lambda: unknown.list_buckets(), "InvalidAccessKeyId")
    assert [name for name, _, _ in versions(owner, bucket)] == ["s.txt"]


def test_auditor_reads_but_cannot_change_anything(rgw: RgwServer, owner: Minio, auditor: Minio, bucket: str) -> None:
    until = now() + dt.timedelta(days=1)
    written = put(owner, bucket, "doc/a.docx", b"issued", retention=Retention(GOVERNANCE, until))
    put(owner, bucket, "doc/b.docx", b"held", legal_hold=True)

    refused(lambda: auditor.get_object(bucket, "doc/a.docx").read())  # nothing before the policy
    owner.set_bucket_policy(bucket, read_only_policy(bucket, rgw.auditor_arn))
    before = versions(owner, bucket)

    # reads
    assert auditor.get_object(bucket, "doc/a.docx").read() == b"issued"
    assert auditor.get_object(bucket, "doc/a.docx", version_id=written.version_id).read() == b"issued"
    assert [o.object_name for o in auditor.list_objects(bucket, recursive=True)] == ["doc/a.docx", "doc/b.docx"]
    assert versions(auditor, bucket) == before
    assert lock_headers(auditor, bucket, "doc/b.docx") == {"x-amz-object-lock-legal-hold": "ON"}
    assert auditor.get_bucket_versioning(bucket).status == "Enabled"
    link = auditor.presigned_get_object(bucket, "doc/a.docx", expires=dt.timedelta(minutes=5))
    assert http_get(link) == (200, b"issued")

    # writes and deletes
    refused(lambda: put(auditor, bucket, "doc/new.docx", b"x"))
    refused(lambda: put(auditor, bucket, "doc/a.docx", b"overwrite"))
    refused(lambda: auditor.copy_object(bucket, "doc/c.docx", CopySource(bucket, "doc/a.docx")))
    refused(lambda: auditor.remove_object(bucket, "doc/a.docx"))  # not even a delete marker
    refused(lambda: auditor.remove_object(bucket, "doc/a.docx", version_id=written.version_id))
    # multi-object delete: the whole request is refused
    refused(
        lambda: list(
            auditor.remove_objects(
                bucket, [DeleteObject("doc/a.docx", written.version_id)], bypass_governance_mode=True
            )
        )
    )
    refused(lambda: auditor.disable_object_legal_hold(bucket, "doc/b.docx"))
    refused(
        lambda: auditor.set_object_retention(
            bucket, "doc/a.docx", Retention(GOVERNANCE, until + dt.timedelta(days=1)), version_id=written.version_id
        )
    )
    refused(lambda: auditor.set_bucket_policy(bucket, read_only_policy(bucket, "arn:aws:iam:::user/*")))
    refused(lambda: auditor.delete_bucket_policy(bucket))
    refused(lambda: auditor.remove_bucket(bucket))
    refused(lambda: auditor.make_bucket(f"aud-{uuid.uuid4().hex[:12]}"))  # --max-buckets -1

    assert versions(owner, bucket) == before
    assert owner.get_object(bucket, "doc/a.docx").read() == b"issued"


# ---------------------------------------------------------------- the server itself


def test_script_start_is_idempotent_and_guards_its_directory(rgw: RgwServer, tmp_path: Path) -> None:
    port = rgw.endpoint.rsplit(":", 1)[1]
    again = subprocess.run(["bash", str(SCRIPT), "start", str(rgw.dir), port], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["access_key"] == rgw.access_key
    status = subprocess.run(["bash", str(SCRIPT), "status", str(rgw.dir)], capture_output=True, text=True)
    assert status.returncode == 0 and json.loads(status.stdout)["endpoint"] == rgw.endpoint

    (tmp_path / "precious.txt").write_text("keep me")
    foreign = subprocess.run(["bash", str(SCRIPT), "start", str(tmp_path), "1"], capture_output=True, text=True)
    assert foreign.returncode == 1 and "not empty" in foreign.stderr
    foreign = subprocess.run(["bash", str(SCRIPT), "stop", str(tmp_path)], capture_output=True, text=True)
    assert foreign.returncode == 1 and "not made by this script" in foreign.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_gateway_outage_keeps_the_objects(rgw: RgwServer, owner: Minio, bucket: str) -> None:
    written = put(owner, bucket, "outage", b"survives", retention=Retention(COMPLIANCE, now() + dt.timedelta(days=1)))
    impatient = make_client(rgw.endpoint, rgw.access_key, rgw.secret_key, retries=0)
    rgw.stop_gateway()
    try:
        with pytest.raises(urllib3.exceptions.HTTPError):
            put(impatient, bucket, "during", b"x")
    finally:
        rgw.start_gateway()
    assert owner.get_object(bucket, "outage", version_id=written.version_id).read() == b"survives"
    put(owner, bucket, "after", b"fine")
