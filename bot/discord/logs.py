"""Logging: discord.py's formatter on the terminal, an optional rotating file, no secrets."""

from __future__ import annotations

import logging
import logging.handlers

import discord

from ..config import ConfigError, Settings

REDACTED = "[token redacted]"


class RedactSecrets(logging.Filter):
    """Replace the bot token wherever it would appear in a log record (message, args, trace)."""

    def __init__(self, *secrets: str | None) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter and redacts the finished text.

    The filter alone is not enough: discord.py's colour formatter formats a traceback afresh
    from ``exc_info``, so a token inside an exception's message would reach the terminal.
    """

    def __init__(self, inner: logging.Formatter | None, *secrets: str | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(settings: Settings) -> None:
    """Set up the root logger once, for the running bot: one terminal handler (whatever the
    command line set up before is replaced, so no line prints twice), an optional file."""
    level = logging.getLevelName(settings.log_level)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    discord.utils.setup_logging(level=level, root=True)
    if settings.log_file:
        try:
            settings.log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                settings.log_file, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
            )
        except OSError as error:
            reason = error.strerror or str(error)
            raise ConfigError(
                f"LECTERN_LOG_FILE: cannot write {settings.log_file}: {reason}"
            ) from None
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s"))
        root.addHandler(handler)
    redact = RedactSecrets(settings.token)
    for each in root.handlers:
        each.addFilter(redact)
        each.setFormatter(RedactingFormatter(each.formatter, settings.token))
