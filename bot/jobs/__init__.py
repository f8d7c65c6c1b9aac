"""Long-running and scheduled work of the bot: broadcasts now, reminders later."""
