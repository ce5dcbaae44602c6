"""deploy/minio/gongwen-policy.json is enough for everything gongwen does in the archive, and no
more: granted to a second user on a real S3 server (Ceph RGW, tests/servers/rgw.py) as a bucket
policy, that user can check the bucket, put locked versions, read, list and link them, and can
neither delete a version nor change the bucket's policy. (No MinIO server can be installed
here; RGW enforces the same S3 actions.)"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator

import pytest

from models.errors import ArchiveLocked, NotAllowed
from storage.archive.base import Lock
from storage.archive.s3 import S3ArchiveStore
from tests.deploy.deploy_files import DEPLOY
from tests.servers.requirements import need
from tests.servers.rgw import RgwServer, rgw_missing, running_rgw

BUCKET = "gongwen"  # the bucket the policies in deploy/minio/ name


def policy(name: str, principal_arn: str) -> str:
    """A policy file of deploy/minio/ as a bucket policy for one principal."""
    document = json.loads((DEPLOY / "minio" / name).read_text())
    for statement in document["Statement"]:
        statement["Principal"] = {"AWS": [principal_arn]}
    return json.dumps(document)


@pytest.fixture(scope="module")
def rgw(tmp_path_factory) -> Iterator[RgwServer]:
    need(rgw_missing())
    with running_rgw(tmp_path_factory.mktemp("rgw")) as server:
        yield server


def store(server: RgwServer, access_key: str, secret_key: str) -> S3ArchiveStore:
    return S3ArchiveStore.connect(server.endpoint, access_key, secret_key, bucket=BUCKET, secure=False)


def test_gongwen_policy_allows_archiving_and_nothing_destructive(rgw):
    owner = store(rgw, rgw.access_key, rgw.secret_key)
    owner.ensure_bucket()  # minio-init's `mc mb --with-lock`
    gongwen = store(rgw, rgw.auditor_access_key, rgw.auditor_secret_key)  # a user that owns nothing
    with pytest.raises(NotAllowed):
        gongwen.ensure_bucket()
    owner.client.set_bucket_policy(BUCKET, policy("gongwen-policy.json", rgw.auditor_arn))

    gongwen.ensure_bucket()  # exists, object lock on, versioning on
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    stored = gongwen.put("p/document.pdf", b"%PDF original", metadata={"title": "通知"}, lock=Lock("COMPLIANCE", until))
    held = gongwen.put("p/permanent.pdf", b"%PDF", metadata={}, lock=Lock("COMPLIANCE", until, legal_hold=True))
    assert gongwen.stat("p/permanent.pdf", held.version_id).lock.legal_hold
    assert gongwen.get("p/document.pdf", stored.version_id) == b"%PDF original"
    assert gongwen.stat("p/document.pdf").metadata == {"title": "通知"}
    assert [v.key for v in gongwen.versions("p/")] == ["p/document.pdf", "p/permanent.pdf"]
    url = gongwen.link("p/document.pdf", stored.version_id, dt.timedelta(minutes=5))
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"%PDF original"

    with pytest.raises(ArchiveLocked):
        gongwen.delete("p/document.pdf", stored.version_id)
    with pytest.raises(Exception, match="AccessDenied"):
        gongwen.client.set_bucket_policy(BUCKET, "{}")
    with pytest.raises(Exception, match="AccessDenied"):
        gongwen.client.delete_bucket_policy(BUCKET)
    assert len(gongwen.versions("p/")) == 2  # (on RGW the objects are the writer's: the owner cannot stat them)


def test_auditor_policy_file_reads_only(rgw):
    owner = store(rgw, rgw.access_key, rgw.secret_key)
    owner.ensure_bucket()
    soon = Lock("GOVERNANCE", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    stored = owner.put("a/doc.pdf", b"original", metadata={}, lock=soon)
    owner.client.set_bucket_policy(BUCKET, policy("auditor-policy.json", rgw.auditor_arn))
    auditor = store(rgw, rgw.auditor_access_key, rgw.auditor_secret_key)
    assert auditor.get("a/doc.pdf", stored.version_id) == b"original"
    with pytest.raises(NotAllowed):
        auditor.put("a/new.pdf", b"x", metadata={}, lock=soon)
    with pytest.raises(ArchiveLocked):
        auditor.delete("a/doc.pdf", stored.version_id)
