"""A job run in a process of its own, so the bot's event loop never waits for it.

One at a time per :class:`Worker`; started again at most every ``every`` seconds; stopped by
:meth:`Worker.close` (the next start runs it again). A job that fails is logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, module: str, label: str, *, every: float) -> None:
        self.module = module  # run as ``python -m MODULE ARGS``
        self.label = label  # for the log: "search champion lists"
        self.every = every
        self.task: asyncio.Task[None] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._last_start = -every
        self._closed = False

    @property
    def busy(self) -> bool:
        """Running, or started less than ``every`` seconds ago."""
        return self.task is not None or time.monotonic() - self._last_start < self.every

    def start(self, *args: str) -> None:
        if self.busy or self._closed:
            return
        self._last_start = time.monotonic()
        self.task = asyncio.create_task(self._run(args))

    async def _run(self, args: tuple[str, ...]) -> None:
        started = time.perf_counter()
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, *args,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, errors = await self._process.communicate()
            code = self._process.returncode or 0
            if code == 0:
                log.info("Built the %s in %.1fs", self.label, time.perf_counter() - started)
            elif code > 0:  # below 0: stopped by close()
                tail = errors.decode(errors="replace").strip().splitlines()[-1:]
                log.warning("Could not build the %s: %s", self.label, " ".join(tail))
        except OSError as exc:
            log.warning("Could not start building the %s: %s", self.label, exc)
        finally:
            self._process, self.task = None, None

    async def close(self, grace: float = 0.0) -> None:
        """Stop the job, after letting it finish for up to ``grace`` seconds; start no more."""
        self._closed = True
        if self.task is not None and grace > 0:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self.task), grace)
        process, task = self._process, self.task
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
