"""Running Lectern: reloading the corpus, status, command sync, the audit trail, the invite
link, and the owners' /admin cog."""
