"""A lecture hall at once: N students take the pre survey at a human pace while a broadcast runs.

For each N of `--students`: prepares a fresh SQLite file as `bench/surveys.py` does (migrations,
the default content packs, N onboarded students and an admin, a published `dlt_pre` campaign
whose invitations count as sent), starts the Bot API emulator over HTTP enforcing Telegram's
limits (30 new messages/s overall, 1/s per chat with a burst of 4, 429 with retry_after beyond)
with `--latency` added to every call, and runs the real bot process (`python -m bot`) against
it. With `--start invitation` (the default) the bot sends the campaign's invitation to everyone
when it starts, before the clock runs (as the day before the lecture); with `--start surveys`
the invitations count as sent. The admin composes a broadcast to everyone in chat; the students
start within `--spread` seconds (each one's start seeded), each pressing Start on the invitation
(or opening /surveys and the campaign in the list), Continue, then answering
every question by its buttons (a seeded random option; one seeded tick then Done; a seeded point
on agreement scales; "5" typed for numbers and text) after a think time uniform in 3-10 s times
`--think` (seeded), and Submit on the review screen. At `--broadcast-at` seconds the admin
presses Send: the broadcast goes out while the students answer.

Reports: p50/p95/p99 from a tap to the next question on screen (the emulator shows either an
edit of the survey message that brings the next question, or a new message in the chat: the
bench works with either way of showing a survey), by kind of step; Submit to the scores and to
the chart; bot CPU per update (the bot process and any process it starts, from /proc, start-up
excluded); 429s the bot received (survey and broadcast apart); the broadcast's duration; and
the database check that every answer is stored exactly once (one answer per (attempt, question),
as many as the students gave in chat, one submitted attempt per student). In the same run, the
bare PTB echo bot (`bench/echo_bot.py`) at `--echo-concurrency` (the best of them is reported)
with N users sending 5 messages each, without limits, for comparison.

    .venv/bin/python bench/lecture_hall.py --students 200 500 1000
    .venv/bin/python bench/lecture_hall.py --students 5 --think 0.01 --spread 1 --no-limits
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    TELEGRAM_LIMITS,
    ProcessTreeCpu,
    Stalled,
    base_env,
    compose_broadcast,
    log_problems,
    percentile,
    start_process,
    stop_process,
    wait_until,
)
from bench.broadcast import broadcast_state  # noqa: E402
from bench.surveys import (  # noqa: E402
    ADMIN,
    BACK,
    CAMPAIGN,
    CONTINUE,
    DONE,
    FIRST_STUDENT,
    SKIP,
    START,
    SUBMIT,
    THANKS,
    echo_round,
    prepare,
)
from bench.throughput import run_phase  # noqa: E402
from bot.i18n import I18n  # noqa: E402
from bot.sandbox.emulator import Emulator, MessageRecord  # noqa: E402
from bot.sandbox.server import EmulatorServer  # noqa: E402
from bot.sandbox.users import SimulatedUser  # noqa: E402

BROADCAST = "Reminder: the webinar “Digital educational platforms” starts tomorrow at 15:00."
MAX_SCREENS = 200  # a survey longer than this is a loop, not a survey
MAX_RESUMES = 3  # resumes (/start, Continue) after error replies, per step
GRACE = 5.0  # seconds a late next screen may follow an error reply
HEADER = re.compile(r" · \d+ / \d+")  # "Title · 3 / 35": a question's header
UNFINISHED = I18n("kk").translator("en").plain("surveys.unfinished")
ANSWER_STEPS = ("single choice", "multiple: Done", "agreement scale", "typed")


@dataclass
class Run:
    """What one lecture hall measured, filled in by the students and the driver."""

    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    answered: Counter[int] = field(default_factory=Counter)
    in_flight: set[int] = field(default_factory=set)  # an answer tapped, its screen not yet seen
    capped: bool = False  # stopped by --max-seconds
    updates: int = 0
    finished: int = 0
    stalled: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # 429s: survey / broadcast
    error_replies: Counter[str] = field(default_factory=Counter)  # instead of the next screen
    broadcast_sends: list[float] = field(default_factory=list)


def is_broadcast(message: MessageRecord) -> bool:
    """The broadcast's copy in a student's chat: not part of the survey."""
    return message.content == BROADCAST


def survey_messages(user: SimulatedUser) -> list[MessageRecord]:
    """The bot's messages in the chat except the broadcast, oldest first."""
    return [m for m in user.messages if not is_broadcast(m)]


