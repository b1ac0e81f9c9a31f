"""The errors a user may see, and the apology for the ones they should not."""

from __future__ import annotations

APOLOGY = "Sorry, something went wrong on Lectern's side. It has been logged; please try again."


class UserError(Exception):
    """Something the user asked for cannot be done; the message says why, kindly."""
