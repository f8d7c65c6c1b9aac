"""The outbound gateway against the emulator's real Bot API semantics, on a virtual clock."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from telegram import Bot

from bot.gateway import Gateway, Outcome, Outgoing
from bot.ratelimit import RateLimiter, VirtualClock
from bot.sandbox.emulator import Emulator
from bot.sandbox.faults import Limits
from bot.sandbox.request import BASE_FILE_URL, BASE_URL, EmulatorRequest


@pytest.fixture
async def setup():
    clock = VirtualClock()
    emulator = Emulator(
        limits=Limits(global_per_second=30, per_chat_per_second=1), clock=clock.now
    )
    bot = Bot(
        emulator.token,
        base_url=BASE_URL,
        base_file_url=BASE_FILE_URL,
        request=EmulatorRequest(emulator),
    )
    async with bot:
        gateway = Gateway(bot, RateLimiter(30, 1, clock), backoff=0.5)
        yield emulator, gateway, clock


def _users(emulator, n, start=1):
    for i in range(start, start + n):
        emulator.add_user(i, f"U{i}")
    return list(range(start, start + n))


async def test_paces_at_the_limit_without_a_single_429(setup):
    emulator, gateway, clock = setup
    chats = _users(emulator, 300)
    began = clock.now()
    queue = list(chats)

    async def worker():
        while queue:
            chat = queue.pop()
            result = await gateway.send(Outgoing(chat, text=f"hi {chat}"))
            assert result.outcome is Outcome.SENT and result.message_id

    await asyncio.gather(*(worker() for _ in range(16)))
    assert emulator.stats.too_many_requests == 0
    assert all(len(emulator.bot_messages(c)) == 1 for c in chats)
    # 300 messages at 30/s need at least 299/30 s: never faster than Telegram allows.
    assert clock.now() - began >= 299 / 30 - 1e-6


async def test_one_chat_gets_at_most_one_message_per_second(setup):
    emulator, gateway, clock = setup
    (chat,) = _users(emulator, 1)
    began = clock.now()
    for i in range(3):
        assert (await gateway.send(Outgoing(chat, text=f"#{i}"))).outcome is Outcome.SENT
    assert clock.now() - began >= 2.0
    assert emulator.stats.too_many_requests == 0


async def test_retry_after_waits_exactly_as_asked_then_sends(setup):
    emulator, gateway, clock = setup
    (chat,) = _users(emulator, 1)
    emulator.faults.add("sendMessage", kind="retry_after", retry_after=7)
    began = clock.now()
    result = await gateway.send(Outgoing(chat, text="after the flood"))
    assert result.outcome is Outcome.SENT
    assert 7.0 <= clock.now() - began < 7.5
    assert gateway.flood_waits == 1
    assert [m.text for m in emulator.bot_messages(chat)] == ["after the flood"]


async def test_blocked_and_deleted_chats_are_classified_not_retried(setup):
    emulator, gateway, _ = setup
    blocked, gone, fine = _users(emulator, 3)
    emulator.block(blocked)
    emulator.delete_chat(gone)
    assert (await gateway.send(Outgoing(blocked, text="x"))).outcome is Outcome.BLOCKED
    result = await gateway.send(Outgoing(gone, text="x"))
    assert result.outcome is Outcome.CHAT_NOT_FOUND and result.unreachable
    assert (await gateway.send(Outgoing(fine, text="x"))).outcome is Outcome.SENT
    assert emulator.stats.calls["sendMessage"] == 3


async def test_server_errors_and_network_failures_are_retried_with_backoff(setup):
    emulator, gateway, clock = setup
    (chat,) = _users(emulator, 1)
    emulator.faults.add("sendMessage", kind="server_error", status=502, times=2)
    emulator.faults.add("sendMessage", kind="network", times=1)
    began = clock.now()
    result = await gateway.send(Outgoing(chat, text="persistent"))
    assert result.outcome is Outcome.SENT
    assert clock.now() - began >= 0.5 + 1.0 + 2.0  # 0.5, 1, 2 s of back-off
    assert len(emulator.bot_messages(chat)) == 1


async def test_gives_up_after_max_attempts(setup):
    emulator, gateway, _ = setup
    (chat,) = _users(emulator, 1)
    emulator.faults.add("sendMessage", kind="server_error", times=-1)
    result = await gateway.send(Outgoing(chat, text="never"))
    assert result.outcome is Outcome.FAILED and "network" in (result.error or "")
    assert emulator.stats.calls["sendMessage"] == gateway.max_attempts
    emulator.faults.clear()


async def test_bad_request_is_failed_with_telegrams_reason(setup):
    emulator, gateway, _ = setup
    (chat,) = _users(emulator, 1)
    result = await gateway.send(Outgoing(chat, text="x" * 5000))
    assert result.outcome is Outcome.FAILED and "too long" in (result.error or "")


async def test_slow_responses_are_waited_for(setup):
    emulator, gateway, _ = setup
    (chat,) = _users(emulator, 1)
    emulator.faults.add("sendMessage", kind="latency", delay=0.05)
    assert (await gateway.send(Outgoing(chat, text="slow"))).outcome is Outcome.SENT


async def test_photo_and_document_by_file_id(setup):
    emulator, gateway, _ = setup
    (chat,) = _users(emulator, 1)
    update = emulator.post_document(chat, "plan.pdf", b"%PDF-1.4 x", "application/pdf")
    file_id = update["message"]["document"]["file_id"]
    result = await gateway.send(
        Outgoing(chat, kind="document", text="<b>Plan</b>", file_id=file_id)
    )
    assert result.outcome is Outcome.SENT
    last = emulator.bot_messages(chat)[-1]
    assert last.document["file_id"] == file_id and last.caption == "Plan"
    result = await gateway.send(Outgoing(chat, kind="photo", text="x", file_id="bogus"))
    assert result.outcome is Outcome.FAILED


def test_limiter_pause_moves_every_slot():
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(10, 1, clock)
    assert limiter.reserve(1) == 0
    assert limiter.reserve(2) == pytest.approx(0.1)
    limiter.pause(5)
    assert limiter.reserve(3) == pytest.approx(5.0)
    assert limiter.reserve(1, global_slot=False) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        RateLimiter(0, 1)


async def test_a_flood_wait_holds_slots_reserved_before_it():
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(10, 1, clock)
    assert limiter.reserve(None) == 0
    waiting = asyncio.create_task(limiter.acquire(None))  # its slot is 0.1 s away
    limiter.pause(5)  # a 429 arrives meanwhile
    await waiting
    assert clock.now() >= 5.0


def test_one_chats_backlog_delays_only_that_chat():
    """Issue 9.1: 40 quick reservations for one chat used to push every chat ~39 s back."""
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    waits = [limiter.reserve(111) for _ in range(40)]
    assert waits[-1] == pytest.approx(39.0)  # that chat is paced at one a second ...
    assert limiter.reserve(222) < 0.1  # ... and an unrelated chat is not held up by it
    assert limiter.reserve(None) < 0.1


async def test_global_rate_never_exceeds_the_limit_whatever_the_chats():
    """Interleaved busy and idle chats: any two global slots stay 1/rate apart."""
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    slots = []
    for i in range(600):
        chat = 7 if i % 3 == 0 else 1000 + i  # every third send is to one busy chat
        slots.append(clock.now() + limiter.reserve(chat))  # the absolute send time
        if i % 50 == 0:
            await clock.sleep(0.2)  # time moves on while sends are booked
    gaps = [b - a for a, b in itertools.pairwise(sorted(slots))]
    assert min(gaps) >= 1 / 30 - 1e-9
    busy = sorted(s for i, s in enumerate(slots) if i % 3 == 0)
    assert min(b - a for a, b in itertools.pairwise(busy)) >= 1.0 - 1e-9
    # The idle chats were never pushed behind the busy chat's 200 s backlog.
    assert max(s for i, s in enumerate(slots) if i % 3) < 30


def test_direct_replies_count_globally_but_build_no_backlog():
    """A student tapping fast: replies are counted, the chat's next slot stays ~1 s away."""
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    for _ in range(40):
        limiter.record_reply(111)
    # The replies took the present's free slot (the others had left already: booking future
    # slots for them would only delay broadcasts); the chat's next slot is a second away, not
    # a 40-second pile-up of its own, and another chat is not held up at all.
    assert limiter.reserve(111) == pytest.approx(1.0)
    assert limiter.reserve(222) == pytest.approx(1 / 30)


