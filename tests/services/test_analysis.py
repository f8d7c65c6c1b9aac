"""The analysis of a pre/post pair, from the database: generated answers with known effects.

Seeds the default `dlt_pre`/`dlt_post` pair with students at three universities in two
countries: post answers are pre answers plus one point on the first scale (capped at 5), and
one university answers higher than the others. Every figure the service reports is compared
with the same statistic computed here, directly with pandas and scipy, from the generated
values. Tried as well: too few participants for factor analysis (said, not run), an organizer
scoped to one university, and a student being refused.
"""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats
from sqlalchemy import select

from bot.services import PermissionDenied, analysis, exports, invites, users
from bot.services.exports import Filters
from bot.services.roles import Role
from bot.services.universities import list_universities
from models import ExportLog
from tests.services.test_analysis_codebook import assert_labelled
from tests.study import seed_prepost

ADMINS = frozenset({1})
KEY = "analysis-test-key"


def _scale_scores(generated: pd.DataFrame) -> pd.DataFrame:
    """Each student's scale means per wave, computed here without the bot (unrounded)."""
    means = generated.groupby(["n", "wave", "university", "scale"])["value"].mean()
    return means.unstack()


async def test_a_pre_post_analysis_matches_scipy_and_pandas(db, settings, tmp_path):
    generated = await seed_prepost(db, 90)
    outcome = await analysis.analyse(
        settings.database_url, "dlt_pre", Filters(), KEY, "ru", tmp_path
    )
    assert outcome.participants == 90 and outcome.by_wave == {"post": 90, "pre": 90}
    assert (outcome.pre_wave, outcome.post_wave) == ("pre", "post") and outcome.pairs == 90
    sheets = pd.read_excel(outcome.workbook, sheet_name=None)
    scores = _scale_scores(generated)
    pre = scores.xs("pre", level="wave").droplevel("university")
    post = scores.xs("post", level="wave").droplevel("university")
    first = generated["scale"].iloc[0]
    # Pre/post: the paired t-test and Wilcoxon of every scale, as scipy computes them.
    table = sheets["prepost"].set_index("scale")
    for scale in scores.columns:
        expected = stats.ttest_rel(post[scale], pre[scale])
        row = table.loc[scale]
        assert row["n_pairs"] == 90
        assert row["mean_pre"] == pytest.approx(pre[scale].mean())
        assert row["mean_post"] == pytest.approx(post[scale].mean())
        if scale != first:  # no change at all: the tests cannot run, and the note says so
            assert pd.isna(row["t"]) and isinstance(row["note"], str)
            continue
        assert row["t"] == pytest.approx(expected.statistic)
        assert row["p_t"] == pytest.approx(expected.pvalue)
        diff = post[scale] - pre[scale]
        assert row["cohen_dz"] == pytest.approx(diff.mean() / diff.std(ddof=1))
        assert row["w"] == pytest.approx(stats.wilcoxon(post[scale], pre[scale]).statistic)
    assert table.loc[first, "mean_post"] > table.loc[first, "mean_pre"]
    assert table.loc[first, "p_t"] < 0.001
    # Reliability: Cronbach's alpha of the first scale in the pre wave, from its definition.
    items = generated[(generated["wave"] == "pre") & (generated["scale"] == first)].pivot(
        index="n", columns="item", values="value"
    )
    k = items.shape[1]
    alpha = k / (k - 1) * (1 - items.var(ddof=1).sum() / items.sum(axis=1).var(ddof=1))
    reliability = sheets["reliability"].set_index("scale")
    assert reliability.loc[first, "alpha"] == pytest.approx(alpha)
    # Universities: ANOVA and Kruskal-Wallis per scale in the pre wave.
    tests = sheets["by_university_tests"]
    row = tests[(tests["wave"] == "pre") & (tests["scale"] == first)].iloc[0]
    by_uni = scores.xs("pre", level="wave")[first].groupby(level="university")
    groups = [g.to_numpy() for _, g in by_uni]
    assert row["anova_f"] == pytest.approx(stats.f_oneway(*groups).statistic)
    assert row["kruskal_h"] == pytest.approx(stats.kruskal(*groups).statistic)
    assert row["anova_p"] < 0.001  # one university answers a point higher
    # Correlations between scales, and EFA (90 complete cases: too few for 27 items).
    corr = sheets["correlations"]
    scales = list(scores.columns)
    pair = corr["x"].isin(scales[:2]) & corr["y"].isin(scales[:2])
    row = corr[(corr["wave"] == "pre") & pair]
    assert row["r"].iloc[0] == pytest.approx(pre[scales[0]].corr(pre[scales[1]]))
    assert any("not run" in note for note in outcome.notes + list(sheets["notes"].iloc[:, 0]))
    # Charts, the labels sheet in the chosen language, and the summary lines.
    assert [p.name for p in outcome.charts] == [
        "prepost.png",
        "by_university.png",
        "ranking_university.png",
        "groups.png",
        "over_time.png",
    ]
    assert {"ranking_university", "gain_ranking_university", "groups", "group_moves"} <= set(
        sheets
    )
    # Over time: the pre wave's campaign opened first; everyone's mean is the scale's mean.
    over = sheets["over_time"]
    assert list(dict.fromkeys(over["wave"])) == ["pre", "post"]
    everyone = over[(over["university"] == "all") & (over["wave"] == "pre")].set_index("scale")
    first_scale = scores.columns[0]
    assert everyone.loc[first_scale, "mean"] == pytest.approx(pre[first_scale].mean())
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in outcome.charts)
    assert "labels" in sheets and sheets["labels"]["text"].str.contains("[а-я]").any()
    line = next(x for x in outcome.lines if x.p < 0.001)
    assert line.mean_post > line.mean_pre and line.n_pairs == 90
    assert load_workbook(outcome.workbook, read_only=True).sheetnames[0] == "summary"


