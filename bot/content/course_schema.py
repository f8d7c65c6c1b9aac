"""The schema of a course pack (`kind: course`): a course, its modules, lessons and steps.

A course is one YAML file, validated like the instrument packs (`bot.content.schema`): every
text the learner sees in kk, ru and en, everything stored a stable code. Field rules live here;
rules that look across the pack (unique lesson codes, media files on disk, the instruments
named as pre- and post-test) live in `bot.content.validate`.

Length limits, per language, chosen from what Telegram accepts where a text cannot be split:

- a `text` step is split at paragraph boundaries (blank lines) when sent, so only each
  paragraph must fit one message: at most `MESSAGE_MAX` (4096) characters;
- a media `caption` travels with the photo, document or video: at most 1024;
- a check's `question` and `explanation` are shown together in one message with its buttons
  (the answer edits the question's message): at most 1024 each, so both fit;
- an option's text is a button label: at most 64, so it is readable on a phone;
- a lesson's title is a button label too (reopening an earlier lesson): at most 64;
  course and module titles at most 100; a link step's text at most 1024.

Media given by `file:` must be at most 10 MB for a photo and 50 MB for a document or a video,
the Bot API's upload limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from bot.content.schema import MAX_VERSION, Code, Strict

COURSE_CODE_PATTERN = r"^[a-z0-9_]{2,40}$"
CourseCode = Annotated[str, Field(pattern=COURSE_CODE_PATTERN)]
STEP_TYPES = ("text", "photo", "document", "video", "link")
MESSAGE_MAX = 4096
CAPTION_MAX = 1024
BUTTON_MAX = 64
QUESTION_MAX = 1024
TITLE_MAX = 100
LINK_TEXT_MAX = 1024
MAX_STEPS = 8
MAX_OPTIONS = 8
PHOTO_MAX_BYTES = 10 * 1024 * 1024
MEDIA_MAX_BYTES = 50 * 1024 * 1024
URL_MAX = 2000


class CourseText(Strict):
    """A user-visible text in every interface language, each at most `LIMIT` characters."""

    LIMIT: ClassVar[int | None] = None
    WHAT: ClassVar[str] = "a text"

    kk: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)

    @model_validator(mode="after")
    def _fits(self) -> Self:
        """Every language within the limit (named with the language and the length)."""
        limit = type(self).LIMIT
        for language in ("kk", "ru", "en"):
            length = len(getattr(self, language))
            if limit is not None and length > limit:
                raise ValueError(
                    f"{language}: {length} characters, at most {limit} for {type(self).WHAT}"
                )
        return self

    def get(self, language: str) -> str:
        """The text in `language` (falls back to English)."""
        return str(getattr(self, language, None) or self.en)


class BodyText(CourseText):
    """A text step's body: split at blank lines when sent, each paragraph one message at most."""

    @model_validator(mode="after")
    def _paragraphs_fit(self) -> Self:
        """A paragraph cannot be split cleanly, so each must fit one Telegram message."""
        for language in ("kk", "ru", "en"):
            for number, paragraph in enumerate(paragraphs(getattr(self, language)), 1):
                if len(paragraph) > MESSAGE_MAX:
                    raise ValueError(
                        f"{language}: paragraph {number} has {len(paragraph)} characters, at "
                        f"most {MESSAGE_MAX} (one message); put a blank line where it may split"
                    )
        return self


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text: the parts between blank lines, stripped, empty ones dropped."""
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            parts.append("\n".join(current).strip())
            current = []
    if current:
        parts.append("\n".join(current).strip())
    return parts


class TitleText(CourseText):
    """A course's or a module's title."""

    LIMIT = TITLE_MAX
    WHAT = "a title"


class LessonTitle(CourseText):
    """A lesson's title: also a button label (reopening an earlier lesson)."""

    LIMIT = BUTTON_MAX
    WHAT = "a lesson title (a button label)"


class CaptionText(CourseText):
    """A media step's caption."""

    LIMIT = CAPTION_MAX
    WHAT = "a caption"


class LinkText(CourseText):
    """The line sent with a link."""

    LIMIT = LINK_TEXT_MAX
    WHAT = "a link's text"


class QuestionText(CourseText):
    """A check question, shown with its buttons."""

    LIMIT = QUESTION_MAX
    WHAT = "a check question"


