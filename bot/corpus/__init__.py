"""The corpus: documents parsed from the passages folder, their SQLite store, search and ingest.

``model`` (values), ``parse`` (one file's text to passages), ``files`` (the folder), ``query``
(typed text to FTS5), ``store`` (reading passages), ``random`` (random picks), ``search``,
``ingest`` (swapping in a new corpus). Nothing here imports discord.py.
"""
