"""What the bot waits for from a user, in one format: `route` or `route:argument`.

A feature that asks for typed text or a file stores `waiting_for("sv", 12)` ("sv:12") on the
user (`users.set_awaiting`), registers a handler for the route (`Features.text`,
`Features.file`), and the one dispatcher in `handlers.common` calls it with the argument. The
value lives in the database, so a restart between the question and the answer loses nothing.
"""

from __future__ import annotations

import re

AWAITING_MAX = 32  # the width of `user.awaiting`
_ROUTE = re.compile(r"[a-z][a-z0-9_]{0,19}")


def waiting_for(route: str, argument: object = "") -> str:
    """The stored value for `route` with `argument` (an id, or a short code without spaces)."""
    if not _ROUTE.fullmatch(route):
        raise ValueError(f"bad route {route!r}")
    text = str(argument)
    value = f"{route}:{text}" if text else route
    if len(value) > AWAITING_MAX or any(c.isspace() for c in text):
        raise ValueError(f"awaiting value {value!r} is over {AWAITING_MAX} characters or spaced")
    return value


def parse(value: str | None) -> tuple[str, str] | None:
    """`(route, argument)` of a stored value, or None when nothing valid is awaited."""
    if not value:
        return None
    route, _, argument = value.partition(":")
    if not _ROUTE.fullmatch(route):
        return None
    return route, argument


def int_argument(argument: str) -> int | None:
    """A non-negative id from an argument, or None for anything else."""
    if argument.isdigit() and argument.isascii() and len(argument) <= 15:
        return int(argument)
    return None
