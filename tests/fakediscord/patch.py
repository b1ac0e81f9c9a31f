"""The one place where discord.py is pointed at the fake.

discord.py 2.7.1 has two fixed addresses: ``discord.http.Route.BASE`` (the REST base; webhook
and interaction-callback routes use the same ``Route`` class) and
``DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL`` to which it adds
``?v=10&encoding=json&compress=zlib-stream|zstd-stream``; after READY it reconnects to the
``resume_gateway_url`` the fake sends). Nothing in product code changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


@contextlib.contextmanager
def patched(api_base: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py at ``api_base`` (``http://127.0.0.1:PORT/api/v10``) and
    ``gateway_url`` (``ws://127.0.0.1:PORT/gateway/``); restore the originals afterwards."""
    for url in (api_base, gateway_url):
        host = yarl.URL(url).host
        if host != "127.0.0.1":
            raise ValueError(f"fakediscord only talks to 127.0.0.1, not {host!r}")
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