class ExplanationText(CourseText):
    """A check's explanation, shown with the question after the answer."""

    LIMIT = QUESTION_MAX
    WHAT = "an explanation"


class OptionText(CourseText):
    """An option of a check: a button label."""

    LIMIT = BUTTON_MAX
    WHAT = "an option (a button label)"


class DescriptionText(CourseText):
    """A course's description, one message."""

    LIMIT = MESSAGE_MAX
    WHAT = "a description"


def check_url(url: str) -> str:
    """An http(s) address with a host and no spaces, or a ValueError saying why not."""
    if len(url) > URL_MAX:
        raise ValueError(f"a URL of at most {URL_MAX} characters")
    if any(ch.isspace() for ch in url):
        raise ValueError("a URL has no spaces")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"only http:// and https:// addresses, not {url!r}")
    if not parts.netloc:
        raise ValueError(f"{url!r} has no host")
    return url


class TextStep(Strict):
    """Text to read (HTML like the bot's messages)."""

    type: Literal["text"]
    text: BodyText


class MediaStep(Strict):
    """A photo, a document or a video: a file in the pack's folder, or a URL."""

    type: Literal["photo", "document", "video"]
    file: str | None = Field(default=None, min_length=1, max_length=500)
    url: str | None = None
    caption: CaptionText | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        """Only http(s) addresses."""
        return None if url is None else check_url(url)

    @model_validator(mode="after")
    def _one_source(self) -> MediaStep:
        """Exactly one of `file:` and `url:`."""
        if (self.file is None) == (self.url is None):
            raise ValueError("give exactly one of file: (in the pack's folder) and url:")
        return self


class LinkStep(Strict):
    """A link with its preview and a line of text."""

    type: Literal["link"]
    url: str
    text: LinkText

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        """Only http(s) addresses."""
        return check_url(url)


Step = Annotated[TextStep | MediaStep | LinkStep, Field(discriminator="type")]


class CheckOption(Strict):
    """One option of a check question; `code` is what is stored."""

    code: Code
    text: OptionText
    correct: bool = False


class Check(Strict):
    """A lesson's one check question, with the explanation shown after any answer."""

    code: Code
    kind: Literal["single", "multiple"]
    question: QuestionText
    options: list[CheckOption] = Field(min_length=2, max_length=MAX_OPTIONS)
    explanation: ExplanationText

    @model_validator(mode="after")
    def _correct_options(self) -> Check:
        """At least one correct option; exactly one for a single-choice question."""
        correct = sum(option.correct for option in self.options)
        if correct == 0:
            raise ValueError("at least one option must be correct: true")
        if self.kind == "single" and correct != 1:
            raise ValueError(
                f"a single-choice check has exactly one correct option, not {correct} "
                "(use kind: multiple)"
            )
        return self


class Lesson(Strict):
    """A micro-lesson: 1 to 8 steps and an optional check question."""

    code: Code
    title: LessonTitle
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    check: Check | None = None


class Module(Strict):
    """A group of lessons under one title."""

    code: Code
    title: TitleText
    lessons: list[Lesson] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class FlatLesson:
    """A lesson in course order: its place (0-based over the whole course) and its module."""

    position: int
    module: Module
    lesson: Lesson


class CoursePack(Strict):
    """One course: modules of lessons, optionally between a pre-test and a post-test."""

    kind: Literal["course"]
    code: CourseCode
    version: int = Field(ge=1)
    title: TitleText
    description: DescriptionText | None = None
    pre_test: Code | None = None
    post_test: Code | None = None
    modules: list[Module] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _fits_the_database(cls, version: int) -> int:
        """The version must fit the database's integer column."""
        if version > MAX_VERSION:
            raise ValueError(
                f"at most {MAX_VERSION}, the largest whole number the database stores here"
            )
        return version

    def lessons(self) -> list[FlatLesson]:
        """Every lesson in course order, numbered from 0 across the modules."""
        flat = [(module, lesson) for module in self.modules for lesson in module.lessons]
        return [FlatLesson(i, module, lesson) for i, (module, lesson) in enumerate(flat)]

    def lesson(self, code: str) -> FlatLesson | None:
        """The lesson with this code, or None."""
        return next((flat for flat in self.lessons() if flat.lesson.code == code), None)


def parse_definition(definition: dict[str, Any]) -> CoursePack:
    """A stored `Course.definition` read back as a `CoursePack`."""
    return CoursePack.model_validate(definition)
