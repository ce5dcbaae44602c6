"""Wiring: turn settings into the adapters the commands use."""

from __future__ import annotations

from functools import cached_property

from gongwen.settings import Settings
from storage.archive.base import ArchiveStore
from storage.archive.local import LocalArchiveStore
from storage.database import Database
from storage.migrations import upgrade


class App:
    """The adapters for one invocation, built lazily from settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def db(self) -> Database:
        """The database, its schema brought up to date (migrations run automatically)."""
        if self.settings.database_url is None:
            self.settings.home.mkdir(parents=True, exist_ok=True)
        database = Database.from_url(self.settings.effective_database_url)
        upgrade(database.engine)
        return database

    @cached_property
    def archive_store(self) -> ArchiveStore:
        """The archive store chosen by GONGWEN_ARCHIVE (local folder under the home by default)."""
        return LocalArchiveStore(self.settings.home.resolve() / "archive")
