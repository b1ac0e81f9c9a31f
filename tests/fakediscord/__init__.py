"""fakediscord: a fake Discord (REST v10 + gateway) on 127.0.0.1 for end-to-end tests.

See README.md in this folder. Main entry points: the ``fake_discord`` pytest fixture
(:mod:`tests.fakediscord.pytest_plugin`) and :class:`FakeDiscord`.
"""

from .models import Channel, Guild, Member, Overwrite, Role, User
from .patch import patched
from .rules import Breach
from .server import DiscordError, FakeDiscord, Interaction, Request

__all__ = [
    "Breach",
    "Channel",
    "DiscordError",
    "FakeDiscord",
    "Guild",
    "Interaction",
    "Member",
    "Overwrite",
    "Request",
    "Role",
    "User",
    "patched",
]
