"""Campaign steps, a timed duty: the invitations when a campaign opens, its reminder, its closing.

Each pass asks the campaign service for the steps that are due (`campaigns.due_steps`): a step
is taken once, because it is marked done (`invited_at`, `reminded_at`, `closed_at`) in the same
transaction that queues its messages in the broadcast outbox; then the pass starts sending what
was queued. Steps fall due at stored times, so a pass every minute keeps each within a minute of
its time; publishing or closing a campaign runs a pass at once (`Jobs.run(CAMPAIGN_STEPS)`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.config import LANGUAGES
from bot.jobs.duties import Duty
from bot.services import campaigns as campaign_service

if TYPE_CHECKING:
    from bot.context import BotData

logger = logging.getLogger(__name__)

CAMPAIGN_STEPS = "campaign-steps"
EVERY = 60.0


def duty(data: BotData) -> Duty:
    """The campaign-steps duty of one application."""
    broadcaster, db, i18n, settings = data.broadcaster, data.db, data.i18n, data.settings
    if broadcaster is None or db is None or i18n is None or settings is None:
        raise RuntimeError("the application is wired before the duties start")

    async def run() -> None:
        """Queue every due campaign step in the outbox, then start sending what it queued."""
        translators = {language: i18n.translator(language) for language in LANGUAGES}
        steps = await campaign_service.due_steps(
            db, translators, settings.default_language, settings.tz
        )
        for step in steps:
            logger.info("campaign %s: %s", step.campaign_id, step.kind)
            for broadcast_id in step.broadcast_ids:
                broadcaster.start(broadcast_id)

    return Duty(CAMPAIGN_STEPS, EVERY, run)
