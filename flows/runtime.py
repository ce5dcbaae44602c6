"""The adapters a flow run works with, and where a flow-run process gets them.

Flows take ids, not payloads, so every flow run needs the database, the archive
store and the mail channel of the installation it runs in. ``Services`` bundles
them. A flow run may execute in the process that served it, in a subprocess the
Prefect runner spawned, or on a worker of a work pool: ``services()`` builds them
once per process through the factory registered under the ``gongwen.services``
entry point (gongwen's composition root, which reads the settings), unless a
caller installed its own with ``provide`` (tests, benchmarks).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from actions.distribution import MailOptions
from delivery.base import Channel
from doc_templates import PdfConverter
from models.distribution import ChasePolicy
from models.download_links import DownloadLinks
from storage.archive.base import ArchiveStore, LockMode
from storage.database import Database

ENTRY_POINT_GROUP = "gongwen.services"


@dataclass(frozen=True)
class Services:
    """What orchestration needs: the database, the archive (归档) store and its lock mode,
    a factory for the 核发 channel (a fresh one per dispatch, closed after it), the mail
    options, the 催办 policy, the makers of download links at the 门户, optionally a
    PDF converter kept open across documents, and the key that verifies the 门户's stamps on answers
    and starts (none: every answer and start is refused)."""

    db: Database
    archive_store: ArchiveStore
    store_name: str
    lock_mode: LockMode
    open_channel: Callable[[], Channel]
    mail: MailOptions
    chase: ChasePolicy
    links: DownloadLinks | None = field(default=None, repr=False)  # None: artifacts without file links
    converter: PdfConverter | None = None
    stamp_key: bytes | None = field(default=None, repr=False)  # verifies the 门户's stamps (models.stamps)


_factory: Callable[[], Services] | None = None
_services: Services | None = None


def provide(factory: Callable[[], Services] | None) -> None:
    """Use ``factory`` for this process's services (None: back to the entry point)."""
    global _factory, _services
    _factory, _services = factory, None


def services() -> Services:
    """This process's services, built on first use."""
    global _services
    if _services is None:
        _services = (_factory or registered_factory())()
    return _services


@functools.cache
def registered_factory() -> Callable[[], Services]:
    """The factory registered under the ``gongwen.services`` entry point, looked up once a process."""
    found = entry_points(group=ENTRY_POINT_GROUP)
    if not found:
        raise RuntimeError(f"no factory registered under the {ENTRY_POINT_GROUP!r} entry point; is gongwen installed?")
    return next(iter(found)).load()
