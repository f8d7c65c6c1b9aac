"""Typed button data: one small frozen dataclass per kind of button, packed into 64 bytes.

A button's `callback_data` is `prefix:field:field…`, at most 64 bytes (a Cyrillic letter takes
two, so buttons carry codes and ids, never labels). Each kind of button is a subclass of
`Button` with a unique `prefix` and typed fields:

    @dataclass(frozen=True, slots=True)
    class EventRsvp(Button, prefix="ev:r"):
        event: int
        going: bool

    EventRsvp(12, True).pack() == "ev:r:12:1"
    EventRsvp.unpack("ev:r:12:1") == EventRsvp(12, True)
    EventRsvp.unpack("ev:r:x:1") is None   # forged or malformed: the stale-button answer

`pack()` refuses what Telegram would refuse (over 64 bytes, a `:` inside a text field), at build
time. `unpack()` never raises: anything that is not exactly this kind of button is None, and
every id that comes back is still re-checked by a service against the user who pressed it.
Field types: `int` (non-negative, at most 15 digits), `bool` (`1`/`0`), `str` (the characters
of `TEXT_FIELD`), a `StrEnum`, and `int | None` (empty for None). A field added to a kind after
its buttons were sent is declared `field: int | None = added()`: data packed before it existed
(without that last part) still unpacks, with None.

Why not PTB's `arbitrary_callback_data`: its cache of objects lives in one process, so a button
pressed after a restart, or handled by another replica, would find nothing.

Every kind of button lives here, under its feature's heading, so that a service that queues a
message with buttons (an invitation in the outbox) builds them from the same classes as the
handler that answers them, and a prefix can never be taken twice.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Self

from bot.services.roles import Role

CALLBACK_MAX_BYTES = 64
SEPARATOR = ":"
TEXT_FIELD = re.compile(r"[A-Za-z0-9_.\-+=/]{0,60}")
MAX_INT_DIGITS = 15

_PREFIX = re.compile(r"[a-z][a-z0-9_]{0,5}(:[a-z0-9_]{1,6})*")


_ADDED = "added"


def added() -> Any:
    """A last field added after buttons of the kind were sent: missing in old data, it is None.

    Only trailing fields may be added, and only as `int | None`; packing always writes them.
    """
    return dataclasses.field(default=None, metadata={_ADDED: True})


class ButtonError(ValueError):
    """A button that cannot be built: too long, a bad prefix, or a field Telegram cannot carry."""


class Button:
    """Base of every kind of button; subclasses are frozen dataclasses with a unique prefix."""

    prefix: ClassVar[str]
    _registry: ClassVar[dict[str, type[Button]]] = {}

    __slots__ = ()

    def __init_subclass__(cls, *, prefix: str | None = None, **kwargs: Any) -> None:
        """Register the kind under `prefix`, refusing one that could be mistaken for another."""
        super().__init_subclass__(**kwargs)
        if prefix is None:
            # `@dataclass(slots=True)` builds the class again from its namespace.
            prefix = cls.__dict__.get("prefix")
            if prefix is None:
                raise ButtonError(f"{cls.__name__} needs a prefix: class X(Button, prefix=...)")
        if not _PREFIX.fullmatch(prefix):
            raise ButtonError(f"bad button prefix {prefix!r}")
        for other, kind in Button._registry.items():
            clash = (prefix + SEPARATOR).startswith(other + SEPARATOR) or (
                other + SEPARATOR
            ).startswith(prefix + SEPARATOR)
            if clash and kind.__qualname__ != cls.__qualname__:
                raise ButtonError(f"prefix {prefix!r} clashes with {other!r} ({kind.__name__})")
        cls.prefix = prefix
        Button._registry[prefix] = cls

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        """The regular expression a `CallbackQueryHandler` for this kind registers with."""
        return re.compile("^" + re.escape(cls.prefix) + "(:|$)")

    def pack(self) -> str:
        """The callback data of this button; raises `ButtonError` if Telegram would refuse it."""
        parts = [self.prefix]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            parts.append(_encode(getattr(self, field.name), field.name))
        data = SEPARATOR.join(parts)
        size = len(data.encode())
        if size > CALLBACK_MAX_BYTES:
            raise ButtonError(f"callback data is {size} bytes, over {CALLBACK_MAX_BYTES}: {data}")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """The button of this kind in `data`, or None for anything else, malformed or forged."""
        if not isinstance(data, str) or len(data.encode()) > CALLBACK_MAX_BYTES:
            return None
        if data != cls.prefix and not data.startswith(cls.prefix + SEPARATOR):
            return None
        rest = data[len(cls.prefix) + 1 :]
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        values = rest.split(SEPARATOR) if fields else []
        missing = fields[len(values) :]
        if (not fields and data != cls.prefix) or len(values) > len(fields):
            return None
        if any(not field.metadata.get(_ADDED) for field in missing):
            return None
        fields = fields[: len(values)]
        hints = _hints(cls)
        decoded: dict[str, object] = {}
        for field, raw in zip(fields, values, strict=True):
            value = _decode(raw, hints[field.name])
            if value is _INVALID:
                return None
            decoded[field.name] = value
        try:
            return cls(**decoded)
        except (TypeError, ValueError):
            return None


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(kind: type) -> dict[str, Any]:
    """The resolved field types of a kind of button, resolved once.

    Every button press reads them, and `typing.get_type_hints` evaluates the annotations anew
    on each call.
    """
    hints = _HINTS.get(kind)
    if hints is None:
        hints = _HINTS[kind] = typing.get_type_hints(kind)
    return hints


# --- core: the main menu -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MenuOpen(Button, prefix="menu"):
    """A main-menu entry, by the code its feature registered (`Features.menu`)."""

    entry: str


# --- users: onboarding, profile, data deletion ----------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguagePick(Button, prefix="lang"):
    """A language button (onboarding and /language)."""

    language: str


@dataclass(frozen=True, slots=True)
class ConsentPick(Button, prefix="cons"):
    """The research-consent answer during onboarding."""

    agreed: bool


@dataclass(frozen=True, slots=True)
class UniversityPick(Button, prefix="uni"):
    """A university chosen during onboarding or from the profile."""

    university: int


class ProfilePart(StrEnum):
    """What a profile button changes."""

    LANGUAGE = "lang"
    UNIVERSITY = "uni"
    GROUP = "group"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class ProfileEdit(Button, prefix="prof:e"):
    """Start changing one part of the profile."""

    part: ProfilePart


@dataclass(frozen=True, slots=True)
class ConsentSet(Button, prefix="prof:c"):
    """Give or withdraw consent from the profile; it carries the state it sets."""

    agreed: bool


@dataclass(frozen=True, slots=True)
class DeleteConfirm(Button, prefix="del"):
    """The answer to "delete all my data?"."""

    confirmed: bool


# --- universities --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UniversityShow(Button, prefix="adm:u"):
    """Show (`shown=True`) or hide a university in the onboarding list."""

    university: int
    shown: bool


@dataclass(frozen=True, slots=True)
class UniversityAdd(Button, prefix="adm:add"):
    """Start adding a university."""


# --- surveys: taking a survey or a test -----------------------------------------------------
# `step` is the step the button was shown under (`Screen.index`): the service refuses a button
# of any other step, so a stale, doubled or forged press changes nothing. `page` is the first
# step the button's message shows (see `bot.survey_pages`): it only says what to draw, so a
# forged one changes nothing stored; buttons sent before pages existed carry none.


def _zero(value: int) -> None:
    """Refuse anything but 0 in the fourth part the first survey buttons carried."""
    if value != 0:
        raise ValueError("always 0")


@dataclass(frozen=True, slots=True)
class SurveyStart(Button, prefix="s:c"):
    """Start, or go on with, the user's attempt at a campaign (/surveys, the invitation)."""

    campaign: int
    # What becomes of the message with the button: 1 it becomes the survey's page (the
    # /surveys list, a campaign's invitation and reminder), so starting posts no new message;
    # 0 it stays, and the survey starts in a new message (invitations sent before 1 existed).
    place: int = 0

    def __post_init__(self) -> None:
        """Refuse a place that is neither."""
        if self.place not in (NEW_MESSAGE, BECOMES_PAGE):
            raise ValueError("place is 0 or 1")


