"""Composition root: settings, wiring and the command line of gongwen."""