def options_of(buttons: list[str]) -> list[str]:
    """The answer buttons of a screen: all but the navigation."""
    return [b for b in buttons if b not in (BACK, SKIP)]


def kind_of(message: MessageRecord) -> str:
    """What a survey screen asks for, from its buttons (and its text for typed questions)."""
    buttons = SimulatedUser.buttons_of(message)
    options = options_of(buttons)
    if message.photo:
        return "chart"
    if SUBMIT in buttons:
        return "review"
    if CONTINUE in buttons:
        return "info"
    if any(b.startswith(("☐ ", "☑ ")) for b in options):
        return "multiple"
    if options and all(b.lstrip("✓").isdigit() for b in options):
        return "likert"
    if options:
        return "single"
    if THANKS in (message.content or ""):
        return "thanks"
    if HEADER.search(message.content or ""):
        return "typed"
    return "unknown"


def is_screen(message: MessageRecord) -> bool:
    """A survey screen: buttons, a question's header, the thanks or the chart."""
    return kind_of(message) != "unknown" or bool(SimulatedUser.buttons_of(message))


class Screen:
    """Where a student's survey stands on screen: the message and how it looked when tapped.

    After a tap the next screen is either a new bot message (the question sent afresh) or the
    same message edited into the next question (its text changed, with buttons): an edit that
    only collapses the answered question (text changed, no buttons) is not the next question.
    A new message that is no survey screen (an apology for an error, say) is a failure.
    """

    def __init__(self, user: SimulatedUser, message: MessageRecord) -> None:
        self.user = user
        self.message = message
        self.edits = message.edited
        self.content = message.content
        # Only what arrives after the tap counts (the chat may hold newer messages already).
        self.floor = max(m.message_id for m in user.messages)

    def _newer(self) -> list[MessageRecord]:
        return [m for m in survey_messages(self.user) if m.message_id > self.floor]

    def next_screen(self) -> MessageRecord | None:
        """The message now showing the next step, if it has come."""
        screens = [m for m in self._newer() if is_screen(m)]
        if screens:
            return screens[-1]
        message = self.message
        if (
            message.edited > self.edits
            and message.content != self.content
            and SimulatedUser.buttons_of(message)
        ):
            return message
        return None

    def failure(self) -> MessageRecord | None:
        """A new message that is not a survey screen (an error, a refusal), if one came."""
        others = [m for m in self._newer() if not is_screen(m)]
        return others[-1] if others else None