NEW_MESSAGE, BECOMES_PAGE = 0, 1  # `SurveyStart.place`


@dataclass(frozen=True, slots=True)
class SurveyResume(Button, prefix="s:r"):
    """Show the current step of an unfinished attempt again (offered after /start)."""

    attempt: int
    zero: int = 0  # always 0, as in SurveyStart

    def __post_init__(self) -> None:
        """Refuse a non-zero fourth part."""
        _zero(self.zero)


@dataclass(frozen=True, slots=True)
class SurveySubmit(Button, prefix="s:f"):
    """Submit the attempt from its review screen."""

    attempt: int
    zero: int = 0  # always 0, as in SurveyStart

    def __post_init__(self) -> None:
        """Refuse a non-zero fourth part."""
        _zero(self.zero)


@dataclass(frozen=True, slots=True)
class SurveyOption(Button, prefix="s:o"):
    """Answer a single-choice question with an option (its position in the pack)."""

    attempt: int
    step: int
    option: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyPoint(Button, prefix="s:l"):
    """Answer a Likert question with a point of its scale."""

    attempt: int
    step: int
    point: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyTick(Button, prefix="s:t"):
    """Tick (`on`) or untick an option of a multiple-choice question: it sets, never toggles."""

    attempt: int
    step: int
    option: int
    on: bool
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyRank(Button, prefix="s:n"):
    """Give an option of a ranking question the next place (most preferred first)."""

    attempt: int
    step: int
    option: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyUnrank(Button, prefix="s:u"):
    """Undo in a ranking question: keep its first `places` places (a double tap undoes one)."""

    attempt: int
    step: int
    places: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyDone(Button, prefix="s:d"):
    """Answer a multiple-choice question with the options ticked, or a ranking as ranked."""

    attempt: int
    step: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyContinue(Button, prefix="s:i"):
    """Move on from an introduction or a note."""

    attempt: int
    step: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveySkip(Button, prefix="s:k"):
    """Skip an optional question."""

    attempt: int
    step: int
    page: int | None = added()  # the first step on the button's message (a page)