def test_replies_above_the_rate_book_no_future_slots():
    """Review: 40 replies/s for minutes booked the schedule 400 s ahead, and every broadcast
    waited behind replies that had long left. Replies take free slots of the present only."""
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    for second in range(300):
        for i in range(40):
            limiter.record_reply(10_000 + second * 40 + i)
        clock._now = second + 1.0
    assert limiter.reserve(None) < 0.1  # a broadcast's next slot is still now
    assert len(limiter._booked) <= 31 and len(limiter._chat_next) <= 10_001


async def test_paced_sends_give_way_to_replies_so_the_total_stays_under_the_limit():
    """Tried: 25 replies leave at once (a lecture hall tapping), then 20 paced sends (lessons
    due at 9:00) ask for slots. Before, the paced sends took the next 20 slots regardless, and
    45 messages reached Telegram within 0.7 s (429s in learners' chats); now no window of
    WINDOW seconds holds more than the limit, replies and paced sends together, and the
    replies were never delayed."""
    from bot.ratelimit import WINDOW

    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    departures = []
    for i in range(25):
        limiter.record_reply(500 + i)
        departures.append(clock.now())
    assert departures == [0.0] * 25  # replies are counted, never waited for
    for _ in range(20):
        await limiter.acquire(None)
        departures.append(clock.now())
    cap = int(30 * WINDOW)
    for i, start in enumerate(departures):
        inside = [d for d in departures[i:] if d < start + WINDOW - 1e-9]
        assert len(inside) <= cap, (start, len(inside))
    assert max(departures) >= WINDOW  # some lessons waited for the window to clear


