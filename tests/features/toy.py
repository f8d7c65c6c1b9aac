"""A toy feature, the smallest complete one: a command, a kind of button and a typed-input route.

It lives in the tests and is plugged in by passing it to the harness, so the test that uses it
proves a new feature needs no edit of any other module.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from bot import keyboards as kb
from bot.awaiting import int_argument, waiting_for
from bot.callbacks import Button
from bot.context import BotContext
from bot.features import Features
from bot.replies import reply, require_profile, toast
from bot.services import users as user_service

ROUTE = "toy_name"


@dataclass(frozen=True, slots=True)
class ToyPress(Button, prefix="toy:p"):
    """The toy's one button: it carries a number."""

    number: int


def register(features: Features) -> None:
    """Add /toy, its button and the typed name it asks for."""
    features.command("toy", start)
    features.button(ToyPress, pressed)
    features.text(ROUTE, named)


async def start(update: Update, context: BotContext) -> None:
    """Offer the toy's button (/toy)."""
    await reply(update, context, "Toy here", kb.rows([kb.button("Press", ToyPress(7).pack())]))


async def pressed(update: Update, context: BotContext, data: ToyPress) -> None:
    """Ask for a name, remembering the number the button carried."""
    profile = require_profile(context)
    await toast(update, context)
    context.profile = await user_service.set_awaiting(
        context.db, profile.telegram_id, waiting_for(ROUTE, data.number), context.admin_ids
    )
    await reply(update, context, f"Name for #{data.number}?")


async def named(update: Update, context: BotContext, argument: str) -> None:
    """Greet the typed name with the number the route carried."""
    profile = require_profile(context)
    message = update.effective_message
    context.profile = await user_service.set_awaiting(
        context.db, profile.telegram_id, None, context.admin_ids
    )
    text = message.text if message is not None and message.text else ""
    await reply(update, context, f"Hello {text} #{int_argument(argument)}")