@dataclass(frozen=True, slots=True)
class SurveyBack(Button, prefix="s:b"):
    """Go back to the question before the step (a question, or the review)."""

    attempt: int
    step: int
    page: int | None = added()  # the first step on the button's message (a page)


# --- campaigns: composing, publishing and closing -------------------------------------------
# Every composer button carries the draft's id; the service checks it is the presser's draft.


@dataclass(frozen=True, slots=True)
class CampaignNew(Button, prefix="cp:n"):
    """Start composing a campaign of an instrument (by its code)."""

    instrument: str


@dataclass(frozen=True, slots=True)
class CampaignWave(Button, prefix="cp:w"):
    """Choose one of the usual waves (pre, post, main)."""

    draft: int
    wave: str


@dataclass(frozen=True, slots=True)
class CampaignAskWave(Button, prefix="cp:wo"):
    """Ask for a wave label of the organizer's own."""

    draft: int


@dataclass(frozen=True, slots=True)
class CampaignUniversities(Button, prefix="cp:u"):
    """List the universities, to choose one as the audience."""

    draft: int


@dataclass(frozen=True, slots=True)
class CampaignCountries(Button, prefix="cp:k"):
    """List the countries, to choose one as the audience."""

    draft: int


@dataclass(frozen=True, slots=True)
class CampaignAudience(Button, prefix="cp:a"):
    """Choose the audience: its kind (all, university, country) and its reference, if any."""

    draft: int
    audience: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignClosing(Button, prefix="cp:c"):
    """Close the campaign some days after it opens (0: no closing date)."""

    draft: int
    days: int


@dataclass(frozen=True, slots=True)
class CampaignAskClosing(Button, prefix="cp:co"):
    """Ask for a closing date and time."""

    draft: int


@dataclass(frozen=True, slots=True)
class CampaignReminder(Button, prefix="cp:r"):
    """Remind those who have not finished some hours before closing (0: no reminder)."""

    draft: int
    hours: int


@dataclass(frozen=True, slots=True)
class CampaignPublish(Button, prefix="cp:p"):
    """Publish the draft: it opens now, or at its opening time."""

    draft: int


@dataclass(frozen=True, slots=True)
class CampaignAskOpening(Button, prefix="cp:o"):
    """Ask for a later opening date and time."""

    draft: int


@dataclass(frozen=True, slots=True)
class CampaignClose(Button, prefix="cp:x"):
    """Close a published campaign now (/campaigns)."""

    campaign: int


@dataclass(frozen=True, slots=True)
class CampaignProgress(Button, prefix="cp:g"):
    """A published campaign's responses per day and completion by university, as a chart."""

    campaign: int


# --- exports: the /export form -------------------------------------------------------------
# Each button carries the whole request (`bot.services.exports.request.Request.encode()`), with
# one choice changed: the form keeps nothing between taps. The handler decodes the request and
# treats one that does not decode (a removed dataset, impossible dates) as a stale button.


class ExportField(StrEnum):
    """A field of the export form, whose choices a menu lists."""

    DATASET = "d"
    SOURCE = "s"
    UNIVERSITY = "u"
    COUNTRY = "c"
    PERIOD = "p"
    FORMAT = "f"


@dataclass(frozen=True, slots=True)
class ExportShow(Button, prefix="ex:s"):
    """Show the form for this request: a choice made, Back, or the identity switched."""

    request: str


@dataclass(frozen=True, slots=True)
class ExportMenu(Button, prefix="ex:m"):
    """List the choices of one field of the form."""

    request: str
    field: ExportField


@dataclass(frozen=True, slots=True)
class ExportDates(Button, prefix="ex:d"):
    """Ask for a typed period (the request waits on the user without its period)."""

    request: str


@dataclass(frozen=True, slots=True)
class ExportRun(Button, prefix="ex:go"):
    """Write the export the request describes and send it."""

    request: str


# --- analysis ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnalysisPick(Button, prefix="an"):
    """Analyse an instrument (by id; a pre/post pair by its pre half)."""

    instrument: int


# --- invites: the three steps of /invite ---------------------------------------------------
# Nothing here is trusted: the handler checks the presser may grant the role, and the service
# checks it again, with the university, when the invite is created.


@dataclass(frozen=True, slots=True)
class InviteRole(Button, prefix="inv:r"):
    """The role the invite grants; next, its university."""

    role: Role


@dataclass(frozen=True, slots=True)
class InviteUniversity(Button, prefix="inv:u"):
    """The invite's university (0: every university); next, how many may use it."""

    role: Role
    university: int


@dataclass(frozen=True, slots=True)
class InviteUses(Button, prefix="inv:n"):
    """How many may use the invite: create it.

    `uses` is the service's code (`invites.uses_code`), checked by `invites.parse_uses`: a
    code of no offered choice (a forged -1 or a huge number) is refused with a message rather
    than read as "unlimited".
    """

    role: Role
    university: int
    uses: str