async def test_replies_above_the_limit_wait_for_the_window_ahead_of_paced_sends():
    """Tried: 70 replies at once (a lecture hall opening the survey) while 10 paced sends (a
    broadcast) wait for slots. Before, every reply left at once and those beyond Telegram's
    limit came back as 429s, whose retries and apologies took more of the same budget; now the
    replies beyond the window wait for it, no window holds more than the limit, and the paced
    sends go after the replies that were waiting."""
    from bot.ratelimit import WINDOW

    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    replies: list[float] = []
    paced: list[float] = []

    async def reply(chat: int) -> None:
        await limiter.reply(chat)
        replies.append(clock.now())

    async def send() -> None:
        await limiter.acquire(None)
        paced.append(clock.now())

    await asyncio.gather(*(reply(700 + i) for i in range(70)), *(send() for _ in range(10)))
    cap = int(30 * WINDOW)
    assert replies[:cap] == [0.0] * cap  # as many as the window takes leave at once
    everything = sorted(replies + paced)
    for i, start in enumerate(everything):
        inside = [d for d in everything[i:] if d < start + WINDOW - 1e-9]
        assert len(inside) <= cap, (start, len(inside))
    assert min(paced) >= max(replies)  # the replies waiting went first
    assert max(replies) < 3 * WINDOW  # and waited only for the window, not a schedule


async def test_a_reply_knows_beforehand_whether_it_will_wait():
    """Tried: `reply_waits` before and after the window fills with replies, and once the
    window has passed (what FloodGuard reads to lend the update's place while it waits)."""
    from bot.ratelimit import WINDOW

    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(30, 1, clock)
    cap = int(30 * WINDOW)
    assert not limiter.reply_waits()
    for i in range(cap):
        assert not limiter.reply_waits()
        await limiter.reply(900 + i)
    assert limiter.reply_waits()
    await clock.sleep(WINDOW + 0.01)
    assert not limiter.reply_waits()


async def test_after_a_flood_wait_the_waiters_leave_paced_not_in_a_burst():
    """Review: every sender waiting out a 429 woke at the same instant and sent together.

    The virtual clock runs sleeps to their end at once, so the slots each sender books are
    what is checked: after the pause they are one interval apart again.
    """
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(10, 1, clock)
    slots: list[float] = []
    reserve = limiter.reserve

    def spy(chat_id, *, global_slot=True):
        delay = reserve(chat_id, global_slot=global_slot)
        slots.append(clock.now() + delay)
        return delay

    limiter.reserve = spy
    tasks = [asyncio.create_task(limiter.acquire(c)) for c in range(5)]
    limiter.pause(5)
    await asyncio.gather(*tasks)
    after = sorted(s for s in slots if s >= 5.0)
    assert len(after) == 5
    assert all(b - a >= 0.1 - 1e-9 for a, b in itertools.pairwise(after))
