"""Downloading people's files from Telegram for a service that needs them (getFile, ≤ 20 MB).

Services never import `telegram`: one that needs the content of a file people sent (the
contest's entries ZIP, `bot.services.contest_bundle`) takes a `fetch(file_id, path)` and this
module makes one from a bot: the handlers' `context.bot`, or the command line's own `Bot`
built from `BOT_TOKEN` and `BOT_API_URL` (`bot_from_settings`). Without a token there is no bot
to ask: Telegram keeps the files, and only the bot they were sent to may download them.

A refusal (a file Telegram no longer has, one over the Bot API's 20 MB) becomes
`FetchFailed` with Telegram's reason, for the manifest; a flood wait or a brief network failure
is waited out and tried again a few times first.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.config import Settings
from bot.floodguard import retry_after_seconds
from bot.services.contest_bundle import Fetch, FetchFailed

logger = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF = 2.0  # seconds before trying again after a network failure (doubled each time)
MAX_WAIT = 60.0  # a flood wait longer than this gives up on the file
DOWNLOAD_TIMEOUT = 120.0  # 20 MB at a slow connection


class NoToken(Exception):
    """The command line has no BOT_TOKEN: nothing can be downloaded from Telegram."""


def bot_from_settings(settings: Settings) -> Bot:
    """A bot for the command line, talking to the configured Bot API with BOT_TOKEN.

    Raises:
        NoToken: BOT_TOKEN is not set (the sandbox's emulator lives only while it runs).
    """
    if settings.bot_token is None:
        raise NoToken(
            "BOT_TOKEN is not set: the entries' files are kept by Telegram and only the bot "
            "they were sent to can download them (set BOT_TOKEN, and BOT_API_URL for a local "
            "Bot API server)"
        )
    return Bot(
        settings.bot_token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=settings.api_base_file_url,
    )


def fetcher(bot: Bot) -> Fetch:
    """A `fetch(file_id, path)` downloading through `bot` (getFile, then the file itself)."""

    async def fetch(file_id: str, path: Path) -> None:
        """Download the file to `path`; FetchFailed with the reason when it cannot be."""
        wait = BACKOFF
        for attempt in range(1, ATTEMPTS + 1):
            try:
                found = await bot.get_file(file_id)
                await found.download_to_drive(path, read_timeout=DOWNLOAD_TIMEOUT)
                return
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                if attempt == ATTEMPTS or seconds > MAX_WAIT:
                    raise FetchFailed(f"Telegram asked to wait {seconds:.0f} s") from None
                await asyncio.sleep(seconds)
            except (BadRequest, Forbidden) as exc:
                raise FetchFailed(f"Telegram refused: {exc.message}") from None
            except NetworkError as exc:  # TimedOut included
                if attempt == ATTEMPTS:
                    raise FetchFailed(f"network failure: {exc.message}") from None
                logger.info("download of %s failed, trying again: %s", file_id, exc)
                await asyncio.sleep(wait)
                wait *= 2
            except TelegramError as exc:
                raise FetchFailed(f"Telegram error: {exc.message}") from None
            except OSError as exc:
                raise FetchFailed(f"cannot write the file: {exc.strerror or exc}") from None

    return fetch
