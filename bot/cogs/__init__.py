"""Discord adapters: thin cogs that parse options and hand the work to :mod:`bot.service`."""
