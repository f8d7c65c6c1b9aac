"""Telegram adapters, one module per feature; `FEATURES` is the one ordered list of them.

Each feature module has a `register(features)` that adds its commands, buttons, typed-input and
file routes, menu entries and /help paragraphs to the registry (`bot.features.Features`). A
new feature is a new module here and one line in `FEATURES`; no other module changes. The core
(`common`) comes first and its fallbacks after every feature, so they are tried last.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from bot.features import FeatureRegister, Features
from handlers import (
    analysis,
    bank,
    bank_contribute,
    bank_inline,
    bank_stats,
    broadcasts,
    campaigns,
    certificates,
    common,
    content,
    contest,
    contest_jury,
    contest_results,
    contest_setup,
    course,
    course_stats,
    event_stats,
    events,
    events_manage,
    events_wizard,
    exports,
    invites,
    surveys,
    universities,
    users,
)

# The order in which features register: it decides the order of menu entries of the same
# position and of /help paragraphs for the same roles.
FEATURES: tuple[FeatureRegister, ...] = (
    common.register,
    users.register,
    invites.register,
    universities.register,
    surveys.register,
    course.register,
    certificates.register,
    course_stats.register,
    events.register,
    events_wizard.register,
    events_manage.register,
    event_stats.register,
    contest.register,
    contest_jury.register,
    contest_results.register,
    contest_setup.register,
    bank.register,
    bank_contribute.register,
    bank_inline.register,
    bank_stats.register,
    campaigns.register,
    broadcasts.register,
    content.register,
    exports.register,
    analysis.register,
)


def register(
    app: Application[Any, Any, Any, Any, Any, Any],
    features: tuple[FeatureRegister, ...] = FEATURES,
) -> Features:
    """Let every feature register itself on `app`, then add the fallbacks; return the registry."""
    registry = Features(app)
    for feature in features:
        feature(registry)
    common.register_fallbacks(registry)
    return registry