async def take_survey(
    emulator: Emulator,
    user: SimulatedUser,
    rng: random.Random,
    start_at: float,
    think: float,
    timeout: float,
    run: Run,
    start_with: str,
) -> None:
    """One student: wait for their start, then the survey from its start to the chart.

    `start_with`: "invitation" (press Start on the campaign's invitation) or "surveys" (open
    /surveys, then the campaign in the list).
    """

    def describe() -> str:
        last = survey_messages(user)
        shown = last[-1] if last else None
        return (
            f"last survey message: {shown and shown.content!r}, "
            f"buttons {shown and SimulatedUser.buttons_of(shown)}"
        )

    async def until(check: Callable[[], bool]) -> None:
        await wait_until(emulator, user.user_id, check, timeout, describe)

    async def pause(low: float = 3.0, high: float = 10.0) -> None:
        await asyncio.sleep(rng.uniform(low, high) * think)

    async def resume() -> Screen:
        """What a person does after an error instead of the next question: /start, Continue."""
        floor = max(m.message_id for m in user.messages)
        await user.send("/start")
        run.updates += 1

        def offer() -> MessageRecord | None:
            return next(
                (
                    m
                    for m in survey_messages(user)
                    if m.message_id > floor
                    and UNFINISHED in (m.content or "")
                    and CONTINUE in SimulatedUser.buttons_of(m)
                ),
                None,
            )

        await until(lambda: offer() is not None)
        message = offer()
        assert message is not None
        await pause(1.0, 3.0)
        screen = Screen(user, message)
        await user.tap(CONTINUE, message_id=message.message_id)
        run.updates += 1
        return screen

    async def step(name: str, screen: Screen, act: Callable[[], Any]) -> MessageRecord:
        """Act on `screen`, time it until the next screen is on show; return that screen.

        An error message instead of the next screen: after a grace for a late screen, the
        student resumes with /start and Continue, and the step's time runs on until the next
        screen is there (what the person lived through).
        """
        start = time.perf_counter()
        await act()
        run.updates += 1
        for _ in range(MAX_RESUMES + 1):
            await until(
                lambda screen=screen: (
                    screen.next_screen() is not None or screen.failure() is not None
                )
            )
            failed = screen.failure()
            if screen.next_screen() is None and failed is not None:
                with contextlib.suppress(Stalled):
                    await wait_until(
                        emulator,
                        user.user_id,
                        lambda screen=screen: screen.next_screen() is not None,
                        GRACE,
                        describe,
                    )
            message = screen.next_screen()
            if message is not None:
                run.steps[name].append(time.perf_counter() - start)
                return message
            assert failed is not None
            run.error_replies[(failed.content or "")[:60]] += 1
            screen = await resume()
        raise Stalled(f"user {user.user_id}: {name} failed {MAX_RESUMES + 1} times: {describe()}")

    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    if start_with == "invitation":
        invitation = next(m for m in survey_messages(user) if START in m.buttons)
        message = await step(
            "open the campaign",
            Screen(user, invitation),
            lambda: user.tap(START, message_id=invitation.message_id),
        )
    else:
        start = time.perf_counter()
        for attempt in range(MAX_RESUMES + 1):
            last_id = max((m.message_id for m in user.messages), default=0)
            await user.send("/surveys")
            run.updates += 1

            def campaign_list(last_id: int = last_id) -> bool:
                return any(
                    m.message_id > last_id
                    and any(CAMPAIGN.casefold() in b.casefold() for b in m.buttons)
                    for m in survey_messages(user)
                )

            def other(last_id: int = last_id) -> MessageRecord | None:
                """An error reply instead of the list."""
                return next((m for m in survey_messages(user) if m.message_id > last_id), None)

            await until(lambda c=campaign_list, o=other: c() or o() is not None)
            if not campaign_list():
                with contextlib.suppress(Stalled):
                    await wait_until(emulator, user.user_id, campaign_list, GRACE, describe)
            if campaign_list():
                break
            failed = other()
            run.error_replies[(failed.content or "")[:60] if failed else "?"] += 1
            if attempt == MAX_RESUMES:
                raise Stalled(f"user {user.user_id}: /surveys failed {attempt + 1} times")
            await pause(1.0, 3.0)  # the person reads the apology and asks again
        run.steps["/surveys"].append(time.perf_counter() - start)
        listing = next(
            m
            for m in reversed(survey_messages(user))
            if any(CAMPAIGN.casefold() in b.casefold() for b in m.buttons)
        )
        await pause(1.0, 3.0)
        message = await step(
            "open the campaign",
            Screen(user, listing),
            lambda: user.tap(CAMPAIGN, message_id=listing.message_id),
        )
    for _ in range(MAX_SCREENS):
        mid = message.message_id
        buttons = SimulatedUser.buttons_of(message)
        options = options_of(buttons)
        kind = kind_of(message)
        if kind == "info":
            await pause(1.0, 3.0)
            message = await step(
                "intro: Continue",
                Screen(user, message),
                lambda mid=mid: user.tap(CONTINUE, message_id=mid),
            )
        elif kind in ("single", "likert"):
            choice = rng.choice(options)
            await pause()
            run.in_flight.add(user.user_id)
            message = await step(
                "single choice" if kind == "single" else "agreement scale",
                Screen(user, message),
                lambda mid=mid, choice=choice: user.tap(choice, message_id=mid),
            )
            run.in_flight.discard(user.user_id)
            run.answered[user.user_id] += 1
        elif kind == "multiple":
            tick = rng.choice([b for b in options if b.startswith("☐ ")])
            await pause()
            start = time.perf_counter()
            edits = message.edited
            await user.tap(tick, message_id=mid)
            run.updates += 1
            await until(
                lambda message=message, edits=edits: (
                    message.edited > edits and any(b.startswith("☑ ") for b in message.buttons)
                )
            )
            run.steps["multiple: tick"].append(time.perf_counter() - start)
            await pause(0.5, 1.5)
            run.in_flight.add(user.user_id)
            message = await step(
                "multiple: Done",
                Screen(user, message),
                lambda mid=mid: user.tap(DONE, message_id=mid),
            )
            run.in_flight.discard(user.user_id)
            run.answered[user.user_id] += 1
        elif kind == "typed":
            await pause()
            run.in_flight.add(user.user_id)
            message = await step("typed", Screen(user, message), lambda: user.send("5"))
            run.in_flight.discard(user.user_id)
            run.answered[user.user_id] += 1
        elif kind == "review":
            await pause(1.0, 3.0)
            start = time.perf_counter()
            await user.tap(SUBMIT, message_id=mid)
            run.updates += 1
            # The thanks with the scores may come as a new message or as the review edited.
            await until(
                lambda mid=mid: any(
                    m.message_id >= mid and THANKS in (m.content or "")
                    for m in survey_messages(user)
                )
            )
            run.steps["Submit: until the scores"].append(time.perf_counter() - start)
            await until(
                lambda mid=mid: any(m.message_id > mid and m.photo for m in survey_messages(user))
            )
            run.steps["Submit: until the chart"].append(time.perf_counter() - start)
            run.finished += 1
            return
        else:
            raise Stalled(f"user {user.user_id}: unexpected screen ({kind}): {describe()}")
    raise Stalled(f"user {user.user_id}: the survey did not end after {MAX_SCREENS} screens")