# --- broadcasts: composing, sending, the sender's report ------------------------------------
# Every one carries the broadcast's id; the service re-checks that the presser owns it (or is an
# admin, for Cancel and the failures file).


@dataclass(frozen=True, slots=True)
class BroadcastAudience(Button, prefix="bc:a"):
    """Address the draft to an audience: its kind (`bot.services.audiences`) and reference.

    The kind is a code rather than an enum: features register new kinds, and the service
    answers an unknown one, or a reference naming nothing, with a clear message.
    """

    broadcast: int
    audience: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class BroadcastUniversities(Button, prefix="bc:u"):
    """List the universities, to choose one as the audience."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastCountries(Button, prefix="bc:k"):
    """List the countries, to choose one as the audience."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastCourses(Button, prefix="bc:c"):
    """List the courses, to choose the learners of one as the audience."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastEvents(Button, prefix="bc:e"):
    """List the sender's events, to choose the registrants of one as the audience."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastNoButtons(Button, prefix="bc:s"):
    """Send the broadcast without link buttons: go on to the preview."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastSend(Button, prefix="bc:go"):
    """Confirm the previewed draft and send it now."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastSchedule(Button, prefix="bc:t"):
    """Confirm the previewed draft for later: ask for the time."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastDiscard(Button, prefix="bc:d"):
    """Throw the draft away (never a confirmed broadcast)."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastCancel(Button, prefix="bc:x"):
    """Stop a scheduled or sending broadcast (under its progress message)."""

    broadcast: int


@dataclass(frozen=True, slots=True)
class BroadcastFailures(Button, prefix="bc:f"):
    """Send the sender a file of the recipients the broadcast did not reach."""

    broadcast: int


# --- course ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LessonOpen(Button, prefix="c:o"):
    """Open a lesson at its first step (a scheduled lesson's message, the progress list)."""

    enrolment: int
    lesson: int  # the lesson's position in the course


@dataclass(frozen=True, slots=True)
class LessonContinue(Button, prefix="c:c"):
    """Continue the course where the learner stopped (under a nudge)."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class CourseEnrol(Button, prefix="c:e"):
    """Enrol in a course (the list under /course)."""

    course: str  # the course code


@dataclass(frozen=True, slots=True)
class CourseView(Button, prefix="c:v"):
    """Show the learner's progress in a course (back from the settings)."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class LessonNext(Button, prefix="c:n"):
    """Show the next step of an open lesson; the step it asks for makes an older one stale."""

    enrolment: int
    lesson: int
    step: int


@dataclass(frozen=True, slots=True)
class CheckPick(Button, prefix="c:a"):
    """Answer a single-choice check question with one option (its place in the pack)."""

    enrolment: int
    lesson: int
    option: int


@dataclass(frozen=True, slots=True)
class CheckTick(Button, prefix="c:t"):
    """Tick boxes of a multiple-choice check: the button carries the ticks it sets (bits)."""

    enrolment: int
    lesson: int
    ticks: int


@dataclass(frozen=True, slots=True)
class CheckDone(Button, prefix="c:d"):
    """Answer a multiple-choice check with the options ticked (bits of their places)."""

    enrolment: int
    lesson: int
    ticks: int


@dataclass(frozen=True, slots=True)
class PaceOpen(Button, prefix="c:p"):
    """Open the pace settings of an enrolment."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class PaceSet(Button, prefix="c:s"):
    """Choose self-paced (False) or one lesson a day at the learner's hour (True)."""

    enrolment: int
    scheduled: bool


@dataclass(frozen=True, slots=True)
class PaceHour(Button, prefix="c:h"):
    """Ask for the hour of the daily lesson (typed)."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class PaceDays(Button, prefix="c:w"):
    """Set the weekdays of the daily lesson: the button carries the days it sets (bit 0 Monday)."""

    enrolment: int
    weekdays: int


@dataclass(frozen=True, slots=True)
class PaceZone(Button, prefix="c:tz"):
    """Set the zone of the daily lesson: an IANA name, or "" for the bot's zone."""

    enrolment: int
    zone: str


