"""The invite link, with exactly the permissions Lectern uses and nothing more."""

from __future__ import annotations

import base64
import binascii

import discord

#: Reading commands answer through interactions, which need no channel permission. The daily
#: post needs to see the channel, send an embed, and open and write in a discussion thread;
#: after a crash between recording and sending a post, it reads the channel's recent messages
#: to find out whether the post went out (read_message_history) before sending it again.
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    read_message_history=True,
    create_public_threads=True,
    send_messages_in_threads=True,
)
SCOPES = ("bot", "applications.commands")
#: As the Developer Portal and server settings name them (discord.py says read_messages).
PERMISSION_NAMES = (
    "View Channel",
    "Send Messages",
    "Embed Links",
    "Read Message History",
    "Create Public Threads",
    "Send Messages in Threads",
)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=REQUIRED_PERMISSIONS, scopes=SCOPES)


def client_id_from_token(token: str) -> int | None:
    """A bot token starts with the bot's user id in base64, which is the application id."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None
