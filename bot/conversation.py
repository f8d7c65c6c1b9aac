"""Waiting for typed input and answering refusals: helpers the handler modules share.

A feature that asks for typed text stores what it waits for on the user (`bot.awaiting`);
`set_awaiting` and `stop_waiting` keep that value and the profile on the context in step, and
leave another feature's value alone. `answered_refusals` wraps a button callback so that a
service's refusal (not yours, closed, cancelled) is said both on the button and in the chat;
`id_route` gives a typed step the id its route carries and explains a refusal while the bot goes
on waiting for another try, unless no other text can mend it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from telegram import Update
from telegram.error import TelegramError

from bot.awaiting import int_argument, parse
from bot.callbacks import Button
from bot.context import BotContext
from bot.features import ButtonCallback, InputRoute
from bot.replies import reply, require_profile, toast
from bot.services import InvalidInput, ServiceError
from bot.services import users as user_service

B = TypeVar("B", bound=Button)

# A typed step that takes the id its route carries.
IdStep = Callable[[Update, BotContext, int], Awaitable[None]]


async def set_awaiting(context: BotContext, value: str | None) -> None:
    """Store what the person's typed text goes to next (`bot.awaiting`), if it changed."""
    profile = require_profile(context)
    if profile.awaiting != value:
        context.profile = await user_service.set_awaiting(
            context.db, profile.telegram_id, value, context.admin_ids
        )


async def stop_waiting(context: BotContext, routes: Collection[str]) -> None:
    """Stop waiting for input of `routes` (a value of another feature is left alone)."""
    waiting = parse(require_profile(context).awaiting)
    if waiting is not None and waiting[0] in routes:
        await set_awaiting(context, None)


async def remove_keyboard(update: Update) -> None:
    """Take the buttons off the pressed message (best effort: a double tap finds none)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError:
            return


def typed_text(update: Update) -> str:
    """The text of the message being handled ("" for none)."""
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def answered_refusals(callback: ButtonCallback[B]) -> ButtonCallback[B]:
    """Answer a service's refusal of a button as a toast and as a message.

    A stale button (the thing was cancelled, has ended, is not theirs) is answered with the
    reason, so the person is never left wondering why nothing happened.
    """

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext, data: B) -> None:
        try:
            await callback(update, context, data)
        except ServiceError as exc:
            await toast(update, context, context.t.plain(exc.key, **exc.values))
            await reply(update, context, context.t(exc.key, **exc.values))

    return run


def id_route(step: IdStep, final_refusals: Collection[str]) -> InputRoute:
    """Give a typed step the id its route carries; a refusal is explained, waiting goes on.

    The service refuses bad input with a message of its own (a time in the past, a link that is
    none): the person reads it and types again, since the stored value still waits for it. A
    refusal that no other text can mend (`final_refusals`, or any refusal that is not about the
    input: not theirs) ends the waiting instead.
    """

    async def route(update: Update, context: BotContext, argument: str) -> None:
        item = int_argument(argument)
        if item is None:
            await set_awaiting(context, None)
            await reply(update, context, context.t("errors.not_understood"))
            return
        try:
            await step(update, context, item)
        except ServiceError as exc:
            if not isinstance(exc, InvalidInput) or exc.key in final_refusals:
                await set_awaiting(context, None)
            await reply(update, context, context.t(exc.key, **exc.values))

    return route
