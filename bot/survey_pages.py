"""How a survey reads in chat: pages of answered questions, the question on screen below them.

One message of the chat is a *page*. It shows, under the survey's title and progress, a compact
record of each question answered on it (`✓ 3. Question — <b>Answer</b>`, a skipped one as
`3. Question — ⏭ Skipped`, an introduction or a note in full), then the question on screen with
its buttons. A button answer edits the page: the question becomes a record and the next one
appears under it, so answering costs one edit and no new message (Telegram lets a bot post
about 30 new messages a second in all; edits do not count against that).

A page is named by its first step (`first`, an index into the pack's items), carried by every
button of the page: what a page shows is computed from that and the stored answers, so nothing
is written to draw it, and an old button redraws its own page. The rules:

- a page holds the records of the steps from `first` up to the step on screen;
- when the records and the question would not fit `PAGE_BUDGET` characters (Telegram refuses
  4096), the page is *closed* (its message keeps the title and its records, without buttons)
  and the question starts a new page, sent as a new message;
- after a typed answer the page goes on while it is the chat's last message (the person's
  message is removed: `handlers.surveys`); otherwise it is closed too, and the next step
  starts a new page below the person's own message (a question above what they typed would be
  out of order);
- Back to a step before `first` starts the page again at that step;
- the review replaces the page's records (it lists every answer).

Nothing here touches the database or Telegram: text in, text out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from bot.content.engine import Compiled, Item
from bot.i18n import Translator
from bot.replies import TEXT_BUDGET, fit_lines, shorten

# Characters of a page: under Telegram's 4096 with room for a notice line above it.
PAGE_BUDGET = 3600
RECORD_QUESTION = 100  # characters of a question in its record (cut in the middle)
RECORD_ANSWER = 100  # characters of an answer in its record


def cut_middle(text: str, limit: int) -> str:
    """`text` cut to `limit` characters in the middle: its start and its end both stay.

    Likert statements often share their first words and differ at the end.
    """
    if len(text) <= limit:
        return text
    head = text[: limit // 3]
    tail = text[len(text) - (limit - len(head) - 1) :]
    # Cut between words where there are any, so no word is shown half.
    head = head[: head.rfind(" ")] if " " in head else head
    tail = tail[tail.find(" ") + 1 :] if " " in tail else tail
    return head.rstrip() + " … " + tail.lstrip()


def label(item: Item, value: object, language: str) -> str:
    """An answer as the user reads it (plain text)."""
    if value is None:
        return "—"
    if item.kind == "single":
        option = item.option(str(value))
        return option.text.get(language) if option else str(value)
    if item.kind == "ranking":
        if isinstance(value, str):  # one option, as the ranking's draft lists it
            option = item.option(value)
            return option.text.get(language) if option else value
        codes: list[str] = [str(code) for code in value]  # type: ignore[attr-defined]
        return " > ".join(o.text.get(language) if (o := item.option(c)) else c for c in codes)
    if item.kind == "multiple":
        return ", ".join(
            o.text.get(language)
            for o in item.options
            if o.code in tuple(value)  # type: ignore[arg-type]
        )
    return str(value)


def first_step(page: int | None, index: int) -> int:
    """The page's first step for a screen at `index`: a page never starts after its screen.

    None (a button from before pages, or a new message) starts the page at the screen.
    """
    if page is None or page > index:
        return index
    return page


def record(item: Item, value: object, number: int, language: str, t: Translator) -> str:
    """One answered question as a line of its page (HTML)."""
    question = html.escape(cut_middle(item.text.get(language), RECORD_QUESTION))
    if value is None:
        return f"{number}. {question} — {t('surveys.skipped')}"
    answer = html.escape(shorten(label(item, value, language), RECORD_ANSWER))
    return f"✓ {number}. {question} — <b>{answer}</b>"


def records(
    compiled: Compiled,
    answers: Mapping[str, Any],
    language: str,
    t: Translator,
    first: int,
    stop: int,
) -> list[str]:
    """The blocks of a page: the records of steps `first` to `stop` (excluded) still shown.

    Answers next to each other share a block (one line each); an introduction or a note is a
    block of its own, in full. Numbers are the questions' positions, as "n / N" showed them.
    """
    numbers = {item.code: n for n, item in enumerate(compiled.counted(answers), start=1)}
    blocks: list[str] = []
    lines: list[str] = []
    for item in compiled.items[max(0, first) : stop]:
        if not compiled.visible(item, answers):
            continue
        if item.kind == "info":
            if lines:
                blocks.append("\n".join(lines))
                lines = []
            blocks.append(html.escape(item.text.get(language)))
        elif item.code in answers and item.code in numbers:
            lines.append(record(item, answers[item.code], numbers[item.code], language, t))
    if lines:
        blocks.append("\n".join(lines))
    return blocks


def compose(head: str, blocks: list[str], body: list[str]) -> str:
    """A page's text: the head line, the records, then the step on screen."""
    return "\n\n".join([head, *blocks, *body])


def fits(text: str) -> bool:
    """Whether a page's text stays within the page budget."""
    return len(text) <= PAGE_BUDGET


def closed(title: str, blocks: list[str], more: str) -> str:
    """A closed page: the title and its records, cut by whole lines if ever too long.

    `more` is the line said instead of what did not fit (rare: a page is closed before it
    grows past the budget, but a Back across pages can gather more).
    """
    lines = "\n\n".join([title, *blocks]).split("\n")
    return fit_lines(lines, lambda _: more, budget=TEXT_BUDGET)
