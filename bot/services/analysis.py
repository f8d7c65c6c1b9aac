"""The research analysis of one instrument or pre/post pair, from the database to a workbook.

Reads the submitted attempts (the latest submitted one per participant and wave) of the
instrument and its declared partner, scores every item as the instrument scores it (Likert
reverse-scored items reversed, test points earned), takes the scale scores stored when each
attempt was scored (at full precision: never rounded before the statistics), and hands that
to `analysis_stats.run_all`. The workbook, the charts (pre vs post by scale; by university)
and a summary are written in a worker thread with its own database connection, like the
exports.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content.engine import Compiled, Item
from bot.content.schema import Scale
from bot.content.scoring import item_value, max_value
from bot.db import Sessionmaker
from bot.services import NotFound
from bot.services.exports import exporter_scope, in_thread, record
from bot.services.exports.common import (
    Filters,
    attempt_filter,
    instrument_codes,
    joined,
    utc_text,
)
from bot.services.exports.common import pseudonym as code_of
from bot.services.surveys import compiled
from models import Answer, Attempt, Campaign, Instrument, University, User

SUBMITTED = "submitted"
TOTAL_TITLE = {"kk": "Жалпы, %", "ru": "Итого, %", "en": "Total, %"}
KEY = ("participant", "wave", "university", "country", "group")


@dataclass
class ScaleLine:
    """One scale's pre/post comparison, for the summary message."""

    title: str
    n_pairs: int
    mean_pre: float
    mean_post: float
    p: float
    dz: float


@dataclass
class Outcome:
    """What an analysis wrote and what its summary says."""

    workbook: Path
    charts: list[Path]  # the key chart first
    title: str
    participants: int
    by_wave: dict[str, int]
    pre_wave: str | None
    post_wave: str | None
    pairs: int
    lines: list[ScaleLine] = field(default_factory=list)
    alpha: tuple[float, float] | None = None  # lowest and highest Cronbach's alpha
    notes: list[str] = field(default_factory=list)


@dataclass
class Study:
    """The data of one analysis, with the titles to show."""

    data: Any  # analysis_stats.StudyData
    title: str
    scale_titles: dict[str, str]
    item_titles: dict[str, str]
    choices: pd.DataFrame | None = None  # how often each option was chosen, per wave
    # Ranking questions: one row per participant, wave, item and option with its rank.
    ranks: pd.DataFrame | None = None


def _waves(session: Session, codes: list[str], present: list[str]) -> tuple[str | None, ...]:
    """Which two waves to compare: `pre` and `post` when both are there, else two in order."""
    if "pre" in present and "post" in present:
        return "pre", "post"
    if len(present) != 2:
        return None, None
    first = dict(
        session.execute(  # the earliest opening of each wave's campaigns
            select(Campaign.wave, func.min(Campaign.opens_at))
            .where(Campaign.instrument_code.in_(codes))
            .group_by(Campaign.wave)
        ).all()
    )
    ordered = sorted(present, key=lambda w: (first.get(w) is None, first.get(w), w))
    return ordered[0], ordered[1]


