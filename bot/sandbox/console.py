"""`python -m bot sandbox`: the bot and the emulator together, with a chat in the terminal.

The emulator serves the Bot API over HTTP on 127.0.0.1 and the real bot polls it exactly as it
polls Telegram, so what a newcomer sees here is what students will see. In a terminal the
newcomer chats as one of three identities (student, coach, organizer) and presses buttons by
their number; without a terminal (a script, CI) the process only serves the emulator's HTTP
API, whose `/sandbox/...` control routes let programs play the users.

So that a newcomer has something real to answer at once, the sandbox opens a demo campaign of
the default pre survey for everyone, published by the organizer identity through the same
service an organizer's /publish uses; only on the first start, so a restart (or the organizer
closing it) is respected. The default course (`dlt_course`, loaded with the default content)
is open to every student from the start: the console says so, and `/course` enrols. Its
pre-test is the same dlt_pre, so a student who answered the demo survey goes straight to the
first lesson. And a demo webinar is scheduled by the coach identity through the events service
(drafted and published as `/new_event` does) a couple of hours ahead, whenever no event of
theirs is still to come: a student registers for it from `/events`, and its reminders come
while the sandbox runs. The default contest (loaded with the default content, without windows)
is opened by the organizer identity through the contest service (`contest.set_windows`),
accepting entries from now for two weeks; only while it has no windows, so windows an organizer
set (or a contest that has closed) are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TextIO

from bot.app import build_application
from bot.config import Settings
from bot.db import Sessionmaker
from bot.i18n import I18n
from bot.sandbox.emulator import Emulator, MessageRecord
from bot.sandbox.server import EmulatorServer
from bot.services import NotFound
from bot.services.campaigns import ensure_campaign
from bot.services.contest import ContestView
from bot.services.contest import by_code as contest_by_code
from bot.services.contest import set_windows as set_contest_windows
from bot.services.course import CourseSummary, list_courses
from bot.services.event_authoring import create_draft, publish
from bot.services.event_authoring import update_draft as update_event
from bot.services.event_times import show_when
from bot.services.events import EventState, EventView, Kind, manageable
from bot.services.roles import Role, ensure_role
from bot.services.universities import list_universities
from models import utcnow


@dataclass(frozen=True)
class Identity:
    """A person the newcomer can be in the console."""

    name: str
    user_id: int
    first_name: str
    language_code: str
    role: Role


IDENTITIES = {
    "student": Identity("student", 1001, "Aigerim", "kk", Role.STUDENT),
    "coach": Identity("coach", 1002, "Daniyar", "ru", Role.COACH),
    "organizer": Identity("organizer", 1003, "Olga", "en", Role.ORGANIZER),
}
# The default content's pre survey, open in the sandbox from the start.
DEMO_INSTRUMENT = "dlt_pre"
DEMO_WAVE = "pre"
# The default course, loaded with the default content and open to every student.
DEMO_COURSE = "dlt_course"
# The demo webinar the coach identity schedules: this far ahead (rounded up to a quarter hour),
# so its 1-hour and 10-minute reminders come while the sandbox runs.
DEMO_EVENT_AHEAD = timedelta(hours=2)
DEMO_EVENT_TITLE = {
    "kk": "Демо-вебинар: сабақтағы цифрлық құралдар",
    "ru": "Демо-вебинар: цифровые инструменты на занятии",
    "en": "Demo webinar: digital tools in the classroom",
}
DEMO_EVENT_DESCRIPTION = {
    "kk": "Құм жәшіктегі сынақ вебинары: тіркеліп, күнтізбеге қосып, еске салғыштарды күтіңіз.",
    "ru": "Пробный вебинар песочницы: зарегистрируйтесь, добавьте в календарь и дождитесь "
    "напоминаний.",
    "en": "The sandbox's practice webinar: register, add it to your calendar and wait for the "
    "reminders.",
}
DEMO_EVENT_LINK = "https://meet.example.org/ortaq-demo"
DEMO_EVENT_PLACES = 25
# The default contest, open in the sandbox for this long (then the jury has as long again).
DEMO_CONTEST = "dlt_platform_contest"
DEMO_CONTEST_OPEN = timedelta(days=14)
DEMO_CONTEST_JURY = timedelta(days=14)

HELP = """\
Type a message and press Enter to send it to the bot. Buttons are shown as [1], [2], ...:
type the number to press one. Console commands:
  :as student | :as coach | :as organizer   switch identity (each has its own chat)
  :file PATH                                 send a file
  :who                                       show who you are
  :help                                      this help
  :quit                                      stop (Ctrl-D works too)"""


class Console:
    """A line-based chat with the bot in a terminal."""

    def __init__(self, emulator: Emulator, out: TextIO):
        """Chat through `emulator`, printing to `out`."""
        self.emulator = emulator
        self.out = out
        self.identity = IDENTITIES["student"]
        self._shown: dict[tuple[int, int], int] = {}  # (chat, message) -> edits shown
        self._toasts: dict[int, int] = {}

    def say(self, text: str) -> None:
        """Print a line and flush (the other end may be a pipe)."""
        print(text, file=self.out, flush=True)

    def render(self, record: MessageRecord, edited: bool) -> None:
        """Print one bot message with its numbered buttons."""
        head = "🤖 Ortaq (edited):" if edited else "🤖 Ortaq:"
        self.say(head)
        if record.document:
            self.say(f"  📎 {record.document.get('file_name', 'file')}")
        if record.photo:
            self.say("  🖼 photo")
        if record.video:
            self.say(f"  🎬 {record.video.get('file_name', 'video')}")
        if record.content:
            for line in record.content.splitlines():
                self.say(f"  {line}")
        labels = [label for row in record.inline_keyboard for label in _row_labels(row)]
        if labels:
            self.say("  " + "   ".join(f"[{i}] {label}" for i, label in enumerate(labels, 1)))

    def show_new(self) -> None:
        """Print the bot messages, edits and notices the current identity has not seen."""
        chat_id = self.identity.user_id
        for record in self.emulator.bot_messages(chat_id):
            key = (chat_id, record.message_id)
            shown = self._shown.get(key)
            if shown is None or shown < record.edited:
                self.render(record, edited=shown is not None)
                self._shown[key] = record.edited
        toasts = self.emulator.toasts(chat_id)
        for text in toasts[self._toasts.get(chat_id, 0) :]:
            if text:
                self.say(f"💬 {text}")
        self._toasts[chat_id] = len(toasts)

    def last_buttons(self) -> tuple[int, list[tuple[str, str | None]]] | None:
        """The newest bot message with buttons: its id and (label, callback data) pairs."""
        for record in reversed(self.emulator.bot_messages(self.identity.user_id)):
            buttons = [
                (b.get("text", ""), b.get("callback_data"))
                for row in record.inline_keyboard
                for b in row
            ]
            if buttons:
                return record.message_id, buttons
        return None

    def handle(self, line: str) -> bool:
        """Act on one typed line; return False to stop."""
        line = line.strip()
        if not line:
            return True
        if line in (":quit", ":q", ":exit"):
            return False
        if line == ":help":
            self.say(HELP)
        elif line == ":who":
            self.say(f"You are {self.identity.first_name} ({self.identity.name}).")
        elif line.startswith(":as"):
            name = line[3:].strip()
            if name not in IDENTITIES:
                self.say("Identities: student, coach, organizer.")
            else:
                self.identity = IDENTITIES[name]
                self.say(f"— now chatting as {self.identity.first_name} ({name}) —")
                self.show_new()
        elif line.startswith(":file"):
            self._send_file(line[5:].strip())
        elif line.isdigit():
            self._press(int(line))
        else:
            self.emulator.post_message(self.identity.user_id, line)
        return True

    def _press(self, number: int) -> None:
        found = self.last_buttons()
        if found is None or not 1 <= number <= len(found[1]):
            self.say("No such button. Type the number shown in [brackets].")
            return
        message_id, buttons = found
        label, data = buttons[number - 1]
        if data is None:
            self.say(f"“{label}” opens a link; nothing to send.")
            return
        self.emulator.post_callback(self.identity.user_id, message_id, data)

    def _send_file(self, path_text: str) -> None:
        path = Path(path_text).expanduser()
        if not path.is_file():
            self.say(f"No file at {path}.")
            return
        self.emulator.post_document(self.identity.user_id, path.name, path.read_bytes())

    async def watch(self) -> None:
        """Print what the bot sends to the current identity, as it arrives."""
        while True:
            chat_id = self.identity.user_id
            seen = self.emulator.activity(chat_id)
            with contextlib.suppress(TimeoutError):
                await self.emulator.wait_activity(chat_id, seen, timeout=1.0)
            self.show_new()

    async def run(self, lines: asyncio.Queue[str | None]) -> None:
        """Read lines until `:quit` or end of input."""
        self.say(HELP)
        self.say(
            f"— chatting as {self.identity.first_name} (student); try /start, then /surveys "
            "or /course —"
        )
        watcher = asyncio.create_task(self.watch())
        try:
            while (line := await lines.get()) is not None:
                if not self.handle(line):
                    break
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


async def open_demo_survey(db: Sessionmaker, organizer_id: int, admin_ids: frozenset[int]) -> bool:
    """Publish the demo survey as the organizer on the first start; True if it was opened now."""
    try:
        opened = await ensure_campaign(db, organizer_id, admin_ids, DEMO_INSTRUMENT, DEMO_WAVE)
    except NotFound:
        return False  # a database without the default content: nothing to open
    return opened is not None


async def demo_course(db: Sessionmaker) -> CourseSummary | None:
    """The default course if it is loaded (it is open to every student: nothing to publish)."""
    return next((c for c in await list_courses(db) if c.code == DEMO_COURSE), None)


def demo_event_start(now: datetime) -> datetime:
    """When the demo webinar starts: `DEMO_EVENT_AHEAD` from now, up to the next quarter hour."""
    at = (now + DEMO_EVENT_AHEAD).replace(second=0, microsecond=0)
    return at + timedelta(minutes=-at.minute % 15)


async def open_demo_event(
    db: Sessionmaker,
    coach_id: int,
    admin_ids: frozenset[int],
    i18n: I18n,
    zone: tzinfo,
    *,
    now: datetime | None = None,
) -> tuple[EventView, int] | None:
    """Schedule the demo webinar as the coach unless one of theirs is still to come.

    Drafted and published through the events service as `/new_event` does; returns the event
    and its announcement broadcast (to start), or None when the coach has an event ahead
    (published, or cancelled by them: a cancelled demo is not replaced before its time).
    The check and the steps are separate transactions: the sandbox is one process per database.
    """
    now = now or utcnow()
    ahead = [
        e
        for e in await manageable(db, coach_id, admin_ids)
        if e.state is not EventState.DRAFT and e.starts_at is not None and e.starts_at > now
    ]
    if ahead:
        return None
    draft = await create_draft(db, coach_id, admin_ids, Kind.WEBINAR)
    universities = await list_universities(db)
    host = {"university_id": universities[0].id} if universities else {}
    await update_event(
        db,
        coach_id,
        admin_ids,
        draft.id,
        now=now,
        title=DEMO_EVENT_TITLE,
        description=DEMO_EVENT_DESCRIPTION,
        starts_at=demo_event_start(now),
        duration_minutes=60,
        join_url=DEMO_EVENT_LINK,
        capacity=DEMO_EVENT_PLACES,
        **host,
    )
    return await publish(db, coach_id, admin_ids, draft.id, i18n=i18n, zone=zone, now=now)


async def open_demo_contest(
    db: Sessionmaker, organizer_id: int, admin_ids: frozenset[int], *, now: datetime | None = None
) -> ContestView | None:
    """Open the default contest for entries, from now for two weeks, unless it has windows.

    Set by the organizer identity through the contest service (`contest.set_windows`): the
    submissions open at the current minute and close `DEMO_CONTEST_OPEN` later, without a
    late cut-off, and the jury has `DEMO_CONTEST_JURY` after that. None when the contest is
    not loaded or already has windows (set by an organizer, or by an earlier start).
    """
    now = (now or utcnow()).replace(second=0, microsecond=0)
    try:
        contest = await contest_by_code(db, DEMO_CONTEST)
    except NotFound:
        return None  # a database without the default content
    if contest.opens_at is not None or contest.deadline_at is not None:
        return None
    deadline = now + DEMO_CONTEST_OPEN
    return await set_contest_windows(
        db,
        organizer_id,
        admin_ids,
        contest.id,
        opens_at=now,
        deadline_at=deadline,
        late_until=None,
        jury_deadline_at=deadline + DEMO_CONTEST_JURY,
    )


def _row_labels(row: list[dict[str, object]]) -> list[str]:
    return [str(button.get("text", "")) for button in row]


def _stdin_lines(loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Feed stdin lines into a queue from a thread (works for terminals and pipes alike)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # A daemon thread: a blocked read of a terminal must not keep the process alive at exit.
    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue


async def run_sandbox(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8081,
    interactive: bool = True,
    out: TextIO = sys.stdout,
) -> int:
    """Run emulator and bot together until `:quit`, end of input, SIGINT or SIGTERM."""
    emulator = Emulator()
    for identity in IDENTITIES.values():
        emulator.add_user(
            identity.user_id, identity.first_name, language_code=identity.language_code
        )
    server = EmulatorServer(emulator)
    try:
        url = await server.start(host, port)
    except OSError:
        # The usual port is taken (another sandbox?): any free port will do.
        server = EmulatorServer(emulator)
        url = await server.start(host, 0)
        print(f"port {port} is busy; using {url} instead", file=out, flush=True)
    # The organizer identity is also an admin, so a newcomer can try every command.
    organizer = IDENTITIES["organizer"].user_id
    settings = settings.model_copy(update={"admin_ids": settings.admin_ids | {organizer}})
    app = build_application(
        settings, token=emulator.token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with app:
            assert app.bot_data.db is not None
            for identity in IDENTITIES.values():
                await ensure_role(
                    app.bot_data.db,
                    identity.user_id,
                    identity.role,
                    first_name=identity.first_name,
                )
            if app.post_init is not None:
                await app.post_init(app)  # loads the default content into a new database
            if await open_demo_survey(app.bot_data.db, organizer, settings.admin_ids):
                print(
                    f"demo: the survey {DEMO_INSTRUMENT} ({DEMO_WAVE}) is open to everyone; "
                    "as the student, /start and then /surveys",
                    file=out,
                    flush=True,
                )
            course = await demo_course(app.bot_data.db)
            if course is not None:
                print(
                    f"demo: the course {course.code} ({course.title.get('en', course.code)}, "
                    f"{course.lessons} lessons) is open; as the student, /start and then /course",
                    file=out,
                    flush=True,
                )
            assert app.bot_data.i18n is not None and app.bot_data.broadcaster is not None
            demo = await open_demo_event(
                app.bot_data.db,
                IDENTITIES["coach"].user_id,
                settings.admin_ids,
                app.bot_data.i18n,
                settings.tz,
            )
            if demo is not None:
                event, announcement = demo
                app.bot_data.broadcaster.start(announcement)  # to whoever is onboarded yet
                assert event.starts_at is not None
                print(
                    f'demo: the webinar "{event.title_in("en")}" starts '
                    f"{show_when(event.starts_at, settings.tz, 'en')}; as the student, /start "
                    f"and then /events (or /start e-{event.code})",
                    file=out,
                    flush=True,
                )
            contest = await open_demo_contest(app.bot_data.db, organizer, settings.admin_ids)
            if contest is not None:
                assert contest.deadline_at is not None
                print(
                    f'demo: the contest "{contest.title_in("en")}" accepts entries until '
                    f"{show_when(contest.deadline_at, settings.tz, 'en')}; as the student, "
                    "/start and then /contest",
                    file=out,
                    flush=True,
                )
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            print(
                f"Ortaq sandbox: Bot API emulator at {url} (token {emulator.token})",
                file=out,
                flush=True,
            )
            print(
                f"bot @{app.bot.username} is polling it; database {settings.database_url}",
                file=out,
                flush=True,
            )
            if interactive:
                # Log lines would break up the chat: keep only warnings and errors.
                logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
                console = Console(emulator, out)
                runner = asyncio.create_task(console.run(_stdin_lines(loop)))
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in (runner, stopper):
                    task.cancel()
            else:
                print(
                    "standard input is not a terminal: serving the HTTP API until SIGINT/SIGTERM",
                    file=out,
                    flush=True,
                )
                await stop.wait()
            await app.updater.stop()
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
    finally:
        await server.stop()
    return 0