@dataclass(frozen=True, slots=True)
class PaceZoneAsk(Button, prefix="c:ty"):
    """Ask for another zone, typed as an IANA name (Asia/Almaty)."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class PacePause(Button, prefix="c:z"):
    """Pause (True) or resume (False) the scheduled lessons and the reminders."""

    enrolment: int
    pause: bool


@dataclass(frozen=True, slots=True)
class PaceNudges(Button, prefix="c:r"):
    """Turn the reminders after inactivity on (True) or off (False)."""

    enrolment: int
    on: bool


@dataclass(frozen=True, slots=True)
class CertificateGet(Button, prefix="c:cg"):
    """Get the certificate of a finished course: asks the name, or sends the issued one again."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class CertificateConfirm(Button, prefix="c:ck"):
    """Print the certificate with the name shown in the message (the learner confirmed it)."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class CertificateChange(Button, prefix="c:cx"):
    """Type the name for the certificate again."""

    enrolment: int


@dataclass(frozen=True, slots=True)
class CourseStatsPick(Button, prefix="c:st"):
    """Show /course_stats of one course (by the id of its newest version when listed)."""

    course: int


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRegister(Button, prefix="ev:r"):
    """I will attend: take a place, or the waiting list of a full session (the announcement)."""

    event: int


@dataclass(frozen=True, slots=True)
class EventUnregister(Button, prefix="ev:u"):
    """Give my place back (or leave the waiting list); the first waiting person moves up."""

    event: int


@dataclass(frozen=True, slots=True)
class EventCalendar(Button, prefix="ev:c"):
    """Send the event as an .ics file to add to (or update in) a phone's calendar."""

    event: int


@dataclass(frozen=True, slots=True)
class EventOpen(Button, prefix="ev:o"):
    """Show one event with my registration state (the /events list, a notice)."""

    event: int


@dataclass(frozen=True, slots=True)
class EventFeedback(Button, prefix="ev:f"):
    """Rate an event I attended, 1 to 5 (the follow-up after its end)."""

    event: int
    rating: int


# Scheduling an event in chat (/new_event): each carries the draft's id, which the service
# re-checks against the presser (their own draft, or one they manage).


@dataclass(frozen=True, slots=True)
class EventNewKind(Button, prefix="evw:k"):
    """Start a draft of this kind of event (a `bot.services.events.Kind` value)."""

    kind: str


@dataclass(frozen=True, slots=True)
class EventNoDescription(Button, prefix="evw:nd"):
    """Leave the draft without a description."""

    event: int


@dataclass(frozen=True, slots=True)
class EventDuration(Button, prefix="evw:d"):
    """Set the draft's duration, in minutes."""

    event: int
    minutes: int


@dataclass(frozen=True, slots=True)
class EventHost(Button, prefix="evw:h"):
    """Set the draft's hosting university."""

    event: int
    university: int


class AudienceList(StrEnum):
    """Which list of audiences to show: universities, countries, or courses."""

    UNIVERSITY = "university"
    COUNTRY = "country"
    COURSE = "course"


@dataclass(frozen=True, slots=True)
class EventAudienceList(Button, prefix="evw:l"):
    """List the universities, the countries or the courses, to choose the audience."""

    event: int
    what: AudienceList


@dataclass(frozen=True, slots=True)
class EventAudience(Button, prefix="evw:a"):
    """Address the draft to an audience (a kind of `bot.services.audiences`, its reference)."""

    event: int
    audience: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class EventNoLimit(Button, prefix="evw:c"):
    """No limit on the number of places."""

    event: int


@dataclass(frozen=True, slots=True)
class EventDefaultReminders(Button, prefix="evw:r"):
    """The default reminders: 24 h, 1 h and 10 min before the start."""

    event: int


@dataclass(frozen=True, slots=True)
class EventPublish(Button, prefix="evw:p"):
    """Publish the previewed draft: its announcement goes to the audience."""

    event: int


@dataclass(frozen=True, slots=True)
class EventDiscard(Button, prefix="evw:x"):
    """Throw the draft away."""

    event: int


@dataclass(frozen=True, slots=True)
class EventResume(Button, prefix="evw:o"):
    """Take a draft up again in the wizard, at the first step still missing."""

    event: int


# Managing an event (/my_events, /recording).


class EventField(StrEnum):
    """What of a published event its organizer changes."""

    TIME = "time"
    LINK = "link"


@dataclass(frozen=True, slots=True)
class EventManage(Button, prefix="evm:o"):
    """Open the management screen of an event (a draft: take it up where it stopped)."""

    event: int


@dataclass(frozen=True, slots=True)
class EventChange(Button, prefix="evm:e"):
    """Ask for the event's new time or join link (registrants are told)."""

    event: int
    what: EventField


@dataclass(frozen=True, slots=True)
class EventCheckin(Button, prefix="evm:k"):
    """Open the check-in: show the code to say aloud."""

    event: int


@dataclass(frozen=True, slots=True)
class EventCheckinRetry(Button, prefix="evm:kr"):
    """Let those locked out of the check-in (too many wrong codes) try again."""

    event: int


@dataclass(frozen=True, slots=True)
class EventRegistrants(Button, prefix="evm:l"):
    """List the event's registrants."""

    event: int


@dataclass(frozen=True, slots=True)
class EventRecording(Button, prefix="evm:rec"):
    """Ask for the recording's link, for those who registered and did not come."""

    event: int


@dataclass(frozen=True, slots=True)
class EventCancelAsk(Button, prefix="evm:c"):
    """Ask to confirm cancelling the event."""

    event: int


@dataclass(frozen=True, slots=True)
class EventCancelConfirm(Button, prefix="evm:cy"):
    """Cancel the event: registrants are told."""

    event: int


@dataclass(frozen=True, slots=True)
class EventFeedbackSkip(Button, prefix="evf:s"):
    """Leave no comment after rating an event."""

    event: int