async def test_choice_questions_get_their_distribution(db, settings, tmp_path):
    from tests.study import seed_test

    seeded = await seed_test(db, 40)
    outcome = await analysis.analyse(
        settings.database_url, "digital_competence_test", Filters(), KEY, "ru", tmp_path
    )
    choices = pd.read_excel(outcome.workbook, sheet_name="choices")
    expected = seeded.explode("chosen").dropna().value_counts(["item", "chosen"])
    got = choices.set_index(["item", "option"])["count"]
    assert got.to_dict() == {key: int(n) for key, n in expected.items()}
    assert set(choices["item"]) and (choices["answered"] == 40).all()
    singles = choices.groupby("item")["count"].sum()
    per_item = choices.groupby("item")["percent"].sum()
    # Every student answered every single-choice question once: counts add up to 40.
    single = [i for i in singles.index if per_item[i] == pytest.approx(100)]
    assert single and all(singles[i] == 40 for i in single)
    assert choices["label"].str.contains("[а-яА-Я]").any()
    assert_labelled(pd.read_excel(outcome.workbook, sheet_name=None, keep_default_na=False))


async def test_analysis_in_chat_is_scoped_audited_and_refused_to_students(db, settings, tmp_path):
    await seed_prepost(db, 30)
    unis = await list_universities(db)
    link = await invites.create_invite(db, 1, ADMINS, Role.ORGANIZER, unis[0].id, 1)
    await users.seen(
        db, 77, first_name="Org", username=None, telegram_language=None, admin_ids=ADMINS
    )
    await invites.redeem(db, 77, link.payload)
    url = exports.url_of(db)
    outcome = await analysis.analyse_for_chat(db, url, 77, ADMINS, "dlt_post", KEY, "en", tmp_path)
    assert outcome.participants == 10  # their university's students only
    # One university: no comparison and no ranking; the groups still form.
    assert [p.name for p in outcome.charts] == ["prepost.png", "groups.png", "over_time.png"]
    async with db() as session:
        (log,) = (await session.scalars(select(ExportLog))).all()
    assert (log.dataset, log.filters["scope"]) == ("analysis", [unis[0].code])
    await users.seen(
        db, 78, first_name="Student", username=None, telegram_language=None, admin_ids=ADMINS
    )
    with pytest.raises(PermissionDenied):
        await analysis.analyse_for_chat(db, url, 78, ADMINS, "dlt_pre", KEY, "en", tmp_path)


async def test_an_instrument_without_answers_says_so(db, settings, tmp_path):
    await users.seen(
        db, 1, first_name="Admin", username=None, telegram_language=None, admin_ids=ADMINS
    )
    outcome = await analysis.analyse(
        settings.database_url, "digital_competence_test", Filters(), KEY, "kk", tmp_path
    )
    assert outcome.participants == 0 and outcome.charts == [] and outcome.lines == []
    assert outcome.workbook.exists()


async def test_a_test_gets_difficulty_and_discrimination(db, settings, tmp_path):
    from tests.study import seed_test

    earned = await seed_test(db, 60)
    outcome = await analysis.analyse(
        settings.database_url, "digital_competence_test", Filters(), KEY, "en", tmp_path
    )
    assert outcome.participants == 60 and outcome.pre_wave is None
    table = pd.read_excel(outcome.workbook, sheet_name="item_analysis").set_index("item")
    points = earned.pivot(index="n", columns="item", values="points")
    maximum = earned.groupby("item")["max"].first()
    for item in points.columns:
        assert table.loc[item, "difficulty"] == pytest.approx(points[item].mean() / maximum[item])
        rest = points.drop(columns=item).sum(axis=1)
        if points[item].nunique() > 1:
            expected = stats.pearsonr(points[item], rest).statistic
            assert table.loc[item, "discrimination"] == pytest.approx(expected)
    assert outcome.charts == [] or all(p.exists() for p in outcome.charts)