def load(
    session: Session,
    code: str,
    filters: Filters,
    key: str,
    language: str,
    waves: tuple[str | None, str | None] = (None, None),
) -> Study:
    """The study data of instrument `code` (and its partner) under `filters`.

    Raises:
        NotFound: no such instrument.
    """
    codes = instrument_codes(session, code)
    latest = session.scalars(
        select(Instrument).where(Instrument.code.in_(codes)).order_by(Instrument.id.desc())
    ).all()
    if not latest:
        raise NotFound("analysis.no_instrument")
    stmt = joined(
        User.id,
        University.code,
        University.country,
        Campaign.wave,
        Attempt.id,
        Attempt.instrument_id,
        Attempt.result,
        User.group_name,
    ).where(Attempt.state == SUBMITTED)
    scoped = Filters(**{**vars(filters), "instrument": code})
    stmt = attempt_filter(stmt, session, scoped).order_by(Attempt.id)
    chosen: dict[tuple[int, str], tuple[Any, ...]] = {}
    for row in session.execute(stmt):
        chosen[(row[0], row[3])] = tuple(row)  # ordered by id: the latest submitted wins
    packs: dict[int, Compiled] = {i.id: compiled(i) for i in latest}
    own = next(i for i in latest if i.code == code)  # newest version of the asked-for code
    is_test = own.kind == "test"
    # Items and scales of every version of both instruments, the newest wording first.
    items_by_code: dict[str, Item] = {}
    scales_by_code: dict[str, Scale] = {}
    for pack in packs.values():
        for item in pack.items:
            if item.stores_answer:
                items_by_code.setdefault(item.code, item)
        for scale in pack.pack.scales:
            scales_by_code.setdefault(scale.code, scale)
    # Item columns must not take a key column's name (an item may be coded `country`).
    names = {c: (f"q_{c}" if c in KEY or c == "total_percent" else c) for c in items_by_code}
    item_rows: list[dict[str, Any]] = []
    scale_rows: list[dict[str, Any]] = []
    picked: list[tuple[str, str, str]] = []  # (wave, item, option) of choice questions
    respondents: list[tuple[str, str]] = []  # (wave, item) for everyone shown a choice item
    ranked: list[tuple[str, str, str | None, str, str, int]] = []  # ranking answers
    attempts = list(chosen.values())
    for start in range(0, len(attempts), 500):
        batch = attempts[start : start + 500]
        given: dict[int, dict[str, Any]] = {a[4]: {} for a in batch}
        for attempt_id, item_code, value in session.execute(
            select(Answer.attempt_id, Answer.item_code, Answer.value).where(
                Answer.attempt_id.in_(given)
            )
        ):
            given[attempt_id][item_code] = tuple(value) if isinstance(value, list) else value
        for user_id, uni, country, wave, attempt_id, instrument_id, result, group in batch:
            keys = {  # no university or country: left out of group comparisons (None)
                "participant": code_of(key, user_id),
                "wave": wave,
                "university": uni or None,
                "country": country or None,
                "group": group or None,  # as typed; spelled as its group's majority below
            }
            pack = packs.get(instrument_id) or compiled(session.get_one(Instrument, instrument_id))
            applicable = pack.applicable(given[attempt_id])
            values: dict[str, Any] = {}
            for item in pack.items:
                if not item.stores_answer:
                    continue
                value = item_value(item, applicable.get(item.code), is_test)
                if value is None and is_test and item.code in applicable:
                    # A shown test question left unanswered earns nothing, as in the score.
                    value = 0.0 if item.kind in ("single", "multiple") else None
                values[names[item.code]] = math.nan if value is None else value
            item_rows.append(keys | values)
            for item in pack.items:
                chosen_value = applicable.get(item.code)
                if item.kind == "ranking" and chosen_value is not None:
                    order = list(chosen_value)
                    if len(order) == len(item.options):  # complete rankings only
                        ranked += [
                            (keys["participant"], wave, keys["university"], item.code, o, r)
                            for r, o in enumerate(order, 1)
                        ]
                if item.kind in ("single", "multiple") and chosen_value is not None:
                    respondents.append((wave, item.code))
                    options = [chosen_value] if item.kind == "single" else list(chosen_value)
                    picked += [(wave, item.code, option) for option in options]
            stored = (result or {}).get("scales") or {}
            scores = {
                s: (math.nan if (v or {}).get("value") is None else v["value"])
                for s, v in stored.items()
            }
            if is_test and result and result.get("percent") is not None:
                scores["total_percent"] = result["percent"]
            scale_rows.append(keys | scores)
    numeric = [names[c] for c, i in items_by_code.items() if i.kind != "text"]
    items = pd.DataFrame(item_rows, columns=[*KEY, *numeric])
    items = items[[*KEY, *[c for c in numeric if items[c].notna().any()]]]
    scale_codes = list(scales_by_code) + (["total_percent"] if is_test else [])
    scales = pd.DataFrame(scale_rows, columns=[*KEY, *scale_codes])
    from bot.services.analysis_rankings import canonical_groups  # noqa: PLC0415 - scipy

    for frame in (items, scales):
        value = frame.columns[len(KEY) :]
        frame[value] = frame[value].apply(pd.to_numeric, errors="coerce").astype("float64")
        frame["group"] = canonical_groups(frame)
    present = sorted(set(scales["wave"]))
    pre, post = waves if all(waves) else _waves(session, codes, present)
    from bot.services.analysis_stats import StudyData  # noqa: PLC0415 - scipy: on first use

    data = StudyData(
        items=items,
        scales=scales,
        item_scale={
            names[c]: i.scale for c, i in items_by_code.items() if i.scale and names[c] in items
        },
        item_max={
            names[c]: max_value(i)
            for c, i in items_by_code.items()
            if is_test and i.kind in ("single", "multiple") and names[c] in items
        },
        is_test=is_test,
        pre_wave=pre,
        post_wave=post,
    )
    titles = {c: s.title.get(language) for c, s in scales_by_code.items()}
    titles["total_percent"] = TOTAL_TITLE.get(language, TOTAL_TITLE["en"])
    item_titles = {
        names[c]: (f"{i.stem.get(language)} — " if i.stem else "") + i.text.get(language)
        for c, i in items_by_code.items()
    }
    return Study(
        data,
        own.title.get(language) or own.title["en"],
        titles,
        item_titles,
        _choices(picked, respondents, items_by_code, language),
        pd.DataFrame(
            ranked, columns=["participant", "wave", "university", "item", "option", "rank"]
        ),
    )