def check_database(db_path: Path, campaign_id: int, students: int, run: Run) -> dict[str, Any]:
    """Every answer stored exactly once: per (attempt, question) one row, as many as given.

    A student stopped by --max-seconds with an answer tapped but not yet seen done may have it
    stored or not; either is right.
    """
    con = sqlite3.connect(db_path, timeout=30)
    try:
        per_item = con.execute(
            "SELECT COUNT(*) FROM answer a JOIN attempt t ON t.id = a.attempt_id"
            " WHERE t.campaign_id = ? GROUP BY a.attempt_id, a.item_code",
            (campaign_id,),
        ).fetchall()
        attempts = con.execute(
            "SELECT u.telegram_id, t.state, (SELECT COUNT(*) FROM answer a"
            " WHERE a.attempt_id = t.id) FROM attempt t JOIN app_user u ON u.id = t.user_id"
            " WHERE t.campaign_id = ?",
            (campaign_id,),
        ).fetchall()
    finally:
        con.close()
    stored = sum(n for (n,) in per_item)
    duplicated = sum(1 for (n,) in per_item if n != 1)
    per_student = Counter(tid for tid, _, _ in attempts)
    submitted = sum(1 for _, state, _ in attempts if state == "submitted")
    mismatched = sum(
        1
        for tid, _, count in attempts
        if count != run.answered.get(tid, 0)
        and not (tid in run.in_flight and count == run.answered.get(tid, 0) + 1)
    )
    expected = sum(run.answered.values())
    figures = {
        "answers stored": stored,
        "answers given in chat": expected,
        "in flight": len(run.in_flight),
        "(attempt, question) pairs with other than one answer": duplicated,
        "students with more than one attempt": sum(1 for n in per_student.values() if n > 1),
        "submitted attempts": submitted,
        "attempts whose answers differ from the chat": mismatched,
    }
    figures["ok"] = (
        expected <= stored <= expected + len(run.in_flight)
        and duplicated == 0
        and mismatched == 0
        and figures["students with more than one attempt"] == 0
        and submitted == run.finished
        and (run.capped or run.finished == students)
    )
    return figures