async def test_the_paired_t_runs_on_unrounded_scale_scores(db, settings, tmp_path):
    """The analysis's paired t and mean difference equal scipy's on the true means at 1e-9.

    Tried: scale means of three items (thirds) were stored rounded to 4 decimals, and the
    analysis read them back: on this data t came out as 49.700590 instead of 49.700620 (the
    issue saw 4.391634 for 4.391550, and a mean difference of exactly 1 as 0.999983).
    """
    generated = await seed_prepost(db, 90)
    outcome = await analysis.analyse(
        settings.database_url, "dlt_pre", Filters(), KEY, "en", tmp_path
    )
    table = pd.read_excel(outcome.workbook, sheet_name="prepost").set_index("scale")
    scores = _scale_scores(generated)
    pre = scores.xs("pre", level="wave").droplevel("university")
    post = scores.xs("post", level="wave").droplevel("university")
    first = generated["scale"].iloc[0]
    expected = stats.ttest_rel(post[first], pre[first])
    assert table.loc[first, "t"] == pytest.approx(expected.statistic, rel=1e-9)
    assert table.loc[first, "p_t"] == pytest.approx(expected.pvalue, rel=1e-9)
    diff = post[first] - pre[first]
    assert table.loc[first, "mean_diff"] == pytest.approx(diff.mean(), rel=1e-9)
    assert table.loc[first, "sd_diff"] == pytest.approx(diff.std(ddof=1), rel=1e-9)
    # A scale nobody changed: every difference is exactly zero, not a rounding residue.
    other = scores.columns[-1]
    assert table.loc[other, "mean_diff"] == 0 and table.loc[other, "sd_diff"] == 0


def _typed_group(n: int) -> str:
    """Student n's study group as typed: in each university half "ПИ-21" (a quarter of them
    typed " пи-21 "), half "ИЯ-11"; student 0 typed a name instead of a group."""
    if n == 0:
        return "Айгерім Серікқызы"
    place = n // 3  # the student's place within their university (n % 3 picks it)
    if place % 2:
        return "ИЯ-11"
    return " пи-21 " if place % 4 == 2 else "ПИ-21"


async def test_study_groups_are_ranked_in_the_workbook_as_scipy_computes(db, settings, tmp_path):
    """Tried: 90 students at three universities, two study groups each typed in two spellings,
    one student who typed their name: the ranking sheets (per wave and by gain) hold each
    university's two groups under the majority spelling, with scipy's mean and t interval of
    the students' scale scores; the one-person "group" appears nowhere in the workbook; a dot
    plot per university is written beside it (not sent: the chart list is unchanged)."""
    generated = await seed_prepost(db, 90, groups=_typed_group)
    outcome = await analysis.analyse(
        settings.database_url, "dlt_pre", Filters(), KEY, "en", tmp_path
    )
    sheets = pd.read_excel(outcome.workbook, sheet_name=None)
    scores = _scale_scores(generated).reset_index()
    scores["group"] = scores["n"].map(lambda n: _typed_group(n).strip().upper())
    first = generated["scale"].iloc[0]
    ranking = sheets["ranking_study_group"].dropna(subset=["mean"])
    assert set(ranking["group"]) == {"ПИ-21", "ИЯ-11"}
    scales = generated["scale"].nunique()
    assert len(ranking) == 2 * 3 * 2 * scales  # groups x universities x waves x scales
    for row in ranking[ranking["scale"] == first].itertuples():
        part = scores[
            (scores["wave"] == row.wave)
            & (scores["university"] == row.university)
            & (scores["group"] == row.group)
        ][first].to_numpy()
        low, high = stats.t.interval(0.95, len(part) - 1, loc=part.mean(), scale=stats.sem(part))
        assert row.n == len(part) and row.mean == pytest.approx(part.mean())
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
    gains = sheets["gain_ranking_study_group"].dropna(subset=["mean"])
    assert len(gains[gains["scale"] == first]) == 6
    everything = pd.concat(sheets.values()).astype(str)
    assert not everything.apply(lambda c: c.str.contains("Серікқызы")).any().any()
    assert not everything.apply(lambda c: c.str.contains("пи-21")).any().any()
    assert "pairwise_study_group" in sheets and not sheets["pairwise_study_group"].empty
    beside = sorted(p.name for p in tmp_path.glob("ranking_study_group_*.png"))
    assert len(beside) == 3 and all((tmp_path / name).stat().st_size for name in beside)
    assert "ranking_study_group" not in " ".join(p.name for p in outcome.charts)
    # Every sheet and column of this workbook is in its codebook, labelled in kk, ru and en.
    assert_labelled(pd.read_excel(outcome.workbook, sheet_name=None, keep_default_na=False))
