"""Pruning the record of handled updates, a timed duty.

`handled_update` gets a row per update (`bot.replicas`); a row older than
`bot.services.handled_updates.KEEP` can never match a redelivery, so every hour the old rows
are deleted. This duty claims nothing: a delete of old rows is the same on one replica or two
at once (PostgreSQL's row locks make the second one wait and then find nothing left).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.duties import Duty
from bot.services import handled_updates

if TYPE_CHECKING:
    from bot.context import BotData

logger = logging.getLogger(__name__)

PRUNE_HANDLED = "handled-updates-prune"
EVERY = 3600.0


def prune_duty(data: BotData) -> Duty:
    """The duty that deletes old handled-update records, for one application."""
    db = data.db
    if db is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Delete the records no redelivery can match any more."""
        count = await handled_updates.prune(db)
        if count:
            logger.info("handled updates: %d old records pruned", count)

    return Duty(PRUNE_HANDLED, EVERY, run)
