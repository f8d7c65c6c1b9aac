"""Update processing: concurrent across users, in order per user, bounded overall."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.concurrency import PerUserUpdateProcessor, slot_set_aside, update_key


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, date=None, chat=chat, from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_user_in_order_others_concurrently_and_bounded():
    processor = PerUserUpdateProcessor(3)
    gates = {i: asyncio.Event() for i in range(1, 8)}
    started: list[int] = []
    finished: list[int] = []
    running = 0
    peak = 0

    async def handle(update_id: int) -> None:
        nonlocal running, peak
        started.append(update_id)
        running += 1
        peak = max(peak, running)
        await gates[update_id].wait()
        running -= 1
        finished.append(update_id)

    # Updates 1, 2, 3 are one user's; 4..7 are four other users.
    owners = {1: 10, 2: 10, 3: 10, 4: 20, 5: 30, 6: 40, 7: 50}
    tasks = [
        asyncio.create_task(processor.process_update(_update(i, owners[i]), handle(i)))
        for i in range(1, 8)
    ]
    for _ in range(10):
        await asyncio.sleep(0)  # let every task run up to its first wait (no clock involved)
    # User 10's later updates wait behind update 1 without taking slots; the bound is 3.
    assert started == [1, 4, 5]
    gates[2].set()
    gates[4].set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert 2 not in finished  # update 2 cannot start before update 1 ends
    gates[1].set()
    for gate in gates.values():
        gate.set()
    await asyncio.gather(*tasks)
    assert [u for u in finished if owners[u] == 10] == [1, 2, 3]
    assert peak == 3
    assert processor._locks == {}  # idle users are forgotten


async def test_an_update_waiting_for_telegrams_second_lends_its_place():
    """Tried: a bound of 2; two people's updates wait for room to send (as a `/surveys` list
    queued behind Telegram's 30 messages a second) inside `slot_set_aside`; a third person's
    update, which needs no new message, runs meanwhile instead of waiting behind them. When
    the room comes, the two take places again in turn (never more than 2 computing at once),
    each person's order holds, and all places are free at the end. Outside an update the
    block changes nothing."""
    processor = PerUserUpdateProcessor(2)
    room = asyncio.Event()
    computing = 0
    peak = 0
    order: list[str] = []

    async def send_list(name: str) -> None:
        nonlocal computing, peak
        computing += 1
        peak = max(peak, computing)
        computing -= 1
        async with slot_set_aside():
            await room.wait()
        computing += 1
        peak = max(peak, computing)
        await asyncio.sleep(0)
        computing -= 1
        order.append(name)

    async def answer(name: str) -> None:
        nonlocal computing, peak
        computing += 1
        peak = max(peak, computing)
        await asyncio.sleep(0)
        computing -= 1
        order.append(name)

    first = asyncio.create_task(processor.process_update(_update(1, 10), send_list("list 10")))
    second = asyncio.create_task(processor.process_update(_update(2, 20), send_list("list 20")))
    later = asyncio.create_task(processor.process_update(_update(4, 10), answer("answer 10")))
    for _ in range(10):
        await asyncio.sleep(0)
    third = asyncio.create_task(processor.process_update(_update(3, 30), answer("answer 30")))
    for _ in range(10):
        await asyncio.sleep(0)
    assert order == ["answer 30"]  # ran while both lists waited for room; 10's waits its turn
    room.set()
    await asyncio.gather(first, second, third, later)
    assert order.index("list 10") < order.index("answer 10")
    assert peak <= 2
    assert processor._running._value == 2  # every place given back
    async with slot_set_aside():  # not in an update: nothing to lend, nothing taken back
        assert processor._running._value == 2
    assert processor._running._value == 2


def test_update_key_prefers_the_user():
    assert update_key(_update(1, 77)) == ("u", 77)
    assert update_key(object())[0] == "x"


async def test_replies_that_lent_their_place_still_leave_within_telegrams_limit():
    """Tried: 40 people's replies at once through FloodGuard and a processor of 3 places, the
    limit 10 a second (virtual time; each call takes 50 ms). Replies that wait for room lend
    their place, and still no window holds more departures than the limit: a reply counts
    when it leaves, not when the window opened while it still waited for a place (that way
    1,000 students once saw 56 messages in a second and 365 x 429)."""
    from bot.floodguard import FloodGuard
    from bot.ratelimit import WINDOW, RateLimiter, VirtualClock

    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(10, 1, clock)
    guard = FloodGuard(limiter)
    processor = PerUserUpdateProcessor(3)
    left: list[float] = []

    async def call() -> bool:
        left.append(clock.now())
        await clock.sleep(0.05)  # the request's round trip
        return True

    async def reply(user: int) -> None:
        await guard.process_request(call, (), {}, "sendMessage", {"chat_id": user}, None)

    await asyncio.gather(
        *(processor.process_update(_update(i, 500 + i), reply(500 + i)) for i in range(40))
    )
    assert len(left) == 40
    cap = int(10 * WINDOW)
    left.sort()
    for i, start in enumerate(left):
        inside = [t for t in left[i:] if t < start + WINDOW - 1e-9]
        assert len(inside) <= cap, (start, len(inside))
    assert processor._running._value == 3