def _choices(
    picked: list[tuple[str, str, str]],
    respondents: list[tuple[str, str]],
    items: dict[str, Item],
    language: str,
) -> pd.DataFrame:
    """Per wave, choice item and option: how many chose it, and the percent of respondents.

    The percent is of those who answered the item, so for multiple choice they add up to more
    than 100.
    """
    columns = ["wave", "item", "option", "label", "count", "answered", "percent"]
    if not picked:
        return pd.DataFrame(columns=columns)
    counts = pd.DataFrame(picked, columns=["wave", "item", "option"]).value_counts()
    answered = pd.DataFrame(respondents, columns=["wave", "item"]).value_counts()
    table = counts.rename("count").reset_index()
    table["answered"] = [
        answered[(w, i)] for w, i in zip(table["wave"], table["item"], strict=True)
    ]
    table["percent"] = 100 * table["count"] / table["answered"]

    def text(item: str, option: str) -> str:
        found = items[item].option(option) if item in items else None
        return found.text.get(language) if found else option

    table["label"] = [text(i, o) for i, o in zip(table["item"], table["option"], strict=True)]
    order = {code: n for n, code in enumerate(items)}
    table["_order"] = table["item"].map(order)
    return table.sort_values(["wave", "_order", "count"], ascending=[True, True, False])[columns]


def _run(
    session: Session,
    code: str,
    filters: Filters,
    key: str,
    language: str,
    folder: Path,
    waves: tuple[str | None, str | None],
    labels: dict[str, str],
) -> Outcome:
    # scipy, statsmodels and matplotlib load when an analysis first runs, not with the bot.
    from bot.services import analysis_charts as charts  # noqa: PLC0415
    from bot.services import analysis_stats as stats  # noqa: PLC0415

    study = load(session, code, filters, key, language, waves)
    data = study.data
    report = stats.run_all(data)
    _over_time(session, code, data, report)
    if study.choices is not None:
        report.tables["choices"] = study.choices
    if study.ranks is not None and not study.ranks.empty:
        from bot.services.analysis_rankings import ranking_questions  # noqa: PLC0415

        means, distribution, agreement = ranking_questions(study.ranks)
        report.tables["ranking_means"] = means
        report.tables["ranking_distribution"] = distribution
        report.tables["ranking_agreement"] = agreement
        report.notes.append(
            "Ranking questions (complete rankings; 1 = most preferred): the mean rank of each "
            "option (lowest first), how many put it at each place, and Kendall's W across "
            "respondents, for everyone and each university (W = chi2 / (n (k - 1)), chi2 from "
            "scipy's Friedman test; 0 = no agreement, 1 = everyone gave the same order)."
        )
    report.tables["labels"] = pd.DataFrame(
        [("scale", c, t) for c, t in study.scale_titles.items()]
        + [("item", c, t) for c, t in study.item_titles.items()],
        columns=["kind", "code", "text"],
    )
    workbook = folder / f"ortaq-analysis-{code}.xlsx"
    stats.write_workbook(report, workbook)
    paths: list[Path] = []
    prepost = report.tables.get("prepost")
    if prepost is not None and not prepost.empty and prepost["n_pairs"].fillna(0).max() > 0:
        try:
            png = charts.prepost_chart(
                prepost,
                study.scale_titles,
                labels["prepost_title"].format(title=study.title),
                empty_text=labels["empty"],
                pre_label=str(data.pre_wave),
                post_label=str(data.post_wave),
            )
        except ValueError as exc:  # more scales than one readable chart holds
            report.notes.append(f"pre/post chart left out: {exc}")
        else:
            paths.append(folder / "prepost.png")
            paths[-1].write_bytes(png)
    means = report.tables.get("by_university_means")
    if means is not None and not means.empty:
        waves_present = list(dict.fromkeys(means["wave"]))
        wave = data.post_wave if data.post_wave in waves_present else waves_present[-1]
        one = means[means["wave"] == wave]
        if one["group"].nunique() > 1:
            try:
                png = charts.by_group_chart(
                    one,
                    study.scale_titles,
                    labels["by_university_title"].format(title=study.title, wave=wave),
                    empty_text=labels["empty"],
                )
            except ValueError as exc:  # too many universities or scales for one chart
                report.notes.append(f"by-university chart left out: {exc}")
            else:
                paths.append(folder / "by_university.png")
                paths[-1].write_bytes(png)
    paths += _ranking_charts(report.tables, study, labels, folder, report.notes)
    paths += _over_time_chart(report.tables, study, labels, folder, report.notes)
    paths += _swot(session, code, filters, key, language, study.title, report, folder)
    stats.write_workbook(report, workbook)  # again: the SWOT sheets and chart notes
    lines: list[ScaleLine] = []
    if prepost is not None:
        for row in prepost.itertuples():
            if row.n_pairs and not math.isnan(row.mean_pre):
                lines.append(
                    ScaleLine(
                        study.scale_titles.get(str(row.scale), str(row.scale)),
                        int(row.n_pairs),
                        float(row.mean_pre),
                        float(row.mean_post),
                        float(row.p_t),
                        float(row.cohen_dz),
                    )
                )
    alphas = report.tables.get("reliability")
    alpha = None
    if alphas is not None and not alphas.empty and alphas["alpha"].notna().any():
        alpha = (float(alphas["alpha"].min()), float(alphas["alpha"].max()))
    by_wave = {str(w): int(n) for w, n in data.scales["wave"].value_counts().sort_index().items()}
    pairs = max((line.n_pairs for line in lines), default=0)
    return Outcome(
        workbook=workbook,
        charts=paths,
        title=study.title,
        participants=int(data.items["participant"].nunique()),
        by_wave=by_wave,
        pre_wave=data.pre_wave,
        post_wave=data.post_wave,
        pairs=pairs,
        lines=lines,
        alpha=alpha,
        notes=list(report.notes),
    )


