"""A private Postfix instance (a real MTA) on 127.0.0.1 for the 核发 tests and the benchmark.

    with running_postfix() as postfix:
        channel = SmtpChannel(postfix.host, postfix.port, "none", None, None, sender)
        ...
        postfix.wait_delivered(32)        # the Maildir files, once the queue has delivered them

It writes its own configuration in a temporary folder of its own (``etc/main.cf`` and ``etc/master.cf``,
the queue, the log, the Maildir; readable by the ``postfix`` user, which pytest's folders are not) and
starts it with ``postfix -c DIR start``, as root: master listens on a free
port of 127.0.0.1 only (smtpd, no chroot), takes mail for ``DOMAIN`` and its subdomains and delivers
every address of them to one Maildir (``maildir``: one file per message in ``new/``) through the virtual delivery
agent. Nothing is relayed; the system's Postfix (``/etc/postfix``) is neither used nor started.
It runs without systemd: master is Postfix's own supervisor. On exit, ``postfix -c DIR stop``, and the
folder is removed once master has gone.

Without the Debian package (`bash .ci/mail-packages.sh`) or as a user other than root,
``postfix_missing()`` gives the reason; a test asks first and is skipped (failed in CI,
tests/servers/requirements.py):

    need(postfix_missing())
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.smtp import free_port

#: The mail domain the instance is the final destination for, with its subdomains (kaifeng.example.cn …):
#: every address of them lands in the Maildir.
DOMAIN = "example.cn"
START_TIMEOUT = 30  # seconds; a start takes about 1 s here
#: The Debian package's master.cf services that a private instance leaves out: mail to external programs.
_PIPES = ("maildrop", "uucp", "ifmail", "bsmtp", "scalemail-backend", "mailman", "tlsmgr")


class PostfixError(RuntimeError):
    """The instance did not start, stop or deliver in time."""


def postfix_missing() -> str | None:
    """None when a private Postfix can run here, else the reason it cannot (a skip reason)."""
    if shutil.which("postfix") is None or shutil.which("postconf") is None:
        return "Postfix not installed: run `bash .ci/mail-packages.sh` (Debian package postfix)"
    if os.geteuid() != 0:
        return "a private Postfix instance must be started as root (postfix -c DIR start)"
    return None


@dataclass(frozen=True)
class PostfixServer:
    """The running instance: where it listens, its configuration folder and its Maildir."""

    host: str
    port: int
    config: Path
    maildir: Path
    log: Path

    def delivered(self) -> list[Path]:
        """The messages delivered so far: the files in the Maildir's ``new/``."""
        new = self.maildir / "new"
        return sorted(new.iterdir()) if new.is_dir() else []

    def wait_delivered(self, count: int, timeout: float = 60) -> list[Path]:
        """The delivered messages once there are at least ``count`` of them (the queue delivers after
        smtpd has answered 250)."""
        deadline = time.monotonic() + timeout
        while len(found := self.delivered()) < count:
            if time.monotonic() > deadline:
                raise PostfixError(f"Postfix delivered {len(found)} of {count} messages in {timeout} s; see {self.log}")
            time.sleep(0.05)
        return found


def _postconf(config: Path, *args: str) -> None:
    subprocess.run(["postconf", "-c", str(config), *args], check=True, capture_output=True, text=True)


def _postfix(server: PostfixServer, command: str) -> None:
    result = subprocess.run(
        ["postfix", "-c", str(server.config), command],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    if result.returncode != 0:  # (Postfix writes why to its log, not to a pipe)
        log = server.log.read_text(errors="replace").splitlines()[-5:] if server.log.exists() else []
        raise PostfixError(f"postfix {command} failed: {' | '.join(log) or result.stderr.strip()}")


def _master_pid(server: PostfixServer) -> int | None:
    pid_file = server.config.parent / "queue" / "pid" / "master.pid"
    return int(pid_file.read_text().strip()) if pid_file.exists() else None


def _gone(pid: int) -> bool:
    """The process has exited (or is a zombie nobody reaps: a container's init may not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _configure(root: Path, port: int) -> PostfixServer:
    config, maildir = root / "etc", root / "mail" / "inbox"
    for folder in (config, root / "queue", root / "data", root / "log", root / "mail"):
        folder.mkdir(parents=True, exist_ok=True)
    owner = pwd.getpwnam("postfix")
    os.chown(root / "data", owner.pw_uid, owner.pw_gid)
    os.chown(root / "mail", owner.pw_uid, owner.pw_gid)
    shutil.copy("/etc/postfix/master.cf", config / "master.cf")
    (config / "main.cf").write_text("")
    (config / "mailboxes").write_text("/./ inbox/\n")  # every address → the one Maildir (trailing /)
    (config / "domains").write_text(f"/(^|\\.){re.escape(DOMAIN)}$/ OK\n")  # DOMAIN and its subdomains
    _postconf(
        config,
        "-e",
        f"queue_directory = {root / 'queue'}",
        f"data_directory = {root / 'data'}",
        f"maillog_file = {root / 'log' / 'postfix.log'}",
        f"maillog_file_prefixes = {root / 'log'}",
        "compatibility_level = 3.6",
        "inet_interfaces = 127.0.0.1",
        "inet_protocols = ipv4",
        "myhostname = mail.gongwen.test",
        "mydestination =",
        "mynetworks = 127.0.0.0/8",
        "relayhost =",
        "alias_maps =",
        "alias_database =",
        "biff = no",
        f"virtual_mailbox_domains = regexp:{config / 'domains'}",
        f"virtual_mailbox_base = {root / 'mail'}",
        f"virtual_mailbox_maps = regexp:{config / 'mailboxes'}",
        f"virtual_uid_maps = static:{owner.pw_uid}",
        f"virtual_gid_maps = static:{owner.pw_gid}",
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
    )
    _postconf(config, "-M#", *(f"{name}/unix" for name in _PIPES))
    _postconf(config, "-F", "-e", "*/*/chroot = n")
    _postconf(config, "-MX", "smtp/inet")
    _postconf(config, "-M", "-e", f"127.0.0.1:{port}/inet = 127.0.0.1:{port} inet n - n - - smtpd")
    return PostfixServer("127.0.0.1", port, config, maildir, root / "log" / "postfix.log")


def _wait_for_smtp(server: PostfixServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with smtplib.SMTP(server.host, server.port, timeout=5) as smtp:
                smtp.noop()
            return
        except (OSError, smtplib.SMTPException) as error:
            if time.monotonic() > deadline:
                raise PostfixError(f"Postfix at {server.host}:{server.port} does not answer: {error}") from error
            time.sleep(0.1)


@contextmanager
def running_postfix() -> Iterator[PostfixServer]:
    """Start a private Postfix in a temporary folder; stop it and remove the folder on exit."""
    reason = postfix_missing()
    if reason is not None:
        raise PostfixError(reason)
    with tempfile.TemporaryDirectory(prefix="gongwen-postfix-") as folder:
        Path(folder).chmod(0o755)
        server = _configure(Path(folder), free_port())
        _postfix(server, "start")
        try:
            _wait_for_smtp(server, START_TIMEOUT)
            yield server
        finally:
            pid = _master_pid(server)
            _postfix(server, "stop")
            deadline = time.monotonic() + START_TIMEOUT
            while pid is not None and not _gone(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
