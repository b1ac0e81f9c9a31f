"""pytest fixtures for fakediscord.

Enable with ``pytest_plugins = ["tests.fakediscord.pytest_plugin"]`` in a conftest.py.

``fake_discord``: a started :class:`FakeDiscord` per test. At teardown the test FAILS if the fake
recorded any breach of Discord's rules, any call to a route it does not serve, or an interaction
that never got a callback, unless the test consumed them (``take_breaches()``,
``take_unexpected()``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .server import FakeDiscord


@pytest_asyncio.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord on 127.0.0.1:<OS port>; fails the test on leftover problems."""
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    problems = fake.problems()
    if problems:
        pytest.fail("fakediscord recorded problems:\n  " + "\n  ".join(problems), pytrace=False)