def _over_time(session: Session, code: str, data: Any, report: Any) -> None:
    """Scale means per wave, in the order the waves' campaigns opened, by university."""
    from bot.services.analysis_rankings import over_time  # noqa: PLC0415

    first = dict(
        session.execute(
            select(Campaign.wave, func.min(Campaign.opens_at))
            .where(Campaign.instrument_code.in_(instrument_codes(session, code)))
            .group_by(Campaign.wave)
        ).all()
    )
    # Stored as UTC text: Excel keeps no time zone, and the order of ISO texts is time order.
    opened = {wave: utc_text(moment) for wave, moment in first.items()}
    ties = [w for w in (data.pre_wave, data.post_wave) if w is not None]
    report.tables["over_time"] = over_time(data.scales, opened, ties=ties)
    waves = report.tables["over_time"]["wave"].nunique()
    report.notes.append(
        f"Over time: {waves} wave(s) in the order their first campaign opened; each scale's "
        "mean with its 95% t interval, for everyone ('all') and each university."
    )


def _swot_points(session: Session, code: str, filters: Filters, key: str) -> list[Any]:
    """Each point of the latest submitted SWOT answers per participant (swot_matrix.Point)."""
    from bot.services.exports.swot import entries  # noqa: PLC0415
    from bot.services.swot_matrix import QUADRANTS, Point  # noqa: PLC0415

    stmt = joined(User.id, University.code, Attempt.id, Answer.item_code, Answer.value).join(
        Answer, Answer.attempt_id == Attempt.id
    )
    scoped = Filters(**{**vars(filters), "instrument": code})
    stmt = attempt_filter(stmt, session, scoped).where(
        Attempt.state == SUBMITTED, Answer.item_code.in_(QUADRANTS)
    )
    latest: dict[int, int] = {}
    rows = session.execute(stmt.order_by(Attempt.id)).all()
    for user_id, _uni, attempt_id, _item, _value in rows:
        latest[user_id] = attempt_id  # ordered by id: the latest submitted wins
    return [
        Point(item, code_of(key, user_id), uni, point)
        for user_id, uni, attempt_id, item, value in rows
        if latest[user_id] == attempt_id and isinstance(value, str)
        for point in entries(value)
    ]