# --- event stats ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventStatsPick(Button, prefix="evs:p"):
    """Show /event_stats of one event (the picker)."""

    event: int


@dataclass(frozen=True, slots=True)
class EventStatsList(Button, prefix="evs:l"):
    """Send the registrant list of one event as a CSV file (it names people)."""

    event: int


# --- contest ------------------------------------------------------------------------------
# Entries (`ce:`): each carries the entry's id, which `bot.services.contest_entries` re-checks
# against the presser (only the owner changes an entry). Jury and results buttons are `cj:`.


class EntryField(StrEnum):
    """A field of a contest entry (the values of `bot.services.contest_entries.Step`)."""

    TITLE = "title"
    DESCRIPTION = "description"
    LINK = "link"
    FILES = "files"


@dataclass(frozen=True, slots=True)
class ContestOpen(Button, prefix="ce:o"):
    """Show a contest: its rules, windows and my entry in it."""

    contest: int


@dataclass(frozen=True, slots=True)
class EntryStart(Button, prefix="ce:n"):
    """Start my entry in a contest (or take up the one I have)."""

    contest: int


@dataclass(frozen=True, slots=True)
class EntryResume(Button, prefix="ce:r"):
    """Continue my entry where it stopped (the draft reminder's button)."""

    entry: int


@dataclass(frozen=True, slots=True)
class EntryEdit(Button, prefix="ce:e"):
    """Change one field of my entry from its preview."""

    entry: int
    field: EntryField


@dataclass(frozen=True, slots=True)
class EntrySkip(Button, prefix="ce:s"):
    """Leave an optional field empty (the description or the link, when the contest allows)."""

    entry: int
    field: EntryField


@dataclass(frozen=True, slots=True)
class EntryFileRemove(Button, prefix="ce:fx"):
    """Remove one file from my entry."""

    entry: int
    file: int


@dataclass(frozen=True, slots=True)
class EntryFilesDone(Button, prefix="ce:fd"):
    """No more files: go on to the preview."""

    entry: int


@dataclass(frozen=True, slots=True)
class EntrySubmit(Button, prefix="ce:u"):
    """Submit my entry from its preview."""

    entry: int


@dataclass(frozen=True, slots=True)
class EntryWithdraw(Button, prefix="ce:w"):
    """Withdraw my entry: `confirmed` False asks first, True withdraws."""

    entry: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class EntryAuthorRemove(Button, prefix="ce:ax"):
    """Remove a co-author from my entry (or, pressed by the co-author, leave it)."""

    entry: int
    user: int


@dataclass(frozen=True, slots=True)
class EntryBack(Button, prefix="ce:b"):
    """Leave the field being edited as it was and show my entry's preview again."""

    entry: int


@dataclass(frozen=True, slots=True)
class ContestJoinAsk(Button, prefix="ce:j"):
    """Join a team in a contest: the next text is the entry's team code."""

    contest: int


# Jury and results (`cj:`): each carries a contest, review or entry id, which
# `bot.services.contest_jury` / `contest_results` re-check against the presser (a juror only
# their own reviews, organizers and admins the leaderboard and the release).


@dataclass(frozen=True, slots=True)
class JuryQueue(Button, prefix="cj:q"):
    """A juror's reviews in a contest: pending first (the allocation message's button)."""

    contest: int


@dataclass(frozen=True, slots=True)
class ReviewOpen(Button, prefix="cj:o"):
    """Open one review: the entry (blind when the contest is), its files, the scores so far."""

    review: int


@dataclass(frozen=True, slots=True)
class ReviewScore(Button, prefix="cj:s"):
    """Score one criterion (its position in the rubric) with `value` (0..max)."""

    review: int
    criterion: int
    value: int


@dataclass(frozen=True, slots=True)
class ReviewComment(Button, prefix="cj:c"):
    """Write (or rewrite) the review's comment: the next text is the comment."""

    review: int


@dataclass(frozen=True, slots=True)
class ReviewSubmit(Button, prefix="cj:u"):
    """Submit the review (again, after a revision)."""

    review: int


@dataclass(frozen=True, slots=True)
class JuryProgress(Button, prefix="cj:p"):
    """Organizers: reviews done and pending per juror."""

    contest: int


@dataclass(frozen=True, slots=True)
class ContestLeaderboard(Button, prefix="cj:l"):
    """Organizers: the ranking with scores, agreement and the chart."""

    contest: int


@dataclass(frozen=True, slots=True)
class ContestRelease(Button, prefix="cj:x"):
    """Organizers: release the results; `confirmed` False asks first, True releases."""

    contest: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ContestMyResults(Button, prefix="cj:r"):
    """An author: my entry's rank, score and (when shown) the jurors' scores and comments."""

    contest: int


@dataclass(frozen=True, slots=True)
class ContestCertificateGet(Button, prefix="cj:ct"):
    """An author: my participation or winner's certificate of my entry in a contest."""

    contest: int


