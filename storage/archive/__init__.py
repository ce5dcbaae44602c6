"""Archive stores (归档库): write-once, versioned, retention-locked object storage.

``ArchiveStore`` is the interface; ``LocalArchiveStore`` (a folder, the embedded
default) and ``S3ArchiveStore`` (MinIO or any S3 server with object lock, via
the ``minio`` SDK) implement it and pass one contract suite.
"""

from storage.archive.base import ArchiveStore, Lock, StoredVersion

__all__ = ["ArchiveStore", "Lock", "StoredVersion"]
