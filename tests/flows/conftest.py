"""Flow fixtures: the real application against the in-process emulator, on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.i18n import I18n
from bot.sandbox.harness import Harness


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    """A started harness; a test fails if any handler raised (unless it empties `errors`)."""
    async with Harness(settings) as h:
        yield h
        assert not h.errors, f"handlers raised: {h.errors!r}"


@pytest.fixture(scope="session")
def i18n() -> I18n:
    """The catalogs, to find button labels and texts in any language."""
    return I18n("kk")
