"""A throwaway Ceph RGW (a real S3 server with object lock) for tests.

    with running_rgw(tmp_path) as rgw:
        client = Minio(rgw.endpoint, rgw.access_key, rgw.secret_key, secure=False)

It runs tests/servers/ceph_rgw.sh (one ceph-mon, one memstore OSD, radosgw on 127.0.0.1),
waits until S3 answers and stops everything on exit. Without the Debian packages
(`bash .ci/ceph-packages.sh`) it raises RgwUnavailable; a test asks first, and is skipped (failed
in CI, tests/servers/requirements.py) with the reason:

    need(rgw_missing())
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "ceph_rgw.sh"
BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")
START_TIMEOUT = 120  # seconds; a start takes ~3 s here


class RgwUnavailable(RuntimeError):
    """The Ceph packages are not installed: tests should skip with this message."""


class RgwError(RuntimeError):
    """The server was there but did not start or stop."""


@dataclass(frozen=True)
class RgwServer:
    endpoint: str  # "127.0.0.1:PORT", plain HTTP
    access_key: str  # owner of the buckets
    secret_key: str
    auditor_access_key: str  # may read what a bucket policy grants, and create nothing
    auditor_secret_key: str
    user: str = "gongwen"  # RGW user ids, for policies: arn:aws:iam:::user/<id>
    auditor_user: str = "auditor"
    dir: Path = Path()

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def auditor_arn(self) -> str:
        return f"arn:aws:iam:::user/{self.auditor_user}"

    @property
    def ops_log(self) -> Path:
        """RGW's ops log: one JSON object per S3 request, refused ones included (user, operation, http_status)."""
        return self.dir / "log" / "ops.log"

    def stop_gateway(self) -> None:
        """Stop radosgw alone (an S3 outage); the stored objects survive."""
        _run("stop-gateway", str(self.dir))

    def start_gateway(self) -> None:
        """Start radosgw again after stop_gateway() and wait until S3 answers."""
        _run("start-gateway", str(self.dir))
        _wait_for_s3(self.endpoint, 30)


# What an auditor may do in an archive bucket: read objects and their versions, list, and
# read the lock state. Nothing that writes, deletes, or changes retention or legal hold.
#: The auditors' read-only actions, as documented for operators in deploy/minio/auditor-policy.json.
AUDITOR_ACTIONS = tuple(
    json.loads((Path(__file__).resolve().parents[2] / "deploy" / "minio" / "auditor-policy.json").read_text())[
        "Statement"
    ][0]["Action"]
)


def read_only_policy(bucket: str, principal_arn: str) -> str:
    """A bucket policy (JSON) granting principal_arn read-only access to bucket."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AuditorReadOnly",
                    "Effect": "Allow",
                    "Principal": {"AWS": [principal_arn]},
                    "Action": list(AUDITOR_ACTIONS),
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


def rgw_missing() -> str | None:
    """None when the server can run here, else the reason it cannot (a skip reason)."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        return (
            f"Ceph RGW not installed ({', '.join(missing)} missing): "
            "run `bash .ci/ceph-packages.sh` (Debian packages ceph-mon ceph-osd radosgw)"
        )
    if shutil.which("python3") is None:
        return "ceph_rgw.sh needs python3 on PATH"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, timeout: float = START_TIMEOUT) -> str:
    try:
        result = subprocess.run(
            ["bash", str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise RgwError(f"ceph_rgw.sh {' '.join(args)} took more than {timeout} s") from error
    if result.returncode != 0:
        raise RgwError(result.stderr.strip() or f"ceph_rgw.sh {' '.join(args)} exited {result.returncode}")
    return result.stdout


def _wait_for_s3(endpoint: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://{endpoint}/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the gateway serves requests
        except OSError as error:
            if time.monotonic() > deadline:
                raise RgwError(f"S3 at {endpoint} does not answer: {error}") from error
            time.sleep(0.1)


@contextmanager
def running_rgw(tmp_dir: Path | str, port: int | None = None) -> Iterator[RgwServer]:
    """Start Ceph RGW with its files under tmp_dir/ceph-rgw; stop it on exit."""
    reason = rgw_missing()
    if reason is not None:
        raise RgwUnavailable(reason)
    directory = Path(tmp_dir) / "ceph-rgw"
    output = None
    for attempt in range(3):  # a free port may be taken by someone else before radosgw binds it
        try:
            output = _run("start", str(directory), str(port or _free_port()))
            break
        except RgwError as error:
            if port is not None or "in use" not in str(error) or attempt == 2:
                try:
                    _run("stop", str(directory))
                except RgwError:
                    pass  # the start error below says more
                raise
    assert output is not None
    try:
        keys = json.loads(output.strip().splitlines()[-1])
        server = RgwServer(
            endpoint=keys["endpoint"],
            access_key=keys["access_key"],
            secret_key=keys["secret_key"],
            auditor_access_key=keys["auditor_access_key"],
            auditor_secret_key=keys["auditor_secret_key"],
            user=keys["user"],
            auditor_user=keys["auditor_user"],
            dir=Path(keys["dir"]),
        )
        _wait_for_s3(server.endpoint, 30)
        yield server
    finally:
        _run("stop", str(directory), timeout=60)