@dataclass(frozen=True, slots=True)
class ReviewCriterion(Button, prefix="cj:k"):
    """Score (or change the score of) one criterion: its position in the rubric."""

    review: int
    criterion: int


@dataclass(frozen=True, slots=True)
class ReviewCommentSkip(Button, prefix="cj:cs"):
    """No comment (or keep the one written): on to the review's preview."""

    review: int


@dataclass(frozen=True, slots=True)
class JuryReallocate(Button, prefix="cj:a"):
    """Organizers: give the reviews entries still lack to the jurors who may take them."""

    contest: int


@dataclass(frozen=True, slots=True)
class ContestResultsOpen(Button, prefix="cj:m"):
    """Organizers: one contest's results panel (progress, leaderboard, release)."""

    contest: int


@dataclass(frozen=True, slots=True)
class ContestCertificateConfirm(Button, prefix="cj:cc"):
    """An author: print my contest certificate with the name shown above the button."""

    contest: int


@dataclass(frozen=True, slots=True)
class ContestCertificateChange(Button, prefix="cj:cx"):
    """An author: type the name for my contest certificate again."""

    contest: int


# The entries ZIP (`co:zip…`), offered on /export's form with a contest dataset: organizers and
# admins, re-checked by `bot.services.contest_bundle` (a scoped organizer gets their entries).


@dataclass(frozen=True, slots=True)
class ContestBundleList(Button, prefix="co:zipl"):
    """List the contests whose entries can be taken as a ZIP with their files."""


@dataclass(frozen=True, slots=True)
class ContestBundleRun(Button, prefix="co:zip"):
    """Download this contest's entries with their files, as a ZIP with a manifest."""

    contest: int


# Contest setup (`co:`): the organizers' wizard over a working copy of a contest's definition
# (`bot.services.contest_setup`); each carries the copy's id, re-checked against the presser
# (an organizer or admin, and the copy theirs).


class SetupSection(StrEnum):
    """A screen of the contest setup wizard."""

    OVERVIEW = "overview"
    DATES = "dates"
    ENTRY = "entry"
    CRITERIA = "criteria"
    REVIEW = "review"


class SetupInput(StrEnum):
    """A value of the contest definition the organizer types."""

    CODE = "code"
    TITLE = "title"
    RULES = "rules"
    OPENS = "opens"
    DEADLINE = "deadline"
    LATE = "late"
    JURY = "jury"
    TYPES = "types"
    FILES = "files"
    TEAM = "team"
    REVIEWS = "reviews"
    CRITERION = "criterion"


class SetupSwitch(StrEnum):
    """A review rule switched on or off."""

    BLIND = "blind"
    CONFLICTS = "conflicts"
    STANDARDISE = "standardise"
    FEEDBACK = "feedback"


class SetupLinkRule(StrEnum):
    """Whether entries carry a link (`bot.services.contest.LinkRule`)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class SetupOpen(Button, prefix="co:o"):
    """Edit a contest: its working copy, taken from the stored contest if there is none."""

    contest: int


@dataclass(frozen=True, slots=True)
class SetupNew(Button, prefix="co:n"):
    """Set up a new contest (or go on with the new one being set up)."""


@dataclass(frozen=True, slots=True)
class SetupShow(Button, prefix="co:v"):
    """Show one screen of the wizard."""

    setup: int
    section: SetupSection


@dataclass(frozen=True, slots=True)
class SetupAsk(Button, prefix="co:a"):
    """Ask for one typed value."""

    setup: int
    field: SetupInput


@dataclass(frozen=True, slots=True)
class SetupClear(Button, prefix="co:c"):
    """Clear an optional value: the late cut-off, or the entries' files."""

    setup: int
    field: SetupInput


@dataclass(frozen=True, slots=True)
class SetupLink(Button, prefix="co:l"):
    """Choose whether entries carry a link."""

    setup: int
    rule: SetupLinkRule


@dataclass(frozen=True, slots=True)
class SetupToggle(Button, prefix="co:t"):
    """Switch a review rule on or off."""

    setup: int
    switch: SetupSwitch


@dataclass(frozen=True, slots=True)
class SetupCriterionRemove(Button, prefix="co:x"):
    """Remove a criterion (by its code) from the rubric."""

    setup: int
    code: str


@dataclass(frozen=True, slots=True)
class SetupSave(Button, prefix="co:s"):
    """Check the whole definition with the pack schema and store it on the contest."""

    setup: int


@dataclass(frozen=True, slots=True)
class SetupDiscard(Button, prefix="co:d"):
    """Throw the working copy away: `confirmed` False asks first."""

    setup: int
    confirmed: bool


# --- bank: the resource bank (`rb:`) ---------------------------------------------------------
# Every id is re-checked by `bot.services.resources` against the presser: a draft only by its
# contributor, a decision only by an organizer of the resource's university or an admin, a
# rating only from someone who used the resource.


class BankFilterKind(StrEnum):
    """Which filter of /resources to choose a value for."""

    DISCIPLINE = "d"
    KIND = "k"
    LANGUAGE = "l"
    UNIVERSITY = "u"


