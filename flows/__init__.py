"""Orchestration of the lifecycle steps over storage, doc_templates and delivery."""
