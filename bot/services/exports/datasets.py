"""The export datasets: one registry entry per dataset, read by everything that lists them.

An entry names the dataset (file names, the audit log, `python -m bot export --dataset`),
gives it a short code (the export request in button data carries the code), says how to build
its tables, and describes it for the codebook; its label in chat is the translation key
`exports.dataset.<name>`. The chat form's menu, the request's button encoding and the command
line's choices all read `DATASETS`, so a new dataset is one `register(Dataset(...))` (and its
three translations), not an edit in each of them.

A code is part of data that outlives a deploy: buttons already sent, and the request stored on
a user who is typing a period. So a code never changes and is never given to another dataset,
not even after its dataset is removed (list it in `RETIRED`). The first four codes are the
positions those datasets had when requests named datasets by position; they keep that meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.services.exports import contest, course, events, long, resources, scores, swot, wide
from bot.services.exports.common import Filters, Options
from bot.services.exports.spec import Labels, Table

Builder = Callable[[Session, Filters, Options], list[Table]]

CODE = re.compile(r"[a-z0-9]{1,3}")  # fits the request's 64-byte budget with room to spare
NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")  # a file name, a CLI choice and part of a key
# Codes of removed datasets: an old button or stored request must find nothing, not another.
RETIRED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Dataset:
    """One exportable dataset."""

    name: str  # in file names (`ortaq-<name>`), the audit log and `--dataset`
    code: str  # in button data; never changed, never reused (see the module's docstring)
    build: Builder  # its tables, read on the export's worker thread
    description: Labels  # the codebook's entry: what the dataset holds, what one row is

    @property
    def label(self) -> str:
        """The translation key of its name in chat."""
        return f"exports.dataset.{self.name}"


DATASETS: dict[str, Dataset] = {}  # by name, in the order they are offered


def register(dataset: Dataset) -> Dataset:
    """Add `dataset` to the registry; ValueError if its name or code is bad or taken."""
    if not NAME.fullmatch(dataset.name) or not CODE.fullmatch(dataset.code):
        raise ValueError(f"bad dataset name or code: {dataset.name!r}, {dataset.code!r}")
    if dataset.code in RETIRED:
        raise ValueError(f"dataset code {dataset.code!r} was retired: choose another")
    for other in DATASETS.values():
        if dataset.name == other.name or dataset.code == other.code:
            raise ValueError(f"dataset {dataset.name!r} ({dataset.code}) clashes with {other}")
    DATASETS[dataset.name] = dataset
    return dataset


def by_code(code: str) -> Dataset | None:
    """The dataset with this code, or None (an unknown, retired or forged code)."""
    return next((d for d in DATASETS.values() if d.code == code), None)


register(
    Dataset(
        "answers",
        "0",
        lambda s, f, o: [long.table(s, f, o)],
        {
            "kk": "Жауаптар, ұзын пішім: қатысушының әр жауабына бір жол, сұрақтың коды, "
            "жауаптың коды мен мәтінімен",
            "ru": "Ответы в длинном формате: одна строка на каждый ответ участника, с кодом "
            "вопроса, кодом и текстом ответа",
            "en": "Answers, long format: one row per answer a participant gave, with the "
            "question's code and the answer's code and text",
        },
    )
)
register(
    Dataset(
        "wide",
        "1",
        lambda s, f, o: [wide.table(s, f, o)],
        {
            "kk": "Жауаптар, кең пішім: қатысушы мен толқынға бір жол, әр сұраққа бір баған, "
            "шкала ұпайларымен",
            "ru": "Ответы в широком формате: одна строка на участника и волну, столбец на "
            "каждый вопрос, с баллами по шкалам",
            "en": "Answers, wide format: one row per participant and wave, one column per "
            "question, with the scale scores",
        },
    )
)
register(
    Dataset(
        "scores",
        "2",
        lambda s, f, o: [scores.table(s, f, o)],
        {
            "kk": "Шкала ұпайлары мен деңгейлер: тапсырылған әр әрекет пен шкалаға бір жол "
            "(тесттерде жалпы ұпай да бар)",
            "ru": "Баллы по шкалам и уровни: одна строка на каждую отправленную попытку и "
            "шкалу (у тестов и итог)",
            "en": "Scale scores and levels: one row per submitted attempt and scale (tests "
            "add their total)",
        },
    )
)
register(
    Dataset(
        "swot",
        "3",
        swot.tables,
        {
            "kk": "SWOT: қатысушы жазған әр тармаққа бір жол, квадрант пен университет "
            "бойынша, және олардың саны",
            "ru": "SWOT: одна строка на каждый пункт, написанный участником, по квадрантам и "
            "вузам, и их количество",
            "en": "SWOT: one row per point a participant wrote, by quadrant and university, "
            "and how many there are",
        },
    )
)
register(
    Dataset(
        "course_progress",
        "4",
        lambda s, f, o: [course.progress_table(s, f, o)],
        {
            "kk": "Курс үлгерімі: қатысушы мен сабаққа бір жол (курс нұсқасының әр сабағы, "
            "жетпегендері де), жеткізілген, ашылған және аяқталған уақыттарымен",
            "ru": "Прогресс по курсу: одна строка на участника и урок (каждый урок его версии "
            "курса, и недошедшие тоже), с временем доставки, открытия и завершения",
            "en": "Course progress: one row per learner and lesson (every lesson of their course "
            "version, reached or not), with the times it was delivered, opened and completed",
        },
    )
)
register(
    Dataset(
        "course_checks",
        "5",
        lambda s, f, o: [course.checks_table(s, f, o)],
        {
            "kk": "Курстың тексеру сұрақтары: әр жауапқа бір жол, сабақпен, сұрақ кодымен, "
            "таңдалған нұсқалармен және дұрыстығымен",
            "ru": "Проверочные вопросы курса: одна строка на каждый ответ, с уроком, кодом "
            "вопроса, выбранными вариантами и верностью",
            "en": "Course check questions: one row per answer, with the lesson, the question's "
            "code, the options chosen and whether it was correct",
        },
    )
)
register(
    Dataset(
        "events",
        "6",
        lambda s, f, o: [events.events_table(s, f, o)],
        {
            "kk": "Іс-шаралар: әр жарияланған немесе болдырылмаған іс-шараға бір жол (вебинар, "
            "коучинг, семинар, ...), уақытымен, өткізуші университетімен және көрсеткіштерімен: "
            "тіркелгендер, күтушілер, еске салғыштар, келгендер, келмегендер, бағалар",
            "ru": "События: одна строка на каждое опубликованное или отменённое событие (вебинар, "
            "коучинг, семинар, ...), со временем, принимающим вузом и показателями: "
            "зарегистрированы, ожидают, напоминания, пришли, не пришли, оценки",
            "en": "Events: one row per published or cancelled event (webinar, coaching session, "
            "seminar, ...), with its time, hosting university and figures: registered, waiting, "
            "reminded, attended, no-shows, feedback",
        },
    )
)
register(
    Dataset(
        "attendance",
        "7",
        lambda s, f, o: [events.attendance_table(s, f, o)],
        {
            "kk": "Іс-шараларға қатысу: қатысушы мен іс-шараға бір жол, тіркелу күйімен, "
            "жіберілген еске салғыштармен, белгіленуімен және бағасымен",
            "ru": "Участие в событиях: одна строка на участника и событие, с состоянием "
            "регистрации, отправленными напоминаниями, отметкой о присутствии и оценкой",
            "en": "Event attendance: one row per participant and event, with the registration's "
            "state, the reminders sent, the check-in and the feedback",
        },
    )
)
register(
    Dataset(
        "contest_entries",
        "8",
        lambda s, f, o: [contest.entries_table(s, f, o)],
        {
            "kk": "Байқау жұмыстары: жіберілген немесе кері алынған әр жұмысқа бір жол, авторлар "
            "кодтарымен, университеттерімен, жіберілген уақытымен, сілтемесімен, файлдарымен, "
            "әр критерий бойынша орташа балымен, қорытынды балымен және орнымен",
            "ru": "Работы конкурса: одна строка на каждую поданную или отозванную работу, с "
            "кодами авторов, университетами, временем подачи, ссылкой, файлами, средним баллом "
            "по каждому критерию, итоговым баллом и местом",
            "en": "Contest entries: one row per submitted or withdrawn entry, with the authors' "
            "codes, universities, submission time, link, files, the mean score on each "
            "criterion, the final score and the rank",
        },
    )
)
register(
    Dataset(
        "contest_reviews",
        "9",
        lambda s, f, o: [contest.reviews_table(s, f, o)],
        {
            "kk": "Байқау сараптамалары: әр сараптама мен критерийге бір жол, қазы кодымен және "
            "университетімен, балымен, ең жоғары балымен, салмағымен, уақытымен және пікірімен",
            "ru": "Рецензии конкурса: одна строка на рецензию и критерий, с кодом и "
            "университетом члена жюри, баллом, максимумом, весом, временем и комментарием",
            "en": "Contest reviews: one row per review and criterion, with the juror's code and "
            "university, the score, maximum, weight, time and comment",
        },
    )
)
register(
    Dataset(
        "resources",
        "10",
        lambda s, f, o: [resources.resources_table(s, f, o)],
        {
            "kk": "Ресурстар банкі: модерацияға жіберілген әр ресурсқа бір жол, үш тілдегі "
            "атауымен, пәнімен, түрімен, тілдерімен, деңгейімен, лицензиясымен, авторларымен, "
            "университетімен, жариялаушының кодымен, файлымен немесе сілтемесімен, "
            "жіберілген және мақұлданған уақытымен, қолданушылар санымен (басқа "
            "университеттерден де) және бағаларымен",
            "ru": "Банк ресурсов: одна строка на каждый отправленный на модерацию ресурс, с "
            "названием на трёх языках, дисциплиной, видом, языками, уровнем, лицензией, "
            "авторами, университетом, кодом автора публикации, файлом или ссылкой, временем "
            "отправки и одобрения, числом использовавших (и из других университетов) и "
            "оценками",
            "en": "Resource bank: one row per resource sent to moderation, with its title in "
            "three languages, discipline, kind, languages, level, license, authors, "
            "university, contributor's code, file or link, times submitted and approved, "
            "people who used it (and of them from other universities) and ratings",
        },
    )
)
register(
    Dataset(
        "resource_use",
        "11",
        lambda s, f, o: [resources.use_table(s, f, o)],
        {
            "kk": "Ресурстарды қолдану: адам мен ресурсқа бір жол, адамның және ресурстың "
            "университетімен, алғаш және соңғы рет ашылған уақытымен, ашылған санымен, "
            "бағасымен және пікір жазылғанымен (пікір мәтіні тек сәйкестендірілген "
            "экспорттарда)",
            "ru": "Использование ресурсов: одна строка на человека и ресурс, с университетом "
            "человека и ресурса, временем первого и последнего открытия, числом открытий, "
            "оценкой и отметкой о комментарии (текст комментария только в "
            "идентифицированных выгрузках)",
            "en": "Resource use: one row per person and resource, with the person's and the "
            "resource's university, when it was first and last opened, how many times, the "
            "rating and whether they commented (the comment's text in identified exports "
            "only)",
        },
    )
)
