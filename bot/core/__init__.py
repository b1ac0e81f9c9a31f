"""Pieces every feature shares: errors, the reply model and Discord's limits, text utilities,
the database and its migrations, and the per-member rate limit. Nothing here imports discord.py."""