def _swot(
    session: Session,
    code: str,
    filters: Filters,
    key: str,
    language: str,
    title: str,
    report: Any,
    folder: Path,
) -> list[Path]:
    """The SWOT matrix of a SWOT instrument, for the consortium and per university.

    Sheets for both; the consortium's 2x2 picture is sent, each university's is written beside
    the workbook.
    """
    from bot.services import swot_matrix as sm  # noqa: PLC0415 - matplotlib
    from bot.services.exports.swot import QUADRANTS as HEADINGS  # noqa: PLC0415

    points = _swot_points(session, code, filters, key)
    if not points:
        return []
    whole = sm.matrix(points)
    report.tables["swot_matrix"] = whole
    parts = sm.by_university(points)
    report.tables["swot_matrix_by_university"] = pd.concat(
        [table.assign(university=u) for u, table in parts.items() if not table.empty],
        ignore_index=True,
    )
    report.notes.append(
        "SWOT matrix: each line of an answer is one point; points are grouped by their text "
        "after Unicode NFKC, case folding, ё read as е and everything but letters and digits "
        "removed (no stemming, no translation); a point counts once per participant; the top "
        f"{sm.TOP} per quadrant by participants, with the universities they came from."
    )
    headings = {q: labels.get(language, labels["en"]) for q, labels in HEADINGS.items()}
    picture = folder / "swot_matrix.png"
    picture.write_bytes(sm.matrix_image(whole, f"{title}: SWOT", headings))
    for university, table in parts.items():
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in university)
        (folder / f"swot_matrix_{safe}.png").write_bytes(
            sm.matrix_image(table, f"{title}: SWOT — {university}", headings)
        )
    return [picture]


def _over_time_chart(
    tables: dict[str, pd.DataFrame],
    study: Study,
    labels: dict[str, str],
    folder: Path,
    notes: list[str],
) -> list[Path]:
    """The key scale's mean per wave by university, when there are at least two waves."""
    from bot.services import analysis_rank_charts as charts  # noqa: PLC0415 - matplotlib

    table = tables.get("over_time")
    if table is None or table.empty or table["wave"].nunique() < 2:
        return []
    scales = list(dict.fromkeys(table["scale"]))
    scale = "total_percent" if "total_percent" in scales else scales[0]
    title = labels["over_time_title"].format(title=study.scale_titles.get(scale) or scale)
    try:
        png = charts.over_time_chart(
            table[table["scale"] == scale],
            title,
            all_label=labels["all"],
            empty_text=labels["empty"],
        )
    except ValueError as exc:
        notes.append(f"over-time chart left out: {exc}")
        return []
    path = folder / "over_time.png"
    path.write_bytes(png)
    return [path]


def _key_rows(ranking: pd.DataFrame, post_wave: str | None) -> tuple[pd.DataFrame, str, Any]:
    """The rows of a ranking table on the key scale and wave, with that scale and wave.

    The key scale is a test's total, else the first scale with a mean; the wave is the post
    wave when there is one (what the course led to), else the last wave.
    """
    waves = list(dict.fromkeys(ranking["wave"]))
    wave = post_wave if post_wave in waves else waves[-1]
    scales = list(dict.fromkeys(ranking.loc[ranking["mean"].notna(), "scale"]))
    scale = "total_percent" if "total_percent" in scales else scales[0]
    rows = ranking[(ranking["wave"] == wave) & (ranking["scale"] == scale)]
    return rows, scale, wave


def _ranking_charts(
    tables: dict[str, pd.DataFrame],
    study: Study,
    labels: dict[str, str],
    folder: Path,
    notes: list[str],
) -> list[Path]:
    """The universities' ranking on the key scale (dot plot with CIs) and the groups' profiles.

    Each university's study groups get a dot plot of their own, written beside the workbook
    (not sent in chat: one per university would flood it).
    """
    from bot.services import analysis_rank_charts as charts  # noqa: PLC0415 - matplotlib

    data = study.data
    paths: list[Path] = []
    ranking = tables.get("ranking_university")
    if ranking is not None and not ranking.empty and ranking["mean"].notna().any():
        rows, scale, wave = _key_rows(ranking, data.post_wave)
        if len(rows.dropna(subset=["mean"])) > 1:
            title = labels["ranking_title"].format(
                title=study.scale_titles.get(scale) or scale, wave=wave
            )
            try:
                png = charts.ranking_chart(rows, title, empty_text=labels["empty"])
            except ValueError as exc:
                notes.append(f"ranking chart left out: {exc}")
            else:
                paths.append(folder / "ranking_university.png")
                paths[-1].write_bytes(png)
    _study_group_charts(tables, study, labels, folder, notes)
    groups = tables.get("groups")
    if groups is not None and not groups.empty:
        scales = [c[:-2] for c in groups.columns if c.endswith("_z")]
        try:
            png = charts.profile_chart(
                groups,
                scales,
                study.scale_titles,
                labels["groups_title"].format(title=study.title),
                empty_text=labels["empty"],
            )
        except ValueError as exc:
            notes.append(f"groups chart left out: {exc}")
        else:
            paths.append(folder / "groups.png")
            paths[-1].write_bytes(png)
    return paths


