"""The registry every feature plugs into: commands, buttons, typed input, files, menu and help.

A feature is a handler module with one `register(features)` function (see `handlers/__init__`
for the ordered list, and CONTRIBUTING.md for the checklist). Registering through `Features`
rather than straight on PTB's `Application` gives every feature the same shape:

- `command("events", callback, menu=55)`: a private-chat command; `menu` puts it in
  Telegram's command menu at that place (described as `commands.<name>` in every language);
- `button(EventRsvp, callback)`: a `CallbackQueryHandler` for one kind of `bot.callbacks`
  button; the callback receives the unpacked, typed data, and malformed or forged data gets the
  stale-button answer without reaching it;
- `text("ev_title", callback)` / `file("ev_file", callback)`: what to do with typed text or a
  file while the user's stored `awaiting` value is that route (`bot.awaiting`); the callback
  receives the route's argument;
- `file_fallback(predicate, callback)`: a file that arrives while nothing is awaited (a content
  pack sent to the bot);
- `action("events.list", callback)`: a named entry point other features (the main menu, a
  deep link) open without importing the module;
- `menu(...)` and `help(...)`: the main-menu button and the `/help` paragraph, per role;
- `welcome(callback)`: something to offer a registered user who sends /start (an unfinished
  survey to continue);
- `deep_link("c", callback)`: what a `/start c-<code>` link does (courses, events, ...); a link
  opened before onboarding is complete is kept and followed once it is, unless it is registered
  with `during_onboarding=True` (an invite, which may grant the university onboarding asks for);
- `after_submit(callback)`: what to do after a survey or test was submitted in chat and its
  result shown (the course goes on after its pre-test and finishes after its post-test).

The dispatchers that read this registry (typed text, files, menu entries, `/help`) live in
`handlers.common`, added after every feature so they are tried last.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.callbacks import Button

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.context import BotContext
    from bot.services.roles import Role

B = TypeVar("B", bound=Button)

Action = Callable[[Update, "BotContext"], Coroutine[Any, Any, None]]
ButtonCallback = Callable[[Update, "BotContext", B], Coroutine[Any, Any, None]]
InputRoute = Callable[[Update, "BotContext", str], Coroutine[Any, Any, None]]
FilePredicate = Callable[[Update], bool]
SubmitHook = Callable[[Update, "BotContext", "Submitted"], Coroutine[Any, Any, None]]

FeatureRegister = Callable[["Features"], None]  # a feature module's `register`

# New messages in private chats only: an edit of an old message must not answer again.
PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A main-menu button: its code, label key, the action it opens and who sees it."""

    code: str
    label: str
    action: str
    roles: frozenset[Role] | None = None  # None: everyone who finished onboarding
    position: int = 100  # menus list entries by position, then in the order of features


@dataclass(frozen=True, slots=True)
class HelpEntry:
    """A `/help` paragraph (a translation key) and who reads it."""

    key: str
    roles: frozenset[Role] | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    """A survey or test attempt just submitted in chat: its id and its instrument's code."""

    attempt_id: int
    instrument_code: str


