"""A bare python-telegram-bot echo bot: the baseline `bench/throughput.py` compares against.

PTB defaults (sequential update processing), no database, no i18n: only the library's own cost.
Configured like Ortaq through BOT_TOKEN and BOT_API_URL.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    """Poll the configured Bot API until SIGTERM."""
    url = os.environ["BOT_API_URL"]
    concurrent = int(os.environ.get("ECHO_CONCURRENT", "1"))
    app = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(concurrent)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling()


if __name__ == "__main__":
    main()
