"""The discord.py side of Lectern: the bot (composition root), answering interactions, turning
replies into discord.py objects, the daily poster, and start-up. Only this package and the
feature cogs import discord.py."""