async def invitations_delivered(people: list[SimulatedUser], students: int) -> None:
    """Wait until every student has the campaign's invitation (the bot sends them at start)."""
    limit = time.perf_counter() + (students + 1) / 30 * 3 + 120
    while not all(any(START in m.buttons for m in person.messages) for person in people):
        if time.perf_counter() > limit:
            raise SystemExit("the campaign's invitations did not reach every student")
        await asyncio.sleep(0.5)


async def lecture_hall(
    students: int, args: argparse.Namespace, workdir: Path
) -> tuple[Run, dict[str, Any]]:
    """One lecture hall of `students`; returns what was measured and the summary figures."""
    db_path = workdir / f"lecture_hall_{students}.db"
    for old in workdir.glob(f"{db_path.name}*"):
        old.unlink()  # a fresh file every run, also in a kept folder
    url = f"sqlite+aiosqlite:///{db_path}"
    seeding = time.perf_counter()
    campaign_id = await prepare(url, students, invited=args.start != "invitation")
    seeding = time.perf_counter() - seeding
    emulator = Emulator(limits=None if args.no_limits else TELEGRAM_LIMITS)
    run = Run()
    call = emulator.call

    async def counting_call(
        token: str, method: str, params: dict[str, Any], files: Any = None
    ) -> tuple[int, dict[str, Any]]:
        """The emulator's call, telling the broadcast's sends and 429s from the survey's."""
        status, body = await call(token, method, params, files)
        broadcast = params.get("text") == BROADCAST
        if status == 429:
            run.refused["broadcast" if broadcast else method] += 1
        elif status == 200 and broadcast and method == "sendMessage":
            run.broadcast_sends.append(time.perf_counter())
        return status, body

    emulator.call = counting_call  # type: ignore[method-assign]
    rng = random.Random(args.seed * 1_000_003 + students)
    people = [SimulatedUser(emulator, FIRST_STUDENT + i, f"U{i}", "en") for i in range(students)]
    admin = SimulatedUser(emulator, ADMIN, "Admin", "en")
    figures: dict[str, Any] = {"seeding_s": seeding}
    async with EmulatorServer(emulator) as server:
        env = {
            **base_env(),
            "BOT_TOKEN": emulator.token,
            "BOT_API_URL": str(server.url),
            "DATABASE_URL": url,
            "ADMIN_IDS": str(ADMIN),
        }
        proc = await start_process(
            [sys.executable, "-m", "bot"], env, workdir, f"lecture_hall_{students}.log"
        )
        cpu = ProcessTreeCpu(proc.pid)
        sampler = asyncio.create_task(cpu.run())
        try:
            await emulator.wait_polling(timeout=120)
            if args.start == "invitation":
                await invitations_delivered(people, students)
            emulator.latency = args.latency
            send_label = await compose_broadcast(emulator, admin, BROADCAST, students + 1)
            cpu_before = cpu.sample()
            own_before = resource.getrusage(resource.RUSAGE_SELF)
            emulator.reset_stats()
            run.refused.clear()
            run.broadcast_sends.clear()  # the preview the admin saw while composing
            run.updates = 0  # composing the broadcast came before the window
            begin = time.perf_counter()
            tasks = [
                asyncio.create_task(
                    take_survey(
                        emulator,
                        person,
                        random.Random(rng.random()),
                        begin + rng.uniform(0, args.spread),
                        args.think,
                        args.step_timeout,
                        run,
                        args.start,
                    )
                )
                for person in people
            ]
            await asyncio.sleep(args.broadcast_at)
            pressed = time.perf_counter()
            await admin.tap(send_label)
            run.updates += 1
            cap = None if args.max_seconds is None else args.max_seconds - args.broadcast_at
            _, unfinished = await asyncio.wait(tasks, timeout=cap)
            if unfinished:
                run.capped = True
                for task in unfinished:
                    task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            results = [r for r in results if not isinstance(r, asyncio.CancelledError)]
            for result in results:
                if isinstance(result, BaseException):
                    run.stalled.append(str(result))
            answering = time.perf_counter() - begin
            limit = time.perf_counter() + (students + 1) / 30 * 3 + 120
            while await asyncio.to_thread(broadcast_state, db_path) != "done":
                if time.perf_counter() > limit:
                    run.stalled.append("the broadcast did not finish")
                    break
                await asyncio.sleep(0.5)
            if run.capped:
                await asyncio.sleep(3)  # the bot finishes the updates in flight
            elapsed = time.perf_counter() - begin
            bot_cpu = cpu.sample() - cpu_before
            own = resource.getrusage(resource.RUSAGE_SELF)
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            await stop_process(proc)
    figures.update(
        answering_s=answering,
        elapsed_s=elapsed,
        updates=run.updates,
        bot_cpu_s=bot_cpu,
        bot_processes=cpu.processes,
        bot_cpu_ms_per_update=bot_cpu / max(1, run.updates) * 1000,
        harness_cpu_ms_per_update=(
            own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime
        )
        / max(1, run.updates)
        * 1000,
        sent_messages=emulator.stats.sent_messages,
        peak_rate=emulator.stats.peak_rate(),
        too_many_requests=emulator.stats.too_many_requests,
        broadcast_delivered=len(run.broadcast_sends),
        broadcast_s=(run.broadcast_sends[-1] - pressed) if run.broadcast_sends else 0.0,
        calls=dict(emulator.stats.calls),
        database=check_database(db_path, campaign_id, students, run),
        log_problems=log_problems(workdir / f"lecture_hall_{students}.log"),
    )
    return run, figures


