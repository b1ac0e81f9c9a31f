"""Reading: the commands that show passages, their buttons and replies, and their cog."""
