"""Persistence adapters: the database, its migrations and repositories."""