def _study_group_charts(
    tables: dict[str, pd.DataFrame],
    study: Study,
    labels: dict[str, str],
    folder: Path,
    notes: list[str],
) -> list[Path]:
    """Each university's study groups on the key scale, a dot plot beside the workbook.

    Universities with two ranked groups or more; `ranking_study_group_<university>.png`.
    """
    from bot.services import analysis_rank_charts as charts  # noqa: PLC0415 - matplotlib

    ranking = tables.get("ranking_study_group")
    if ranking is None or ranking.empty or not ranking["mean"].notna().any():
        return []
    rows, scale, wave = _key_rows(ranking, study.data.post_wave)
    written: list[Path] = []
    for university, part in rows.dropna(subset=["mean"]).groupby("university", sort=True):
        if len(part) < 2:
            continue
        title = labels["study_group_title"].format(
            title=study.scale_titles.get(scale) or scale, university=university, wave=wave
        )
        try:
            png = charts.ranking_chart(part, title, empty_text=labels["empty"])
        except ValueError as exc:
            notes.append(f"study group chart of {university} left out: {exc}")
            continue
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(university))
        written.append(folder / f"ranking_study_group_{safe}.png")
        written[-1].write_bytes(png)
    return written


CHART_LABELS = {
    "en": {
        "prepost_title": "{title}: before and after",
        "by_university_title": "{title}: by university ({wave})",
        "ranking_title": "{title}: universities ranked, mean with 95% CI ({wave})",
        "study_group_title": "{title}: study groups of {university} ranked, mean with 95% CI "
        "({wave})",
        "groups_title": "{title}: groups of students by profile (standardised means)",
        "over_time_title": "{title}: mean by wave and university",
        "all": "all",
        "empty": "no data yet",
    },
    "ru": {
        "prepost_title": "{title}: до и после",
        "by_university_title": "{title}: по университетам ({wave})",
        "ranking_title": "{title}: рейтинг университетов, среднее и 95% ДИ ({wave})",
        "study_group_title": "{title}: рейтинг учебных групп {university}, среднее и 95% ДИ "
        "({wave})",
        "groups_title": "{title}: группы студентов по профилю (стандартизованные средние)",
        "over_time_title": "{title}: среднее по волнам и университетам",
        "all": "все",
        "empty": "пока нет данных",
    },
    "kk": {
        "prepost_title": "{title}: бұрын және кейін",
        "by_university_title": "{title}: университеттер бойынша ({wave})",
        "ranking_title": "{title}: университеттер рейтингі, орташа және 95% СА ({wave})",
        "study_group_title": "{title}: {university} оқу топтарының рейтингі, орташа және "
        "95% СА ({wave})",
        "groups_title": "{title}: студенттердің бейін бойынша топтары (стандартталған орташа)",
        "over_time_title": "{title}: толқындар мен университеттер бойынша орташа",
        "all": "барлығы",
        "empty": "әзірге дерек жоқ",
    },
}


async def analyse(
    url: str,
    code: str,
    filters: Filters,
    key: str,
    language: str,
    folder: Path,
    waves: tuple[str | None, str | None] = (None, None),
) -> Outcome:
    """Analyse instrument `code` (with its partner) in a worker thread; files go to `folder`."""
    labels = CHART_LABELS.get(language, CHART_LABELS["en"])

    def work(session: Session) -> Outcome:
        return _run(session, code, filters, key, language, folder, waves, labels)

    return await asyncio.to_thread(in_thread, url, work)


async def analyse_for_chat(
    db: Sessionmaker,
    url: str,
    actor_id: int,
    admin_ids: frozenset[int],
    code: str,
    key: str,
    language: str,
    folder: Path,
) -> Outcome:
    """An analysis asked for in chat: organizers scoped to a university see only its data."""
    actor, scope = await exporter_scope(db, actor_id, admin_ids)
    filters = Filters(scope=scope)
    outcome = await analyse(url, code, filters, key, language, folder)
    await record(db, actor, "chat", "analysis", "xlsx", filters, False, outcome.participants)
    return outcome