async def echo(students: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The bare PTB echo bot at each concurrency of --echo-concurrency; the best by updates/s."""
    best: dict[str, Any] = {}
    for concurrency in args.echo_concurrency:
        result = await run_phase(
            f"echo{concurrency}_{students}",
            [sys.executable, str(ROOT / "bench" / "echo_bot.py")],
            {**base_env(), "ECHO_CONCURRENT": str(concurrency)},
            students,
            args.latency,
            echo_round,
            workdir,
            first_user=FIRST_STUDENT,
        )
        if not best or result["updates_per_s"] > best["updates_per_s"]:
            best = {**result, "concurrency": concurrency}
    return best


def report(students: int, args: argparse.Namespace, run: Run, f: dict[str, Any]) -> list[str]:
    """The figures of one lecture hall as lines of text."""
    lines = [
        (
            f"== {students} students, think {3 * args.think:g}-{10 * args.think:g} s, "
            f"start from the {args.start}, spread {args.spread:g} s, "
            f"broadcast at {args.broadcast_at:g} s, "
            f"{args.latency * 1000:.0f} ms per API call, "
            f"{'no limits' if args.no_limits else 'limits 30 msg/s, 1/s per chat (burst 4)'}, "
            f"seed {args.seed}, {os.cpu_count()} cores (database prepared in "
            f"{f['seeding_s']:.1f} s)"
        ),
        f"finished: {run.finished}/{students} students in {f['answering_s']:.1f} s "
        f"(broadcast done at {f['elapsed_s']:.1f} s); stalled: {len(run.stalled)}"
        + (f"; first: {run.stalled[0]}" if run.stalled else ""),
    ]
    if run.capped:
        given = sum(run.answered.values())
        lines.append(
            f"STOPPED at --max-seconds {args.max_seconds:g}: {given} answers given, "
            f"{given / students:.1f} per student on average"
        )
    taps = sorted(v for name in ANSWER_STEPS for v in run.steps.get(name, []))
    lines.append(
        f"tap -> next question on screen (answers): {len(taps)} taps, "
        f"p50 {percentile(taps, 0.5) * 1000:.0f} ms, p95 {percentile(taps, 0.95) * 1000:.0f} ms, "
        f"p99 {percentile(taps, 0.99) * 1000:.0f} ms, "
        f"max {(taps[-1] if taps else 0) * 1000:.0f} ms"
    )
    lines.append(f"  {'step':32} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in run.steps.items():
        values.sort()
        lines.append(
            f"  {name:32} {len(values):6d} {percentile(values, 0.5) * 1000:8.0f} "
            f"{percentile(values, 0.95) * 1000:8.0f} {percentile(values, 0.99) * 1000:8.0f}"
        )
    lines.append(
        f"bot CPU: {f['bot_cpu_s']:.1f} s for {f['updates']} updates = "
        f"{f['bot_cpu_ms_per_update']:.1f} ms/update ({f['bot_processes']} process(es)), "
        f"{f['bot_cpu_s'] / f['elapsed_s']:.0%} of one core on average; "
        f"benchmark process {f['harness_cpu_ms_per_update']:.1f} ms/update"
    )
    lines.append(
        f"429s received: {f['too_many_requests']} ({dict(run.refused) or 'none'}); "
        f"messages sent {f['sent_messages']} ({f['sent_messages'] / f['elapsed_s']:.1f}/s on "
        f"average, peak {f['peak_rate']} in a second); "
        f"broadcast: {f['broadcast_delivered']}/{students + 1} delivered, "
        f"Send to the last copy {f['broadcast_s']:.1f} s"
    )
    lines.append(
        f"error replies instead of the next screen: {sum(run.error_replies.values())}"
        + (
            f" (each followed by /start, Continue): {dict(run.error_replies)}"
            if run.error_replies
            else ""
        )
    )
    calls = f["calls"]
    lines.append(
        "Bot API calls: "
        + ", ".join(
            f"{name} {calls[name]}"
            for name in sorted(calls, key=calls.__getitem__, reverse=True)
            if name != "getUpdates"
        )
    )
    db = f["database"]
    lines.append(
        f"database: {db['answers stored']} answers stored, {db['answers given in chat']} given "
        f"in chat ({db['in flight']} more tapped when stopped); (attempt, question) with other "
        f"than one answer: {db['(attempt, question) pairs with other than one answer']}; "
        f"students with more than one attempt: {db['students with more than one attempt']}; "
        f"submitted attempts: {db['submitted attempts']} (students finished: {run.finished}); "
        f"attempts differing from the chat: {db['attempts whose answers differ from the chat']}"
        f" -> {'OK' if db['ok'] else 'FAILED'}"
    )
    problems = f["log_problems"]
    lines.append(
        f"bot log: {len(problems)} ERROR/CRITICAL/traceback line(s)"
        + (f"; first: {problems[0]}" if problems else "")
    )
    e = f.get("echo")
    if e:
        lines.append(
            f"bare PTB echo bot, concurrent_updates={e['concurrency']}, {students} users x 5, "
            f"no limits: {e['updates_per_s']:.1f} upd/s, p50 {e['p50_ms']:.0f} ms, "
            f"p99 {e['p99_ms']:.0f} ms, bot CPU {e['bot_cpu_ms']:.1f} ms/update"
        )
    return lines


async def main() -> None:
    """Run a lecture hall (and the echo bot) for every N; print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[200, 500, 1000])
    parser.add_argument(
        "--think", type=float, default=1.0, help="scale of the 3-10 s think time (1: human)"
    )
    parser.add_argument(
        "--start",
        choices=("invitation", "surveys"),
        default="invitation",
        help="Start on the invitation the bot sent, or /surveys and the campaign in the list",
    )
    parser.add_argument("--spread", type=float, default=10.0, help="seconds to start everyone")
    parser.add_argument("--broadcast-at", type=float, default=5.0, help="seconds in: press Send")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--step-timeout", type=float, default=180.0, help="seconds per step")
    parser.add_argument(
        "--echo-concurrency", type=int, nargs="*", default=[32], help="none: no echo phase"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop the students this many seconds after the start (a long run on a busy machine)",
    )
    parser.add_argument("--no-limits", action="store_true", help="no flood limits (smoke runs)")
    args = parser.parse_args()
    keep = os.environ.get("BENCH_KEEP")  # a folder to keep logs and the databases in
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores", flush=True)
        for students in args.students:
            run, figures = await lecture_hall(students, args, workdir)
            if args.echo_concurrency:
                figures["echo"] = await echo(students, args, workdir)
            print("\n".join(report(students, args, run, figures)), flush=True)
            failed = failed or bool(run.stalled) or not figures["database"]["ok"]
    if failed:
        raise SystemExit("a student stalled or the database check failed")


if __name__ == "__main__":
    asyncio.run(main())
