"""Lectern: a Discord bot that keeps literary passages in SQLite and brings them to servers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lectern")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
