"""The invite link, with exactly the permissions Lectern uses and nothing more.

Reading commands answer through interactions, which need no channel permission. The daily
post needs to see the channel, send a message (with its card, a file), and open and write in
a discussion thread; after
a crash between recording and sending a post, it reads the channel's recent messages to find
out whether the post went out (Read Message History) before sending it again.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

#: Discord's permission bits, named as the Developer Portal and server settings name them.
PERMISSION_BITS = {
    "View Channel": 1 << 10,
    "Send Messages": 1 << 11,
    "Embed Links": 1 << 14,
    "Attach Files": 1 << 15,  # a daily post's quote card (/daily set card:true)
    "Read Message History": 1 << 16,
    "Create Public Threads": 1 << 35,
    "Send Messages in Threads": 1 << 38,
}
PERMISSION_NAMES = tuple(PERMISSION_BITS)
PERMISSIONS = sum(PERMISSION_BITS.values())
SCOPES = ("bot", "applications.commands")
AUTHORIZE_URL = "https://discord.com/oauth2/authorize"


def invite_url(client_id: int) -> str:
    """The server install link: the bot with exactly :data:`PERMISSIONS`, and its commands."""
    query = {"client_id": client_id, "scope": " ".join(SCOPES), "permissions": PERMISSIONS}
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def user_install_url(client_id: int) -> str:
    """The user install link: a person adds Lectern's commands to their account
    (``integration_type=1``, only the ``applications.commands`` scope; no bot, no permissions).
    It works once User Install is enabled under Installation in the Developer Portal."""
    query = {"client_id": client_id, "integration_type": 1, "scope": "applications.commands"}
    return f"{AUTHORIZE_URL}?{urlencode(query)}"


def client_id_from_token(token: str) -> int | None:
    """A bot token starts with the bot's user id in base64, which is the application id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None