@dataclass
class Features:
    """What the features registered, in the order they registered it."""

    app: Application[Any, Any, Any, Any, Any, Any]
    stale: Action | None = None  # the answer to a button no handler accepts
    _menu_commands: list[tuple[int, str]] = field(default_factory=list)
    texts: dict[str, InputRoute] = field(default_factory=dict)
    files: dict[str, InputRoute] = field(default_factory=dict)
    file_fallbacks: list[tuple[FilePredicate, Action]] = field(default_factory=list)
    actions: dict[str, Action] = field(default_factory=dict)
    menu_entries: list[MenuEntry] = field(default_factory=list)
    help_entries: list[HelpEntry] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    welcomes: list[Action] = field(default_factory=list)
    deep_links: dict[str, InputRoute] = field(default_factory=dict)
    onboarding_links: set[str] = field(default_factory=set)  # followed at once, even then
    submit_hooks: list[SubmitHook] = field(default_factory=list)

    def command(self, name: str, callback: Action, *, menu: int | None = None) -> None:
        """Answer `/name` in private chats; `menu` is its place in Telegram's command menu.

        Only commands everyone may use belong in that menu (it is the same for everybody);
        their descriptions are the `commands.<name>` keys.
        """
        if name in self.commands:
            raise ValueError(f"command /{name} is registered twice")
        self.commands.append(name)
        if menu is not None:
            self._menu_commands.append((menu, name))
            self._menu_commands.sort()
        self.app.add_handler(CommandHandler(name, callback, filters=PRIVATE))

    @property
    def menu_commands(self) -> list[str]:
        """The commands of Telegram's command menu, in their order."""
        return [name for _, name in self._menu_commands]

    def button(self, kind: type[B], callback: ButtonCallback[B]) -> None:
        """Answer buttons of `kind` with `callback(update, context, data)`."""

        async def run(update: Update, context: BotContext) -> None:
            query = update.callback_query
            data = kind.unpack(query.data if query is not None else None)
            if data is None:
                if self.stale is not None:
                    await self.stale(update, context)
                return
            await callback(update, context, data)

        run.__doc__ = callback.__doc__
        run.__name__ = getattr(callback, "__name__", "button")
        self.app.add_handler(CallbackQueryHandler(run, pattern=kind.pattern()))

    def text(self, route: str, callback: InputRoute) -> None:
        """Give typed text to `callback(update, context, argument)` while `route` is awaited."""
        _add(self.texts, route, callback, "text route")

    def file(self, route: str, callback: InputRoute) -> None:
        """Give a photo or file to `callback(update, context, argument)` while `route` waits."""
        _add(self.files, route, callback, "file route")

    def file_fallback(self, predicate: FilePredicate, callback: Action) -> None:
        """Give a file that arrives while nothing is awaited to `callback`, if `predicate`."""
        self.file_fallbacks.append((predicate, callback))

    def action(self, name: str, callback: Action) -> None:
        """Name an entry point that menus and other features open without importing it."""
        _add(self.actions, name, callback, "action")

    def menu(
        self,
        code: str,
        label: str,
        action: str,
        roles: Iterable[Role] | None = None,
        *,
        position: int = 100,
    ) -> None:
        """Add a main-menu button `label` (a key) opening `action`, for `roles` (None: all)."""
        if any(entry.code == code for entry in self.menu_entries):
            raise ValueError(f"menu entry {code!r} is registered twice")
        self.menu_entries.append(MenuEntry(code, label, action, _roles(roles), position))
        self.menu_entries.sort(key=lambda entry: entry.position)

    def welcome(self, callback: Action) -> None:
        """Run `callback` when a registered user sends /start, after the menu (resume offers)."""
        self.welcomes.append(callback)

    def deep_link(
        self, prefix: str, callback: InputRoute, *, during_onboarding: bool = False
    ) -> None:
        """Give a `/start <prefix>-<code>` payload's code to `callback` (invites, courses).

        A link opened before onboarding is complete is kept on the user and followed when the
        last step is done; `during_onboarding` follows it at once instead (an invite).
        """
        if not prefix.isalnum() or not prefix.isascii():
            raise ValueError(f"bad deep-link prefix {prefix!r}")
        _add(self.deep_links, prefix, callback, "deep link")
        if during_onboarding:
            self.onboarding_links.add(prefix)

    def after_submit(self, callback: SubmitHook) -> None:
        """Run `callback(update, context, submitted)` after an attempt's result was shown."""
        self.submit_hooks.append(callback)

    def help(self, key: str, roles: Iterable[Role] | None = None) -> None:
        """Add the `/help` paragraph `key` for `roles` (None: everyone)."""
        self.help_entries.append(HelpEntry(key, _roles(roles)))

    def handler(self, handler: BaseHandler[Any, Any, Any], group: int = 0) -> None:
        """Add a PTB handler of another kind (chat member updates and the like)."""
        self.app.add_handler(handler, group=group)


def _roles(roles: Iterable[Role] | None) -> frozenset[Role] | None:
    return frozenset(roles) if roles is not None else None


def _add(table: dict[str, Any], name: str, value: Any, what: str) -> None:
    if name in table:
        raise ValueError(f"{what} {name!r} is registered twice")
    table[name] = value
