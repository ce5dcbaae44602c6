"""The production archive: an S3 bucket with versioning and object lock, through the ``minio`` SDK.

Works with MinIO, Ceph RGW and any S3 server with object lock. Each method names
the server guarantee it relies on; where servers differ (seen on moto 5 and Ceph
RGW 16.2, design.md §6) the store reads what the server reports instead of
trusting what it asked for:

- retention and legal hold are read from ``stat_object`` headers
  (``x-amz-object-lock-*``): minio's ``get_object_retention`` cannot parse RGW's
  nanosecond dates, and ``is_object_legal_hold_enabled`` raises on an object that
  never had a hold;
- after every put the reported lock is compared with the one asked for: RGW keeps
  retain-until as 32-bit seconds and silently unlocks a later date;
- user metadata values are percent-encoded (HTTP headers are ASCII); metadata
  keys are lowercase identifiers (``[a-z][a-z0-9_]*``) sent with ``-`` for ``_``,
  because RGW turns ``_`` into ``-`` in header names;
- errors become gongwen's: NotFound, ArchiveLocked, StoreRefused (credentials,
  policy: the key may not do this), ServiceUnavailable (unreachable, 5xx, SlowDown). The store never
  retries: callers (the archiving flow) do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import mimetypes
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import certifi
import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.retention import Retention

from models.errors import (
    ArchiveLocked,
    GongwenError,
    InputError,
    NotAllowed,
    NotFound,
    ServiceUnavailable,
    StoreRefused,
    VerificationFailed,
)
from storage.archive.base import Lock, StoredVersion, check_metadata
from storage.archive.local import check_key

_META = "x-amz-meta-"
_LOCK_MODE = "x-amz-object-lock-mode"
_LOCK_UNTIL = "x-amz-object-lock-retain-until-date"
_LEGAL_HOLD = "x-amz-object-lock-legal-hold"
_NOT_FOUND = {"NoSuchKey", "NoSuchVersion", "NoSuchObject", "MethodNotAllowed"}
_REFUSED = {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AllAccessDisabled", "InvalidToken"}
_TRANSIENT = {"ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailableException"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_retain_until(value: str) -> dt.datetime:
    """An ISO 8601 retain-until date with any number of fraction digits (RGW sends nine)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?", value.strip())
    if match is None:
        raise ValueError(f"unexpected retain-until date {value!r}")
    whole, fraction, zone = match.groups()
    parsed = dt.datetime.fromisoformat(whole).replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))
    if zone in (None, "Z"):
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.replace(tzinfo=dt.datetime.strptime(zone.replace(":", ""), "%z").tzinfo).astimezone(dt.UTC)


def lock_from_headers(headers) -> Lock | None:
    """The lock state of a version from its HEAD response headers; None when it has none."""
    lowered = {str(k).lower(): v for k, v in headers.items()}
    mode, until = lowered.get(_LOCK_MODE), lowered.get(_LOCK_UNTIL)
    hold = str(lowered.get(_LEGAL_HOLD, "")).upper() == "ON"
    if not mode and not hold:
        return None
    # a hold without retention: report the weaker mode and no retention period
    return Lock(mode or "GOVERNANCE", parse_retain_until(until) if until else _EPOCH, hold)


def encode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """User metadata as x-amz-meta-* headers: ASCII keys with '-' for '_', percent-encoded values."""
    return {
        _META + key.replace("_", "-"): urllib.parse.quote(str(value)) for key, value in check_metadata(metadata).items()
    }


def decode_metadata(headers) -> dict[str, str]:
    """The inverse of ``encode_metadata`` on the headers a server sends back."""
    return {
        str(name).lower()[len(_META) :].replace("-", "_"): urllib.parse.unquote(value)
        for name, value in headers.items()
        if str(name).lower().startswith(_META)
    }


