"""Telegram adapters. `register` is the single ordered list of every handler of the bot."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    analysis,
    broadcasts,
    campaigns,
    common,
    exports,
    invites,
    surveys,
    universities,
    users,
)

# Group -1 loads the profile for every update before any other handler looks at it.
PROFILE_GROUP = -1


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler to `app`, in the order they must be tried."""
    app.add_handler(TypeHandler(Update, common.load_profile), group=PROFILE_GROUP)
    # New messages only: an edit of an old message must not answer a question again.
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    commands = {
        "start": users.start,
        "help": common.help_command,
        "menu": common.menu,
        "cancel": common.cancel,
        "language": users.change_language,
        "profile": users.show_profile,
        "delete_my_data": users.ask_delete,
        "invite": invites.start_invite,
        "universities": universities.list_universities,
        "broadcast": broadcasts.start_broadcast,
        "broadcasts": broadcasts.list_broadcasts,
        "surveys": surveys.list_surveys,
        "my_results": surveys.my_results,
        "publish": campaigns.start_publish,
        "campaigns": campaigns.list_campaigns,
        "export": exports.start_export,
        "analysis": analysis.start_analysis,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=private))
    callbacks = {
        r"^lang:": users.choose_language,
        r"^cons:": users.choose_consent,
        r"^uni:": users.choose_university,
        r"^prof:": users.profile_action,
        r"^del:": users.confirm_delete,
        r"^menu:": common.open_menu_item,
        r"^inv:": invites.invite_step,
        r"^adm:": universities.university_action,
        r"^bc:": broadcasts.broadcast_button,
        r"^s:": surveys.survey_button,
        r"^cp:": campaigns.campaign_button,
        r"^ex:": exports.export_button,
        r"^an:": analysis.analysis_button,
    }
    for pattern, callback in callbacks.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    app.add_handler(CallbackQueryHandler(common.stale_button))
    app.add_handler(ChatMemberHandler(common.track_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(private & filters.COMMAND, common.unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, common.route_text))
    app.add_handler(MessageHandler(private & ~filters.TEXT, common.route_media))
