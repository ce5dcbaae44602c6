"""S3 servers for the archive tests: where they answer, and fresh object-locked buckets on them."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from storage.archive.s3 import S3ArchiveStore
from tests.servers.rgw import RgwServer


@dataclass(frozen=True)
class S3Endpoint:
    """Where an S3 server answers, and the owner's keys."""

    endpoint: str  # host:port
    access_key: str
    secret_key: str
    secure: bool = False


def minio_endpoint() -> S3Endpoint | None:
    """A real MinIO named by GONGWEN_TEST_S3_ENDPOINT ("host:port" or "https://host:port")."""
    endpoint = os.environ.get("GONGWEN_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    secure = endpoint.startswith("https://")
    return S3Endpoint(
        endpoint.removeprefix("https://").removeprefix("http://").rstrip("/"),
        os.environ.get("GONGWEN_TEST_S3_ACCESS_KEY", ""),
        os.environ.get("GONGWEN_TEST_S3_SECRET_KEY", ""),
        secure,
    )


def fresh_store(
    server: S3Endpoint | RgwServer,
    access_key: str | None = None,
    secret_key: str | None = None,
    bucket: str | None = None,
) -> S3ArchiveStore:
    """A store on ``server`` in a new object-locked bucket (or ``bucket``, which must exist)."""
    store = S3ArchiveStore.connect(
        server.endpoint,
        access_key or server.access_key,
        secret_key or server.secret_key,
        bucket=bucket or f"gw-{uuid.uuid4().hex[:16]}",
        secure=getattr(server, "secure", False),
    )
    if bucket is None:
        store.ensure_bucket()
    return store