class S3ArchiveStore:
    """A write-once, versioned, retention-locked archive in one S3 bucket with object lock."""

    def __init__(self, client: Minio, bucket: str, access_key: str | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.access_key = access_key  # the key's id (not secret), named in refusals

    @classmethod
    def connect(
        cls,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        bucket: str,
        secure: bool = True,
        connect_timeout: float = 2.0,
        read_timeout: float = 30.0,
        ca_certs: str | None = None,
    ) -> S3ArchiveStore:
        """A store on ``endpoint`` ("host:port"). Short connect timeout and no retries in the
        HTTP pool: an outage surfaces within seconds as ServiceUnavailable and callers retry."""
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs or certifi.where(),
        )
        client = Minio(endpoint, access_key, secret_key, secure=secure, region="us-east-1", http_client=http)
        return cls(client, bucket, access_key)

    # ------------------------------------------------------------------ the bucket

    def ensure_bucket(self) -> None:
        """Create the bucket with object lock (which turns versioning on for good) if absent;
        refuse an existing bucket without object lock, whose versions could be deleted."""
        with self._errors():
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket, object_lock=True)
                    return
                except S3Error as error:
                    if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            try:
                self.client.get_object_lock_config(self.bucket)
            except S3Error as error:
                if error.code != "ObjectLockConfigurationNotFoundError":
                    raise
                raise InputError(
                    f"归档桶「{self.bucket}」没有启用对象锁定（Object Lock），不能用作归档库", "bucket"
                ) from None
            status = self.client.get_bucket_versioning(self.bucket).status
            if status != "Enabled":
                raise InputError(f"归档桶「{self.bucket}」没有启用版本控制（{status}），不能用作归档库", "bucket")

    # ------------------------------------------------------------------ the protocol

    def put(self, key: str, data: bytes, *, metadata: dict[str, str], lock: Lock) -> StoredVersion:
        """A new version with its lock set in the same request (no window without retention).

        Relies on: versioning (a put never replaces a version), object lock on PUT,
        and the server's own report of the lock, which is checked against ``lock``.
        The SHA-256 goes along as x-amz-checksum-sha256 (checked by servers that know
        it; over HTTP SigV4 signs the payload hash anyway)."""
        check_key(key)
        headers = encode_metadata(metadata)
        headers["x-amz-sdk-checksum-algorithm"] = "SHA256"
        headers["x-amz-checksum-sha256"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
        with self._errors(key):
            written = self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
                metadata=headers,
                retention=Retention(lock.mode, lock.until),
                legal_hold=lock.legal_hold,
            )
        if not written.version_id:
            raise InputError(f"归档桶「{self.bucket}」没有启用版本控制：写入未生成版本", "bucket")
        stored = self.stat(key, written.version_id)
        self._check_lock(stored, lock)
        return stored

    def _check_lock(self, stored: StoredVersion, asked: Lock) -> None:
        """Never accept a version the server did not lock as asked (RGW wraps dates past 2106)."""
        got = stored.lock
        ok = (
            got is not None
            and got.mode == asked.mode
            and got.until >= asked.until - dt.timedelta(seconds=1)
            and got.legal_hold >= asked.legal_hold
        )
        if ok:
            return
        reported = "无锁定"
        if got is not None:
            reported = f"{got.mode} 至 {got.until:%Y-%m-%d %H:%M:%S}，法律保留{'开' if got.legal_hold else '关'}"
        try:
            self.client.remove_object(self.bucket, stored.key, version_id=stored.version_id)
            removed = "，该版本已删除"
        except Exception:  # noqa: BLE001 - still locked in part, or unreachable: say it stays
            removed = "，该版本仍在库中"
        raise VerificationFailed(
            f"归档库没有按要求锁定「{stored.key}」（要求 {asked.mode} 至 {asked.until:%Y-%m-%d %H:%M:%S}"
            f"{'，法律保留' if asked.legal_hold else ''}；实际 {reported}）{removed}",
            "lock",
        )

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The bytes of a version. Relies on: a version id names immutable bytes."""
        check_key(key)
        with self._errors(key, version_id):
            response = self.client.get_object(self.bucket, key, version_id=version_id)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def stat(self, key: str, version_id: str | None = None) -> StoredVersion:
        """Metadata and lock of a version from one HEAD request (x-amz-meta-*, x-amz-object-lock-*)."""
        check_key(key)
        with self._errors(key, version_id):
            info = self.client.stat_object(self.bucket, key, version_id=version_id)
        return StoredVersion(
            key=key,
            version_id=info.version_id or "",
            size=info.size or 0,
            metadata=decode_metadata(info.metadata),
            lock=lock_from_headers(info.metadata),
        )

    def versions(self, prefix: str) -> list[StoredVersion]:
        """Every version and delete marker under ``prefix``, keys in order, oldest first per key.

        Relies on ListObjectVersions listing each key's versions newest first (and its
        delete markers, which minio hands back after the versions, newest first too).
        Each version is stat'ed for its metadata and lock."""
        with self._errors():
            listed = list(self.client.list_objects(self.bucket, prefix=prefix, recursive=True, include_version=True))
        by_key: dict[str, list] = {}
        for obj in listed:
            by_key.setdefault(obj.object_name, []).append(obj)
        found = []
        for key in sorted(by_key):
            objs = by_key[key]
            oldest_first = [o for o in objs if not o.is_delete_marker][::-1]
            oldest_first += [o for o in objs if o.is_delete_marker][::-1]
            oldest_first.sort(key=lambda o: (str(o.is_latest).lower() == "true", o.last_modified or _EPOCH))
            for obj in oldest_first:
                if obj.is_delete_marker:
                    found.append(StoredVersion(key, obj.version_id, 0, {}, None, is_delete_marker=True))
                else:
                    found.append(self.stat(key, obj.version_id))
        return found

    def delete(self, key: str, version_id: str) -> None:
        """Remove one version (or delete marker). Relies on the server refusing a version
        under retention or legal hold (AccessDenied), which becomes ArchiveLocked.
        S3 answers success for a version that does not exist, so it is looked up first."""
        check_key(key)
        with self._errors(key, version_id):
            listed = self.client.list_objects(self.bucket, prefix=key, recursive=True, include_version=True)
            if not any(o.object_name == key and o.version_id == version_id for o in listed):
                raise NotFound(f"归档库中没有「{key}」的版本 {version_id}", "version")
        try:
            with self._errors(key, version_id):
                self.client.remove_object(self.bucket, key, version_id=version_id)
        except NotAllowed as refused:
            try:
                lock = self.stat(key, version_id).lock
            except GongwenError:
                lock = None
            if lock is not None and lock.active(dt.datetime.now(dt.UTC)):
                held = "法律保留" if lock.legal_hold else f"保留期至 {lock.until:%Y-%m-%d}"
                raise ArchiveLocked(f"「{key}」的版本 {version_id} 处于{held}，不能删除", "key") from refused
            raise ArchiveLocked(
                f"归档库拒绝删除「{key}」的版本 {version_id}（对象锁定或没有删除权限）", "key"
            ) from refused

    def link(self, key: str, version_id: str, expires: dt.timedelta) -> str:
        """A presigned GET of one version. Relies on the server checking the signature and
        the expiry (RGW does; moto does not), so the link names one version for ``expires``."""
        self.stat(key, version_id)
        try:
            return self.client.presigned_get_object(self.bucket, key, expires=expires, version_id=version_id)
        except ValueError as error:
            raise InputError(f"下载链接的有效期须在 1 秒到 7 天之间：{error}", "expires") from error

    # ------------------------------------------------------------------ errors

    @contextmanager
    def _errors(self, key: str | None = None, version_id: str | None = None) -> Iterator[None]:
        """Translate SDK and HTTP errors into gongwen's exception tree (models.errors)."""
        try:
            yield
        except S3Error as error:
            raise self._from_s3(error, key, version_id) from error
        except (ServerError, InvalidResponseError) as error:
            status = getattr(error, "status_code", None) or getattr(error, "_code", None)
            if isinstance(status, int) and status < 500:
                raise GongwenError(f"归档库返回了无法识别的应答（HTTP {status}）", "archive") from error
            raise self._unavailable(f"服务器错误 {status or ''}".strip()) from error
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise self._unavailable(type(error).__name__) from error

    def _unavailable(self, reason: str) -> ServiceUnavailable:
        return ServiceUnavailable(f"归档库（桶「{self.bucket}」）无法连接或暂不可用（{reason}），请稍后重试", "archive")

    def _from_s3(self, error: S3Error, key: str | None, version_id: str | None) -> GongwenError:
        code = error.code or ""
        status = error.response.status if error.response is not None else 0
        if code in _NOT_FOUND and key is not None:
            if version_id:
                return NotFound(f"归档库中没有「{key}」的版本 {version_id}", "version")
            return NotFound(f"归档库中没有「{key}」", "key")
        if code == "ObjectLocked":  # MinIO's own name; S3 servers answer AccessDenied
            return ArchiveLocked(f"「{key}」的版本 {version_id} 处于对象锁定之下", "key")
        if code == "NoSuchBucket":
            return NotFound(f"归档桶「{self.bucket}」不存在", "bucket")
        if code in _REFUSED:
            key_id = f"，访问密钥 {self.access_key}" if self.access_key else ""
            return StoreRefused(
                f"归档库拒绝了请求（{code}{key_id}）：该密钥无权执行此操作，请检查访问密钥与桶策略", "credentials"
            )
        if code in _TRANSIENT or status >= 500:
            return self._unavailable(code or f"HTTP {status}")
        return GongwenError(f"归档库返回错误 {code}：{error.message}", "archive")