@dataclass(frozen=True, slots=True)
class BankBrowse(Button, prefix="rb:b"):
    """A page of approved resources under filters ("" / None: any)."""

    discipline: int | None
    kind: str
    language: str
    university: int | None
    page: int


@dataclass(frozen=True, slots=True)
class BankFilter(Button, prefix="rb:f"):
    """Offer the values of one filter, keeping the others."""

    what: BankFilterKind
    discipline: int | None
    kind: str
    language: str
    university: int | None


@dataclass(frozen=True, slots=True)
class BankSearch(Button, prefix="rb:s"):
    """Ask for words to search the bank for."""


@dataclass(frozen=True, slots=True)
class BankOpen(Button, prefix="rb:o"):
    """Show a resource's card."""

    resource: int


@dataclass(frozen=True, slots=True)
class BankGet(Button, prefix="rb:g"):
    """Send the resource's file and/or link (one use per person is counted)."""

    resource: int


@dataclass(frozen=True, slots=True)
class BankRate(Button, prefix="rb:r"):
    """Rate a resource 1..5 (a second rating replaces the first)."""

    resource: int
    rating: int


@dataclass(frozen=True, slots=True)
class BankRateSkip(Button, prefix="rb:rs"):
    """No comment with the rating."""

    resource: int


@dataclass(frozen=True, slots=True)
class BankNew(Button, prefix="rb:n"):
    """Start contributing a new resource."""


@dataclass(frozen=True, slots=True)
class BankResume(Button, prefix="rb:c"):
    """Take up my draft (or a resource sent back for changes) where it stopped."""

    resource: int


@dataclass(frozen=True, slots=True)
class BankPick(Button, prefix="rb:p"):
    """A choice at a draft's step (discipline, kind, languages, level, license, university).

    `value` is an id, an enum value, `kk-ru`, or a license's place in the list.
    """

    resource: int
    step: str
    value: str


@dataclass(frozen=True, slots=True)
class BankSkip(Button, prefix="rb:k"):
    """Skip an optional step (description, authors; the university: keep mine)."""

    resource: int
    step: str


@dataclass(frozen=True, slots=True)
class BankEdit(Button, prefix="rb:e"):
    """From the preview: change one step of my draft."""

    resource: int
    step: str


@dataclass(frozen=True, slots=True)
class BankSubmit(Button, prefix="rb:x"):
    """Submit my draft for moderation."""

    resource: int


@dataclass(frozen=True, slots=True)
class BankDiscard(Button, prefix="rb:dx"):
    """Delete my draft: `confirmed` False asks first."""

    resource: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class BankModeration(Button, prefix="rb:m"):
    """Organizers: the resources waiting for a decision."""


@dataclass(frozen=True, slots=True)
class BankReview(Button, prefix="rb:mo"):
    """Organizers: one pending resource with the decision buttons."""

    resource: int


class BankDecision(StrEnum):
    """What a moderator decides."""

    APPROVE = "a"
    CHANGES = "c"
    REJECT = "r"


@dataclass(frozen=True, slots=True)
class BankDecide(Button, prefix="rb:md"):
    """Approve a pending resource, or ask for the comment of changes / a rejection."""

    resource: int
    decision: BankDecision


@dataclass(frozen=True, slots=True)
class BankStudents(Button, prefix="rb:ms"):
    """Organizers: let students contribute (`on`) or stop them."""

    on: bool


@dataclass(frozen=True, slots=True)
class BankStatsPeriod(Button, prefix="rb:st"):
    """/bank_stats for a period (`month`, `quarter`, `year`, `all`)."""

    period: str


def parse(data: str | None) -> Button | None:
    """Whatever kind of button `data` is, or None (used where any button may arrive)."""
    if not isinstance(data, str):
        return None
    head = data.split(SEPARATOR)
    for length in range(len(head), 0, -1):
        kind = Button._registry.get(SEPARATOR.join(head[:length]))
        if kind is not None:
            return kind.unpack(data)
    return None


_INVALID = object()


def _encode(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, StrEnum):
        value = value.value
    if isinstance(value, int):
        if value < 0 or len(str(value)) > MAX_INT_DIGITS:
            raise ButtonError(f"{name}: {value} is not a small non-negative integer")
        return str(value)
    if isinstance(value, str):
        if not TEXT_FIELD.fullmatch(value):
            raise ButtonError(f"{name}: {value!r} has characters a button cannot carry")
        return value
    raise ButtonError(f"{name}: {type(value).__name__} cannot go into a button")


def _decode(raw: str, hint: object) -> object:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw == "":
            return None
        if len(options) != 1:
            return _INVALID
        hint = options[0]
    if hint is bool:
        return {"1": True, "0": False}.get(raw, _INVALID)
    if hint is int:
        if not raw.isdigit() or not raw.isascii() or len(raw) > MAX_INT_DIGITS:
            return _INVALID
        return int(raw)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        try:
            return hint(raw)
        except ValueError:
            return _INVALID
    if hint is str:
        return raw if TEXT_FIELD.fullmatch(raw) else _INVALID
    return _INVALID
