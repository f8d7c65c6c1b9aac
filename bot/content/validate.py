"""Reading and checking content packs: every error names the file, the path in it and why.

`check_file` reads one YAML file and returns a `Report`: the validated `Pack`, or the list of
errors. Field rules come from the schema; the checks here look across the pack: duplicate
codes, references to Likert scales and scoring scales, conditions that read a later or unknown
question, tests without correct answers, level tables with gaps or overlaps. A pack with any
error is refused whole: nothing half-loaded.

A document with `kind: course` is a course pack (`bot.content.course_schema`), read with the
same loader (depth limit, duplicate keys refused) and reported the same way. Its checks across
the pack: lesson codes unique in the whole course, option codes unique per check, and media
given by `file:` present in the pack's folder (no escaping it, within the Bot API's upload
size). A pack sent in chat has no folder, so its media must be given by `url:`. Whether the
instruments named as `pre_test`/`post_test` exist is known only at loading
(`course_reference_errors`).

A document with `kind: contest` is a contest pack (`bot.content.contest_schema`), read and
reported the same way; what loading a changed contest may change is decided at loading
(`bot.services.content`), where its entries and reviews are known.

A document with `kind: resources` is a resource pack (`bot.content.resource_schema`): the
resource bank's disciplines and ready-made resources. Whether a discipline a resource names
but the pack does not give is loaded already is known only at loading.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.content import conditions
from bot.content.contest_schema import ContestPack
from bot.content.course_schema import (
    MEDIA_MAX_BYTES,
    PHOTO_MAX_BYTES,
    STEP_TYPES,
    CoursePack,
    MediaStep,
)
from bot.content.resource_schema import ResourcePack
from bot.content.schema import (
    ChoiceQuestion,
    InfoScreen,
    Level,
    LikertQuestion,
    MatrixQuestion,
    Pack,
    RankingQuestion,
)

QUESTION_TYPES = (
    "single",
    "multiple",
    "ranking",
    "likert",
    "matrix",
    "number",
    "text",
    "date",
    "info",
)
# Lists and mappings inside each other; the schema itself needs about six
# (questions[i].options[j].text.kk), so 50 refuses no real pack.
MAX_DEPTH = 50
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels (lists and mappings inside each other)"


@dataclass(frozen=True)
class ContentError:
    """One problem in a pack."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        """`file: path: reason`, one line."""
        return f"{self.file}: {self.path or '(top)'}: {self.reason}"


@dataclass
class Report:
    """The outcome of checking one file."""

    file: str
    pack: Pack | None = None
    errors: list[ContentError] = field(default_factory=list)
    checksum: str | None = None
    course: CoursePack | None = None  # set instead of `pack` for a valid course pack
    contest: ContestPack | None = None  # set instead of `pack` for a valid contest pack
    resources: ResourcePack | None = None  # set instead of `pack` for a valid resource pack

    @property
    def ok(self) -> bool:
        """True when the pack can be loaded."""
        valid = (
            self.pack is not None
            or self.course is not None
            or self.contest is not None
            or self.resources is not None
        )
        return valid and not self.errors

    @property
    def kind(self) -> str:
        """What the file holds: "instrument", "course", "contest", "resources" ("": invalid)."""
        if self.resources is not None:
            return "resources"
        if self.course is not None:
            return "course"
        if self.contest is not None:
            return "contest"
        return "instrument" if self.pack is not None else ""

    def summary(self) -> str:
        """One line about a valid pack: code, version, kind and what it holds."""
        if self.resources is not None:
            bank = self.resources
            return (
                f"{self.file}: {bank.code} v{bank.version} (resources), "
                f"{len(bank.disciplines)} disciplines, {len(bank.resources)} resources"
            )
        if self.contest is not None:
            contest = self.contest
            windows = contest.windows
            return (
                f"{self.file}: {contest.code} v{contest.version} (contest), "
                f"{len(contest.criteria)} criteria, "
                f"{contest.reviews_per_entry} reviews per entry, "
                f"up to {contest.entry.max_authors} author(s)"
                + (f", deadline {windows.deadline.isoformat()}" if windows else ", no windows yet")
            )
        if self.course is not None:
            course = self.course
            lessons = course.lessons()
            checks = sum(1 for flat in lessons if flat.lesson.check is not None)
            return (
                f"{self.file}: {course.code} v{course.version} (course), "
                f"{len(course.modules)} modules, {len(lessons)} lessons, {checks} checks"
                + (f", pre-test {course.pre_test}" if course.pre_test else "")
                + (f", post-test {course.post_test}" if course.post_test else "")
            )
        if self.pack is None:
            return f"{self.file}: {len(self.errors)} error(s)"
        pack = self.pack
        answered = sum(1 for _ in answerable(pack))
        return (
            f"{self.file}: {pack.code} v{pack.version} ({pack.kind}), {answered} items, "
            f"{len(pack.scales)} scales, {len(pack.levels)} levels"
            + (f", {pack.pair.role} of {pack.pair.with_}" if pack.pair else "")
        )


def answerable(pack: Pack) -> Iterator[tuple[str, Any]]:
    """Every stored item in order: questions, and matrix items one by one (code, question)."""
    for question in pack.questions:
        if isinstance(question, MatrixQuestion):
            for item in question.items:
                yield item.code, question
        elif not isinstance(question, InfoScreen):
            yield question.code, question


def checksum(data: Any) -> str:
    """A stable fingerprint of a pack's content, to tell a changed pack from the same one."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _path(loc: Iterable[Any]) -> str:
    items = list(loc)
    parts: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif (
            i >= 2
            and isinstance(items[i - 1], int)
            and (
                (items[i - 2] == "questions" and item in QUESTION_TYPES)
                or (items[i - 2] == "steps" and item in STEP_TYPES)
            )
        ):
            continue  # the discriminator pydantic adds after a question's or a step's index
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _reason(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    in_steps = len(loc) >= 2 and loc[-2] == "steps"
    if kind == "union_tag_invalid" and in_steps:
        tag = error.get("input", {}).get("type") if isinstance(error.get("input"), dict) else None
        return f"unknown step type {tag!r}; expected one of {', '.join(STEP_TYPES)}"
    if kind == "union_tag_not_found" and in_steps:
        return "a step needs a type: " + ", ".join(STEP_TYPES)
    if kind == "union_tag_invalid":
        tag = error.get("input", {}).get("type") if isinstance(error.get("input"), dict) else None
        return f"unknown question type {tag!r}; expected one of {', '.join(QUESTION_TYPES)}"
    if kind == "union_tag_not_found":
        return "a question needs a type: " + ", ".join(QUESTION_TYPES)
    if kind == "missing":
        return (
            "missing (every text needs kk, ru and en)"
            if str(error.get("loc", ("",))[-1]) in ("kk", "ru", "en")
            else "missing"
        )
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def check_data(data: Any, file: str, folder: Path | None = None) -> Report:
    """Check an already parsed pack; `folder` is where a course's media files are (None: none)."""
    report = Report(file=file)
    if not isinstance(data, dict):
        report.errors.append(ContentError(file, "", "a pack is a mapping (code:, title:, ...)"))
        return report
    if data.get("kind") == "course":
        return _check_course(data, file, folder)
    if data.get("kind") == "contest":
        return _check_contest(data, file)
    if data.get("kind") == "resources":
        return _check_resources(data, file)
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            report.errors.append(ContentError(file, _path(error["loc"]), _reason(dict(error))))
        return report
    report.errors.extend(_cross_checks(pack, file))
    if not report.errors:
        report.pack = pack
        report.checksum = checksum(data)
    return report


class RefusedYAML(yaml.MarkedYAMLError):
    """Well-formed YAML a pack may not use: too deep, a key given twice, an alias in chat."""

    def __init__(self, problem: str, mark: yaml.Mark | None, path: str = ""):
        """`problem` happened at `mark`; `path` is where in the pack, when known."""
        super().__init__(problem=problem, problem_mark=mark)
        self.path = path


class PackLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the checks a pack needs, made while the text is read.

    Depth is refused inside PyYAML's own scanner and composer, not by a separate pre-scan:
    a hand-written scan would have to repeat YAML's quoting, comment and block-scalar rules
    exactly, and wherever it disagreed with the parser nesting could hide from it. Here the
    check sees what the parser sees and stops at level 51 having read only that far, so a
    refusal costs the same for 1 KB as for 1 MB. Unchecked, the scanner keeps a pending
    "simple key" per open bracket and rescans them all for every token (quadratic: minutes
    for 100 KB of `[`), and the composer recurses once per level (RecursionError).
    """

    def __init__(self, stream: str, *, aliases: bool = True):
        """Read `stream`; `aliases=False` refuses `*alias` (packs sent in chat)."""
        super().__init__(stream)
        self.aliases = aliases
        self._trail: list[Any] = []  # per collection being composed: its index or key node
        self._paths: dict[yaml.Node, str] = {}  # mapping node -> its path, for messages

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        """Refuse a bracket past the limit before the scanner queues it (see the class)."""
        if self.flow_level >= MAX_DEPTH:
            raise RefusedYAML(TOO_DEEP, self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def fetch_alias(self) -> None:
        """Refuse `*alias` when asked: a few bytes of aliases can expand to gigabytes."""
        if not self.aliases:
            raise RefusedYAML(
                "anchors and aliases (& and *) are not accepted in packs sent in chat",
                self.get_mark(),
            )
        super().fetch_alias()

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, refusing a list or mapping opened past `MAX_DEPTH` levels."""
        if len(self._trail) >= MAX_DEPTH and self.check_event(
            yaml.SequenceStartEvent, yaml.MappingStartEvent
        ):
            raise RefusedYAML(TOO_DEEP, self.peek_event().start_mark)
        self._trail.append(index)
        try:
            node = super().compose_node(parent, index)
            if isinstance(node, yaml.MappingNode):
                self._paths.setdefault(node, self._where())
        finally:
            self._trail.pop()
        return node

    def _where(self) -> str:
        """The path of the node being composed, e.g. `questions[2]` (the root is "")."""
        path = ""
        for step in self._trail[1:]:
            if isinstance(step, int):
                path += f"[{step}]"
            else:
                name = step.value if isinstance(step, yaml.ScalarNode) else "?"
                path += f".{name}" if path else str(name)
        return path

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """Build one value; a scalar YAML cannot turn into its type is a report line.

        PyYAML raises plain Python errors for such values (`2026-13-45`, `!!int 'abc'`, a
        5,000-digit number past Python's int limit, `!!bool 'maybe'`), which would otherwise
        escape the check as "something went wrong".
        """
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            shown = str(getattr(node, "value", ""))[:40]
            raise RefusedYAML(
                f"not valid YAML: {shown!r} cannot be read as {node.tag.rsplit(':', 1)[-1]} "
                f"({type(exc).__name__})",
                node.start_mark,
            ) from None

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Build a mapping, refusing a key given twice (YAML would keep the last silently)."""
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *base` then a key overrides the merged value on purpose
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # an unhashable key: the constructor reports it below
                if first is not key_node:
                    base = self._paths.get(node, "")
                    raise RefusedYAML(
                        f"the key {key!r} is given twice (lines {first.start_mark.line + 1} "
                        f"and {key_node.start_mark.line + 1})",
                        key_node.start_mark,
                        f"{base}.{key}" if base else str(key),
                    )
        return super().construct_mapping(node, deep=deep)


def _line(mark: yaml.Mark | None) -> str:
    """`line L, column C` of a YAML mark (1-based), or "" without one."""
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def check_text(
    text: str, file: str, *, aliases: bool = True, folder: Path | None = None
) -> Report:
    """Parse and check the YAML text of one pack (`aliases=False` for packs sent in chat).

    `folder` is the pack's folder, where a course's `file:` media are; None for a pack sent in
    chat, which has none.
    """
    loader = PackLoader(text, aliases=aliases)
    try:
        data = loader.get_single_data()
    except RefusedYAML as exc:
        where = exc.path or _line(exc.problem_mark)
        return Report(file=file, errors=[ContentError(file, where, exc.problem or "")])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        error = ContentError(file, _line(mark), f"not valid YAML: {problem}")
        return Report(file=file, errors=[error])
    finally:
        loader.dispose()
    return check_data(data, file, folder)


def check_file(path: Path) -> Report:
    """Read and check one YAML file."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return Report(file=name, errors=[ContentError(name, "", f"cannot read: {exc.strerror}")])
    except UnicodeDecodeError:
        return Report(file=name, errors=[ContentError(name, "", "not UTF-8 text")])
    return check_text(text, name, folder=path.parent)


def pack_files(path: Path) -> list[Path]:
    """The YAML files at `path` (a file, or a folder searched recursively), in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
    return [path]


def check_path(path: Path) -> list[Report]:
    """Check a file or every pack in a folder, including pairs that name a missing partner."""
    reports = [check_file(p) for p in pack_files(path)]
    if path.is_dir():
        codes = {r.pack.code for r in reports if r.pack}
        for report in reports:
            pack = report.pack
            if pack and pack.pair and pack.pair.with_ not in codes:
                report.errors.append(
                    ContentError(
                        report.file,
                        "pair.with",
                        f"no pack with code {pack.pair.with_!r} in {path}",
                    )
                )
                report.pack = None
    return reports


def _duplicates(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for code in codes:
        if code in seen and code not in repeated:
            repeated.append(code)
        seen.add(code)
    return repeated


def _level_errors(levels: list[Level], file: str, where: str) -> list[ContentError]:
    errors: list[ContentError] = []
    for code in _duplicates(level.code for level in levels):
        errors.append(ContentError(file, where, f"level code {code!r} is used twice"))
    for i, level in enumerate(levels):
        if level.min >= level.max:
            errors.append(ContentError(file, f"{where}[{i}]", "min must be below max"))
    ordered = sorted(levels, key=lambda level: level.min)
    for low, high in itertools.pairwise(ordered):
        if high.min > low.max:
            errors.append(
                ContentError(
                    file,
                    where,
                    f"gap between {low.code!r} (to {low.max:g}) and {high.code!r} "
                    f"(from {high.min:g}): scores in between would have no level",
                )
            )
        elif high.min < low.max:
            errors.append(
                ContentError(
                    file,
                    where,
                    f"{low.code!r} (to {low.max:g}) overlaps {high.code!r} (from {high.min:g})",
                )
            )
    return errors


def _cross_checks(pack: Pack, file: str) -> list[ContentError]:
    errors: list[ContentError] = []
    item_codes = [code for code, _ in answerable(pack)]
    info_codes = [q.code for q in pack.questions if isinstance(q, InfoScreen)]
    matrix_codes = [q.code for q in pack.questions if isinstance(q, MatrixQuestion)]
    for code in _duplicates(item_codes + info_codes + matrix_codes):
        errors.append(ContentError(file, "questions", f"code {code!r} is used twice"))
    for code in _duplicates(scale.code for scale in pack.scales):
        errors.append(ContentError(file, "scales", f"scale code {code!r} is used twice"))
    scale_codes = {scale.code for scale in pack.scales}
    for i, scale in enumerate(pack.scales):
        errors.extend(_level_errors(scale.levels, file, f"scales[{i}].levels"))
    errors.extend(_level_errors(pack.levels, file, "levels"))
    if pack.pair and pack.pair.with_ == pack.code:
        errors.append(ContentError(file, "pair.with", "an instrument cannot pair with itself"))

    earlier: set[str] = set()
    for i, question in enumerate(pack.questions):
        where = f"questions[{i}]"
        if question.show_if is not None:
            try:
                condition = conditions.parse(question.show_if)
            except conditions.ConditionError as exc:
                errors.append(ContentError(file, f"{where}.show_if", str(exc)))
            else:
                for name in sorted(condition.names - earlier):
                    where_is = "comes later" if name in item_codes else "is not a question"
                    errors.append(
                        ContentError(
                            file, f"{where}.show_if", f"refers to {name!r}, which {where_is}"
                        )
                    )
        if (
            isinstance(question, LikertQuestion | MatrixQuestion)
            and isinstance(question.likert, str)
            and question.likert not in pack.likert_scales
        ):
            errors.append(
                ContentError(
                    file,
                    f"{where}.likert",
                    f"no Likert scale {question.likert!r} in likert_scales",
                )
            )
        references = (
            [(f"{where}.items[{j}].scale", item.scale) for j, item in enumerate(question.items)]
            if isinstance(question, MatrixQuestion)
            else [(f"{where}.scale", getattr(question, "scale", None))]
        )
        for path, reference in references:
            if reference is not None and reference not in scale_codes:
                errors.append(ContentError(file, path, f"no scale {reference!r} in scales"))
        if isinstance(question, ChoiceQuestion):
            for code in _duplicates(option.code for option in question.options):
                errors.append(
                    ContentError(file, f"{where}.options", f"option code {code!r} is used twice")
                )
            has_correct = any(option.correct for option in question.options)
            if pack.kind == "test" and not has_correct:
                errors.append(
                    ContentError(file, where, "a test question needs at least one correct option")
                )
            if pack.kind == "survey" and has_correct:
                errors.append(
                    ContentError(file, where, "correct answers belong in a test (kind: test)")
                )
        if isinstance(question, RankingQuestion):
            for code in _duplicates(option.code for option in question.options):
                errors.append(
                    ContentError(file, f"{where}.options", f"option code {code!r} is used twice")
                )
            if question.scale is not None:
                errors.append(
                    ContentError(file, f"{where}.scale", "a ranking is not scored: no scale")
                )
            if any(option.correct for option in question.options):
                errors.append(ContentError(file, where, "a ranking has no correct options"))
        if isinstance(question, MatrixQuestion):
            earlier.update(item.code for item in question.items)
        elif not isinstance(question, InfoScreen):
            earlier.add(question.code)
    return errors


def _check_course(data: dict[str, Any], file: str, folder: Path | None) -> Report:
    """Check a course pack: the schema, then the checks across it and its media files."""
    report = Report(file=file)
    try:
        course = CoursePack.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            report.errors.append(ContentError(file, _path(error["loc"]), _reason(dict(error))))
        return report
    report.errors.extend(_course_checks(course, file, folder))
    if not report.errors:
        report.course = course
        report.checksum = checksum(data)
    return report


def _check_contest(data: dict[str, Any], file: str) -> Report:
    """Check a contest pack (`bot.content.contest_schema`: its checks need nothing else).

    The checksum is taken over the validated pack as JSON: YAML reads the windows as
    datetimes, which the raw data's JSON cannot hold.
    """
    report = Report(file=file)
    try:
        contest = ContestPack.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            report.errors.append(ContentError(file, _path(error["loc"]), _reason(dict(error))))
        return report
    report.contest = contest
    report.checksum = checksum(contest.model_dump(mode="json", exclude_none=True))
    return report


def _check_resources(data: dict[str, Any], file: str) -> Report:
    """Check a resource pack (`bot.content.resource_schema`)."""
    report = Report(file=file)
    try:
        bank = ResourcePack.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            report.errors.append(ContentError(file, _path(error["loc"]), _reason(dict(error))))
        return report
    report.resources = bank
    report.checksum = checksum(bank.model_dump(mode="json", exclude_none=True))
    return report


def _course_checks(course: CoursePack, file: str, folder: Path | None) -> list[ContentError]:
    """Codes unique where they must be, and every `file:` medium usable."""
    errors: list[ContentError] = []
    for code in _duplicates(module.code for module in course.modules):
        errors.append(ContentError(file, "modules", f"module code {code!r} is used twice"))
    lesson_codes = [flat.lesson.code for flat in course.lessons()]
    for code in _duplicates(lesson_codes):
        errors.append(
            ContentError(file, "modules", f"lesson code {code!r} is used twice in the course")
        )
    check_codes = [f.lesson.check.code for f in course.lessons() if f.lesson.check is not None]
    for code in _duplicates(check_codes):
        errors.append(
            ContentError(file, "modules", f"check code {code!r} is used twice in the course")
        )
    for m, module in enumerate(course.modules):
        for n, lesson in enumerate(module.lessons):
            where = f"modules[{m}].lessons[{n}]"
            if lesson.check is not None:
                for code in _duplicates(option.code for option in lesson.check.options):
                    errors.append(
                        ContentError(
                            file, f"{where}.check.options", f"option code {code!r} is used twice"
                        )
                    )
            for s, step in enumerate(lesson.steps):
                if isinstance(step, MediaStep) and step.file is not None:
                    reason = media_problem(step.file, step.type, folder)
                    if reason:
                        errors.append(ContentError(file, f"{where}.steps[{s}].file", reason))
    return errors


def media_problem(name: str, kind: str, folder: Path | None) -> str | None:
    """Why the medium `name` of a step of `kind` cannot be sent from `folder`, or None."""
    if folder is None:
        return (
            "a pack sent in chat has no folder for files: give the medium by url: "
            "(or load the pack with its files from the server)"
        )
    relative = Path(name)
    if relative.is_absolute() or name.startswith(("/", "\\")) or ":" in name:
        return f"{name!r} must be a path relative to the pack's folder"
    base = folder.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        return f"{name!r} leads outside the pack's folder"
    if not target.is_file():
        return f"no file {name!r} in the pack's folder ({folder})"
    limit = PHOTO_MAX_BYTES if kind == "photo" else MEDIA_MAX_BYTES
    size = target.stat().st_size
    if size > limit:
        return (
            f"{name!r} is {size / 1024 / 1024:.1f} MB; a {kind} may be at most "
            f"{limit // 1024 // 1024} MB (Telegram's upload limit)"
        )
    return None


def course_reference_errors(reports: Iterable[Report], known: set[str]) -> list[ContentError]:
    """`pre_test`/`post_test` naming an instrument not in `known` (loaded or in the batch)."""
    errors: list[ContentError] = []
    for report in reports:
        course = report.course
        if course is None:
            continue
        for field_name, code in (("pre_test", course.pre_test), ("post_test", course.post_test)):
            if code is not None and code not in known:
                errors.append(
                    ContentError(
                        report.file, field_name, f"no instrument {code!r} is loaded or given"
                    )
                )
    return errors
