"""The analysis workbook's codebook: what each sheet holds and each column means, in kk, ru, en.

The exports explain their columns in a codebook written from the same description as the data
(`bot.services.exports.spec`, labels kept in code in the three languages); the analysis
workbook does the same in its `codebook` sheet: one row per sheet (its title, `column` empty),
then one row per column with its label in Kazakh, Russian and English, in the layout of the
exports' codebook sheet (`label_kk`, `label_ru`, `label_en`).

A column's label is found in this order: the sheet's own meaning of it (`n` is complete cases
in `reliability` but a group's size in `groups`), the columns a sheet has per scale, university
or factor (`groups`' `A` and `A_z`, `groups_by_university`' university codes, `group_moves`'
`after_2`, `efa_loadings`' `F1`), then the meaning shared by every sheet. `label` returns None
for a column nobody described, and the codebook leaves its labels empty: the tests fail on it,
so a new column cannot reach the workbook without its labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

Labels = dict[str, str]  # language -> text

CODEBOOK_COLUMNS = ["sheet", "column", "label_kk", "label_ru", "label_en"]


def _l(en: str, ru: str, kk: str) -> Labels:
    return {"kk": kk, "ru": ru, "en": en}


# --- sheets -------------------------------------------------------------------------------------

SHEETS: dict[str, Labels] = {
    "summary": _l(
        "Summary: the instrument, participants, waves and what was analysed",
        "Сводка: инструмент, участники, волны и что проанализировано",
        "Жиынтық: құрал, қатысушылар, толқындар және не талданғаны",
    ),
    "items": _l(
        "Items: descriptive statistics per wave",
        "Вопросы: описательная статистика по волнам",
        "Сұрақтар: толқындар бойынша сипаттамалық статистика",
    ),
    "scales": _l(
        "Scales: descriptive statistics of the scale scores per wave",
        "Шкалы: описательная статистика баллов по шкалам по волнам",
        "Шкалалар: толқындар бойынша шкала балдарының сипаттамалық статистикасы",
    ),
    "distribution": _l(
        "Distribution of the answers of each item per wave",
        "Распределение ответов на каждый вопрос по волнам",
        "Толқындар бойынша әр сұрақ жауаптарының таралуы",
    ),
    "reliability": _l(
        "Reliability: Cronbach's alpha of each scale with its 95% CI",
        "Надёжность: альфа Кронбаха каждой шкалы с 95% ДИ",
        "Сенімділік: әр шкаланың Кронбах альфасы және 95% СА",
    ),
    "item_total": _l(
        "Corrected item-total correlations and alpha if the item is deleted",
        "Скорректированные корреляции вопрос-шкала и альфа без вопроса",
        "Түзетілген сұрақ-шкала корреляциялары және сұрақ алынғандағы альфа",
    ),
    "item_analysis": _l(
        "Item analysis of a test: difficulty, discrimination, upper-lower index",
        "Анализ заданий теста: трудность, дискриминативность, индекс верхней и нижней групп",
        "Тест тапсырмаларын талдау: қиындық, айырым қабілеті, жоғарғы-төменгі топ индексі",
    ),
    "prepost": _l(
        "Pre/post: paired t-test and Wilcoxon signed-rank test per scale",
        "Pre/post: парный t-критерий и критерий Уилкоксона по каждой шкале",
        "Pre/post: әр шкала бойынша жұптық t-критерий және Уилкоксон критерийі",
    ),
    "by_university_means": _l(
        "Scale means by university per wave",
        "Средние по шкалам по университетам и волнам",
        "Толқындар бойынша университеттердің шкалалар орташасы",
    ),
    "by_university_tests": _l(
        "Universities compared per scale: one-way ANOVA and Kruskal-Wallis",
        "Сравнение университетов по шкалам: однофакторный ANOVA и Краскел-Уоллис",
        "Университеттерді шкалалар бойынша салыстыру: бірфакторлы ANOVA және Краскел-Уоллис",
    ),
    "by_country_means": _l(
        "Scale means by country per wave",
        "Средние по шкалам по странам и волнам",
        "Толқындар бойынша елдердің шкалалар орташасы",
    ),
    "by_country_tests": _l(
        "Countries compared per scale: one-way ANOVA and Kruskal-Wallis",
        "Сравнение стран по шкалам: однофакторный ANOVA и Краскел-Уоллис",
        "Елдерді шкалалар бойынша салыстыру: бірфакторлы ANOVA және Краскел-Уоллис",
    ),
    "correlations": _l(
        "Correlations between scales per wave (Pearson and Spearman)",
        "Корреляции между шкалами по волнам (Пирсон и Спирмен)",
        "Толқындар бойынша шкалалар арасындағы корреляциялар (Пирсон және Спирмен)",
    ),
    "ranking_university": _l(
        "Universities ranked by mean score per wave, with 95% CI, n and rank range",
        "Рейтинг университетов по среднему баллу по волнам, с 95% ДИ, n и диапазоном мест",
        "Толқындар бойынша университеттердің орташа балл рейтингі, 95% СА, n және орындар "
        "аралығымен",
    ),
    "pairwise_university": _l(
        "Every pair of ranked universities compared per wave (Games-Howell)",
        "Попарные сравнения университетов рейтинга по волнам (Геймс-Хауэлл)",
        "Рейтингтегі университеттерді толқындар бойынша жұптап салыстыру (Геймс-Хауэлл)",
    ),
    "ranking_country": _l(
        "Countries ranked by mean score per wave, with 95% CI, n and rank range",
        "Рейтинг стран по среднему баллу по волнам, с 95% ДИ, n и диапазоном мест",
        "Толқындар бойынша елдердің орташа балл рейтингі, 95% СА, n және орындар аралығымен",
    ),
    "pairwise_country": _l(
        "Every pair of ranked countries compared per wave (Games-Howell)",
        "Попарные сравнения стран рейтинга по волнам (Геймс-Хауэлл)",
        "Рейтингтегі елдерді толқындар бойынша жұптап салыстыру (Геймс-Хауэлл)",
    ),
    "ranking_study_group": _l(
        "Study groups ranked within their university by mean score per wave, with 95% CI, n "
        "and rank range",
        "Рейтинг учебных групп внутри университета по среднему баллу по волнам, с 95% ДИ, n "
        "и диапазоном мест",
        "Толқындар бойынша оқу топтарының өз университеті ішіндегі орташа балл рейтингі, "
        "95% СА, n және орындар аралығымен",
    ),
    "pairwise_study_group": _l(
        "Every pair of ranked study groups of a university compared per wave (Games-Howell)",
        "Попарные сравнения учебных групп рейтинга внутри университета по волнам (Геймс-Хауэлл)",
        "Рейтингтегі оқу топтарын университет ішінде толқындар бойынша жұптап салыстыру "
        "(Геймс-Хауэлл)",
    ),
    "groups": _l(
        "Groups of students by competence profile (k-means): size and mean profile",
        "Группы студентов по профилю компетенций (k-средних): размер и средний профиль",
        "Құзыреттілік бейіні бойынша студенттер топтары (k-орташа): саны және орташа бейіні",
    ),
    "groups_silhouette": _l(
        "Mean silhouette of each number of groups tried; the chosen one marked",
        "Средний силуэт для каждого испробованного числа групп; выбранное отмечено",
        "Сыналған әр топ саны үшін орташа силуэт; таңдалғаны белгіленген",
    ),
    "groups_by_university": _l(
        "Students of each profile group by university",
        "Студенты каждой группы профиля по университетам",
        "Әр бейін тобының студенттері университеттер бойынша",
    ),
    "group_moves": _l(
        "Where each profile group of the pre wave stands after the post wave",
        "Где каждая группа профиля pre-волны оказалась после post-волны",
        "Pre толқынының әр бейін тобы post толқынынан кейін қай топқа түсті",
    ),
    "efa": _l(
        "Exploratory factor analysis: KMO, Bartlett's test, eigenvalues, factor correlations",
        "Эксплораторный факторный анализ: KMO, критерий Бартлетта, собственные значения, "
        "корреляции факторов",
        "Зерттеушілік факторлық талдау: KMO, Бартлетт критерийі, меншікті мәндер, "
        "факторлар корреляциясы",
    ),
    "efa_loadings": _l(
        "Factor loadings (pattern matrix), communalities and KMO of each item",
        "Факторные нагрузки (матрица паттернов), общности и KMO каждого вопроса",
        "Факторлық жүктемелер (паттерн матрицасы), әр сұрақтың жалпылығы және KMO",
    ),
    "over_time": _l(
        "Each scale's mean with its 95% CI per wave, for everyone and each university",
        "Среднее каждой шкалы с 95% ДИ по волнам, для всех и для каждого университета",
        "Толқындар бойынша әр шкаланың орташасы және 95% СА, барлығы үшін және әр университет "
        "үшін",
    ),
    "choices": _l(
        "How often each option of a choice question was chosen, per wave",
        "Как часто выбирали каждый вариант вопросов с выбором, по волнам",
        "Таңдау сұрақтарының әр нұсқасы қаншалықты жиі таңдалды, толқындар бойынша",
    ),
    "ranking_means": _l(
        "Ranking questions: the mean rank of each option (1 = most preferred)",
        "Вопросы на ранжирование: средний ранг каждого варианта (1 = самый предпочтительный)",
        "Ранжирлеу сұрақтары: әр нұсқаның орташа рангі (1 = ең қалаулысы)",
    ),
    "ranking_distribution": _l(
        "Ranking questions: how many put each option at each place",
        "Вопросы на ранжирование: сколько человек поставили каждый вариант на каждое место",
        "Ранжирлеу сұрақтары: әр нұсқаны әр орынға неше адам қойды",
    ),
    "ranking_agreement": _l(
        "Ranking questions: agreement among respondents (Kendall's W), for everyone and each "
        "university",
        "Вопросы на ранжирование: согласованность респондентов (W Кендалла), для всех и для "
        "каждого университета",
        "Ранжирлеу сұрақтары: респонденттердің келісімділігі (Кендалл W), барлығы үшін және "
        "әр университет үшін",
    ),
    "swot_matrix": _l(
        "SWOT matrix: the points that recur most per quadrant",
        "SWOT-матрица: наиболее частые пункты в каждом квадранте",
        "SWOT матрицасы: әр квадранттағы ең жиі қайталанатын тармақтар",
    ),
    "swot_matrix_by_university": _l(
        "SWOT matrix of each university",
        "SWOT-матрица каждого университета",
        "Әр университеттің SWOT матрицасы",
    ),
    "labels": _l(
        "Texts of the scales and items in the chosen language",
        "Тексты шкал и вопросов на выбранном языке",
        "Шкалалар мен сұрақтардың таңдалған тілдегі мәтіндері",
    ),
    "notes": _l(
        "Notes: what was computed on which rows, and what was not run and why",
        "Примечания: что посчитано на каких строках, что не выполнено и почему",
        "Ескертпелер: не қай жолдарда есептелді, не орындалмады және неге",
    ),
}
_PER_PARTICIPANT = _l(
    "post - pre per participant",
    "post - pre у каждого участника",
    "әр қатысушының post - pre мәні",
)
SHEETS |= {
    "gain_ranking_university": _l(
        "Universities ranked by mean pre->post gain ({en}), with 95% CI, n and rank range",
        "Рейтинг университетов по среднему приросту pre->post ({ru}), с 95% ДИ, n и "
        "диапазоном мест",
        "Университеттердің pre->post орташа өсім рейтингі ({kk}), 95% СА, n және орындар "
        "аралығымен",
    ),
    "gain_pairwise_university": _l(
        "Every pair of ranked universities compared on the pre->post gain (Games-Howell)",
        "Попарные сравнения университетов рейтинга по приросту pre->post (Геймс-Хауэлл)",
        "Рейтингтегі университеттерді pre->post өсімі бойынша жұптап салыстыру (Геймс-Хауэлл)",
    ),
    "gain_ranking_country": _l(
        "Countries ranked by mean pre->post gain ({en}), with 95% CI, n and rank range",
        "Рейтинг стран по среднему приросту pre->post ({ru}), с 95% ДИ, n и диапазоном мест",
        "Елдердің pre->post орташа өсім рейтингі ({kk}), 95% СА, n және орындар аралығымен",
    ),
    "gain_pairwise_country": _l(
        "Every pair of ranked countries compared on the pre->post gain (Games-Howell)",
        "Попарные сравнения стран рейтинга по приросту pre->post (Геймс-Хауэлл)",
        "Рейтингтегі елдерді pre->post өсімі бойынша жұптап салыстыру (Геймс-Хауэлл)",
    ),
    "gain_ranking_study_group": _l(
        "Study groups ranked within their university by mean pre->post gain ({en}), with 95% "
        "CI, n and rank range",
        "Рейтинг учебных групп внутри университета по среднему приросту pre->post ({ru}), с "
        "95% ДИ, n и диапазоном мест",
        "Оқу топтарының өз университеті ішіндегі pre->post орташа өсім рейтингі ({kk}), 95% СА, "
        "n және орындар аралығымен",
    ),
    "gain_pairwise_study_group": _l(
        "Every pair of ranked study groups of a university compared on the pre->post gain "
        "(Games-Howell)",
        "Попарные сравнения учебных групп рейтинга внутри университета по приросту pre->post "
        "(Геймс-Хауэлл)",
        "Рейтингтегі оқу топтарын университет ішінде pre->post өсімі бойынша жұптап салыстыру "
        "(Геймс-Хауэлл)",
    ),
}
# "{en}", "{ru}", "{kk}" in a title: what a gain is, in that language.
SHEETS = {
    name: {
        lang: text.replace(f"{{{lang}}}", _PER_PARTICIPANT[lang]) for lang, text in title.items()
    }
    for name, title in SHEETS.items()
}


# --- columns every sheet shares -----------------------------------------------------------------

COLUMNS: dict[str, Labels] = {
    "wave": _l("Wave (pre, post, ...)", "Волна (pre, post, ...)", "Толқын (pre, post, ...)"),
    "scale": _l(
        "Scale code (total_percent: a test's total, %; texts in the labels sheet)",
        "Код шкалы (total_percent: итог теста, %; тексты на листе labels)",
        "Шкала коды (total_percent: тесттің жалпы нәтижесі, %; мәтіндері labels парағында)",
    ),
    "item": _l(
        "Item code (texts in the labels sheet)",
        "Код вопроса (тексты на листе labels)",
        "Сұрақ коды (мәтіндері labels парағында)",
    ),
    "variable": _l(
        "Item or scale code",
        "Код вопроса или шкалы",
        "Сұрақ немесе шкала коды",
    ),
    "university": _l("University code", "Код университета", "Университет коды"),
    "n": _l(
        "Number of scores (non-missing values) behind the row",
        "Число баллов (непропущенных значений) в строке",
        "Жолдағы балдар саны (бос емес мәндер)",
    ),
    "mean": _l("Mean", "Среднее", "Орташа мән"),
    "sd": _l(
        "Standard deviation (n - 1)",
        "Стандартное отклонение (n - 1)",
        "Стандартты ауытқу (n - 1)",
    ),
    "median": _l("Median", "Медиана", "Медиана"),
    "min": _l("Minimum", "Минимум", "Ең кіші мән"),
    "max": _l("Maximum", "Максимум", "Ең үлкен мән"),
    "missing": _l(
        "Number of rows without a value",
        "Число строк без значения",
        "Мәні жоқ жолдар саны",
    ),
    "count": _l("Count", "Количество", "Саны"),
    "percent": _l("Percent", "Процент", "Пайыз"),
    "ci_low": _l(
        "Lower bound of the 95% confidence interval of the mean",
        "Нижняя граница 95% доверительного интервала среднего",
        "Орташа мәннің 95% сенімділік аралығының төменгі шегі",
    ),
    "ci_high": _l(
        "Upper bound of the 95% confidence interval of the mean",
        "Верхняя граница 95% доверительного интервала среднего",
        "Орташа мәннің 95% сенімділік аралығының жоғарғы шегі",
    ),
    "note": _l(
        "Why a value was not computed, or what was left out",
        "Почему значение не вычислено или что не учтено",
        "Мән неге есептелмегені немесе не ескерілмегені",
    ),
    "statistic": _l("Statistic", "Показатель", "Көрсеткіш"),
    "value": _l("Value", "Значение", "Мәні"),
    "k": _l("Number of items", "Число вопросов", "Сұрақтар саны"),
    "t": _l("t statistic", "Статистика t", "t статистикасы"),
    "df": _l("Degrees of freedom", "Степени свободы", "Еркіндік дәрежелері"),
    "p": _l("p-value", "p-значение", "p-мәні"),
    "option": _l("Option code", "Код варианта", "Нұсқа коды"),
}


# --- the ranking and pairwise sheets (issue 17) -----------------------------------------------

_RANKED: dict[str, tuple[Labels, Labels, Labels]] = {  # the group, first and second of a pair
    "university": (
        _l("University code", "Код университета", "Университет коды"),
        _l(
            "First university of the pair",
            "Первый университет пары",
            "Жұптың бірінші университеті",
        ),
        _l(
            "Second university of the pair",
            "Второй университет пары",
            "Жұптың екінші университеті",
        ),
    ),
    "country": (
        _l("Country (ISO 3166-1 alpha-2)", "Страна (ISO 3166-1)", "Ел (ISO 3166-1)"),
        _l("First country of the pair", "Первая страна пары", "Жұптың бірінші елі"),
        _l("Second country of the pair", "Вторая страна пары", "Жұптың екінші елі"),
    ),
    "study_group": (
        _l(
            "Study group, as most of its members typed it (ranked within its university)",
            "Учебная группа, как её написало большинство участников (рейтинг внутри университета)",
            "Оқу тобы, қатысушылардың көпшілігі жазғандай (рейтинг университет ішінде)",
        ),
        _l(
            "First study group of the pair",
            "Первая учебная группа пары",
            "Жұптың бірінші оқу тобы",
        ),
        _l(
            "Second study group of the pair",
            "Вторая учебная группа пары",
            "Жұптың екінші оқу тобы",
        ),
    ),
}
_WITHIN = _l(
    "University code (a study group is ranked among its university's groups)",
    "Код университета (учебная группа ранжируется среди групп своего университета)",
    "Университет коды (оқу тобы өз университетінің топтары арасында ранжирленеді)",
)


def _ranking(by: str, gain: bool) -> dict[str, Labels]:
    """The columns of a ranking sheet of `by` (university, country or study_group)."""
    if gain:
        mean = _l(
            "Mean gain (post - pre)", "Средний прирост (post - pre)", "Орташа өсім (post - pre)"
        )
        of = _l("mean gain", "среднего прироста", "орташа өсімнің")
        n = _l(
            "Number of participants with both waves in the group (ranked from 5)",
            "Число участников группы с обеими волнами (в рейтинге с 5)",
            "Топтағы екі толқынға да қатысқандар саны (рейтингке 5-тен бастап кіреді)",
        )
    else:
        mean = _l("Mean score", "Средний балл", "Орташа балл")
        of = _l("mean score", "среднего балла", "орташа балдың")
        n = _l(
            "Number of scores of the group (ranked from 5)",
            "Число баллов группы (в рейтинге с 5)",
            "Топтың балдар саны (рейтингке 5-тен бастап кіреді)",
        )
    return {
        "group": _RANKED[by][0],
        "university": _WITHIN,
        "n": n,
        "mean": mean,
        "ci_low": _l(
            f"Lower bound of the 95% t interval of the {of['en']}",
            f"Нижняя граница 95% t-интервала {of['ru']}",
            f"{of['kk'].capitalize()} 95% t-аралығының төменгі шегі",
        ),
        "ci_high": _l(
            f"Upper bound of the 95% t interval of the {of['en']}",
            f"Верхняя граница 95% t-интервала {of['ru']}",
            f"{of['kk'].capitalize()} 95% t-аралығының жоғарғы шегі",
        ),
        "rank": _l(
            "Rank of the mean, 1 = highest (equal means share a rank: 1, 2, 2, 4)",
            "Место по среднему, 1 = наивысшее (равные средние делят место: 1, 2, 2, 4)",
            "Орташа бойынша орны, 1 = ең жоғары (тең орташалар бір орынды бөліседі: 1, 2, 2, 4)",
        ),
        "rank_best": _l(
            "Best rank the confidence intervals allow",
            "Лучшее место, которое допускают доверительные интервалы",
            "Сенімділік аралықтары мүмкін ететін ең жоғары орын",
        ),
        "rank_worst": _l(
            "Worst rank the confidence intervals allow (overlapping intervals can swap)",
            "Худшее место, которое допускают доверительные интервалы (пересекающиеся интервалы "
            "могут поменяться местами)",
            "Сенімділік аралықтары мүмкін ететін ең төменгі орын (қиылысатын аралықтар орын "
            "ауыстыра алады)",
        ),
        "note": _l(
            "Groups not ranked (fewer than 5 scores; study groups counted, not named)",
            "Группы вне рейтинга (меньше 5 баллов; учебные группы только подсчитаны, без "
            "названий)",
            "Рейтингке кірмеген топтар (5 балдан аз; оқу топтары аталмай, тек саналады)",
        ),
    }


def _pairwise(by: str, gain: bool) -> dict[str, Labels]:
    """The columns of a pairwise sheet of `by`."""
    if gain:
        mean = _l("Mean gain of", "Средний прирост для", "орташа өсімі")
    else:
        mean = _l("Mean score of", "Средний балл для", "орташа балы")
    return {
        "university": _WITHIN,
        "a": _RANKED[by][1],
        "b": _RANKED[by][2],
        "mean_a": _l(f"{mean['en']} a", f"{mean['ru']} a", f"a: {mean['kk']}"),
        "mean_b": _l(f"{mean['en']} b", f"{mean['ru']} b", f"b: {mean['kk']}"),
        "diff": _l(
            "Difference of the means, a - b",
            "Разность средних, a - b",
            "Орташалар айырмасы, a - b",
        ),
        "se": _l(
            "Standard error of the difference",
            "Стандартная ошибка разности",
            "Айырманың стандартты қатесі",
        ),
        "t": _l(
            "Games-Howell t statistic",
            "Статистика t критерия Геймса-Хауэлла",
            "Геймс-Хауэлл критерийінің t статистикасы",
        ),
        "df": _l(
            "Degrees of freedom (Welch)",
            "Степени свободы (по Уэлчу)",
            "Еркіндік дәрежелері (Уэлч бойынша)",
        ),
        "p_adjusted": _l(
            "p-value adjusted for all pairs (Games-Howell, studentized range)",
            "p-значение с поправкой на все пары (Геймс-Хауэлл, стьюдентизированный размах)",
            "Барлық жұпқа түзетілген p-мәні (Геймс-Хауэлл, стьюденттелген құлаш)",
        ),
        "hedges_g": _l(
            "Effect size: Hedges' g (a - b)",
            "Размер эффекта: g Хеджеса (a - b)",
            "Әсер шамасы: Хеджес g (a - b)",
        ),
        "note": _l(
            "Why a university's study groups were not compared in pairs (more than 10 ranked)",
            "Почему учебные группы университета не сравнивались попарно (в рейтинге больше 10)",
            "Университеттің оқу топтары неге жұптап салыстырылмады (рейтингте 10-нан көп)",
        ),
    }


# --- the other sheets' own meanings ---------------------------------------------------------

_CI_ALPHA = {
    "ci_low": _l(
        "Lower bound of the 95% CI of alpha",
        "Нижняя граница 95% ДИ альфы",
        "Альфаның 95% СА төменгі шегі",
    ),
    "ci_high": _l(
        "Upper bound of the 95% CI of alpha",
        "Верхняя граница 95% ДИ альфы",
        "Альфаның 95% СА жоғарғы шегі",
    ),
}
_GROUP_MEANS = {
    "n": _l("Number of scores", "Число баллов", "Балдар саны"),
}
_GROUP_TESTS = {
    "groups": _l(
        "Number of groups tested (those with at least 2 scores)",
        "Число сравниваемых групп (с не менее чем 2 баллами)",
        "Салыстырылған топтар саны (кемінде 2 балы барлар)",
    ),
    "n": _l(
        "Number of scores in the groups tested",
        "Число баллов в сравниваемых группах",
        "Салыстырылған топтардағы балдар саны",
    ),
    "anova_f": _l("ANOVA F statistic", "Статистика F (ANOVA)", "ANOVA F статистикасы"),
    "anova_df1": _l(
        "ANOVA degrees of freedom between groups",
        "Межгрупповые степени свободы (ANOVA)",
        "ANOVA топаралық еркіндік дәрежелері",
    ),
    "anova_df2": _l(
        "ANOVA degrees of freedom within groups",
        "Внутригрупповые степени свободы (ANOVA)",
        "ANOVA топішілік еркіндік дәрежелері",
    ),
    "anova_p": _l("ANOVA p-value", "p-значение ANOVA", "ANOVA p-мәні"),
    "eta_sq": _l(
        "Effect size: eta squared",
        "Размер эффекта: эта-квадрат",
        "Әсер шамасы: эта-квадрат",
    ),
    "kruskal_h": _l(
        "Kruskal-Wallis H statistic",
        "Статистика H Краскела-Уоллиса",
        "Краскел-Уоллис H статистикасы",
    ),
    "kruskal_p": _l(
        "Kruskal-Wallis p-value",
        "p-значение Краскела-Уоллиса",
        "Краскел-Уоллис p-мәні",
    ),
}
_PROFILE_GROUP = _l(
    "Profile group (k-means; 1 = the lowest mean profile)",
    "Группа профиля (k-средних; 1 = самый низкий средний профиль)",
    "Бейін тобы (k-орташа; 1 = ең төмен орташа бейін)",
)
_SWOT = {
    "quadrant": _l(
        "SWOT quadrant: strengths, weaknesses, opportunities, threats",
        "Квадрант SWOT: strengths (сильные стороны), weaknesses (слабые), opportunities "
        "(возможности), threats (угрозы)",
        "SWOT квадранты: strengths (күшті жақтар), weaknesses (әлсіз жақтар), opportunities "
        "(мүмкіндіктер), threats (қатерлер)",
    ),
    "rank": _l(
        "Place of the point in its quadrant, by how many wrote it",
        "Место пункта в квадранте по числу написавших",
        "Тармақтың квадранттағы орны, жазғандар саны бойынша",
    ),
    "point": _l(
        "The point, as it was most often written",
        "Пункт, как его чаще всего писали",
        "Тармақ, ең жиі жазылған түрінде",
    ),
    "count": _l(
        "Participants who wrote the point",
        "Участники, написавшие этот пункт",
        "Осы тармақты жазған қатысушылар",
    ),
    "share": _l(
        "Share of the participants with a point in this quadrant",
        "Доля участников, написавших хоть один пункт в этом квадранте",
        "Осы квадрантқа кемінде бір тармақ жазған қатысушылардағы үлесі",
    ),
    "universities": _l(
        "Universities of those who wrote it, with their counts",
        "Университеты написавших, с числом участников",
        "Жазғандардың университеттері, қатысушылар санымен",
    ),
    "university": _l("University code", "Код университета", "Университет коды"),
}

SHEET_COLUMNS: dict[str, dict[str, Labels]] = {
    "summary": {
        "statistic": _l(
            "What is counted (instrument, participants, rows, waves, ...)",
            "Что подсчитано (инструмент, участники, строки, волны, ...)",
            "Не саналды (құрал, қатысушылар, жолдар, толқындар, ...)",
        ),
    },
    "distribution": {
        "value": _l(
            "Answer value as scored (reverse-scored items reversed)",
            "Значение ответа при подсчёте (обратные вопросы перевёрнуты)",
            "Есептелген жауап мәні (кері сұрақтар аударылған)",
        ),
        "count": _l("Answers with this value", "Ответов с этим значением", "Осы мәнді жауаптар"),
        "percent": _l(
            "Percent of the answers given",
            "Процент от данных ответов",
            "Берілген жауаптардағы пайызы",
        ),
    },
    "reliability": {
        "n": _l(
            "Complete cases (every item of the scale answered)",
            "Полные наблюдения (отвечены все вопросы шкалы)",
            "Толық жағдайлар (шкаланың барлық сұрағына жауап берілген)",
        ),
        "alpha": _l("Cronbach's alpha", "Альфа Кронбаха", "Кронбах альфасы"),
        **_CI_ALPHA,
    },
    "item_total": {
        "n": _l(
            "Complete cases of the scale",
            "Полные наблюдения шкалы",
            "Шкаланың толық жағдайлары",
        ),
        "item_total_r": _l(
            "Corrected item-total correlation (item with the sum of the scale's other items)",
            "Скорректированная корреляция вопрос-шкала (с суммой остальных вопросов шкалы)",
            "Түзетілген сұрақ-шкала корреляциясы (шкаланың қалған сұрақтарының қосындысымен)",
        ),
        "alpha_if_deleted": _l(
            "Cronbach's alpha of the scale without this item",
            "Альфа Кронбаха шкалы без этого вопроса",
            "Осы сұрақсыз шкаланың Кронбах альфасы",
        ),
    },
    "item_analysis": {
        "max_points": _l(
            "Maximum points of the item",
            "Максимум баллов за задание",
            "Тапсырманың ең жоғары балы",
        ),
        "n": _l(
            "Participants with the item",
            "Участники, получившие задание",
            "Тапсырманы алған қатысушылар",
        ),
        "difficulty": _l(
            "Difficulty (facility index): mean points / maximum points, 1 = everyone earned all",
            "Трудность (индекс лёгкости): средний балл / максимум, 1 = все получили всё",
            "Қиындық (жеңілдік индексі): орташа балл / ең жоғары балл, 1 = бәрі толық алды",
        ),
        "n_complete": _l(
            "Participants with every test item",
            "Участники со всеми заданиями теста",
            "Тесттің барлық тапсырмасы бар қатысушылар",
        ),
        "discrimination": _l(
            "Discrimination: corrected point-biserial correlation with the rest of the test",
            "Дискриминативность: скорректированная точечно-бисериальная корреляция с остальным "
            "тестом",
            "Айырым қабілеті: тесттің қалған бөлігімен түзетілген нүктелі-бисериалды корреляция",
        ),
        "upper_lower": _l(
            "Difficulty in the top 27% minus in the bottom 27% (Kelley)",
            "Трудность в верхних 27% минус в нижних 27% (Келли)",
            "Жоғарғы 27%-дағы қиындық минус төменгі 27%-дағы қиындық (Келли)",
        ),
    },
    "prepost": {
        "n_pairs": _l(
            "Participants with a score in both waves",
            "Участники с баллом в обеих волнах",
            "Екі толқында да балы бар қатысушылар",
        ),
        "mean_pre": _l("Mean in the pre wave", "Среднее в pre-волне", "Pre толқынындағы орташа"),
        "mean_post": _l(
            "Mean in the post wave", "Среднее в post-волне", "Post толқынындағы орташа"
        ),
        "mean_diff": _l(
            "Mean difference, post - pre",
            "Средняя разность, post - pre",
            "Орташа айырма, post - pre",
        ),
        "sd_diff": _l(
            "Standard deviation of the differences",
            "Стандартное отклонение разностей",
            "Айырмалардың стандартты ауытқуы",
        ),
        "t": _l("Paired t statistic", "Статистика парного t-критерия", "Жұптық t статистикасы"),
        "p_t": _l(
            "p-value of the paired t-test",
            "p-значение парного t-критерия",
            "Жұптық t-критерийдің p-мәні",
        ),
        "cohen_dz": _l(
            "Effect size: Cohen's dz (mean difference / SD of differences)",
            "Размер эффекта: dz Коэна (средняя разность / SD разностей)",
            "Әсер шамасы: Коэн dz (орташа айырма / айырмалардың SD)",
        ),
        "ci_low": _l(
            "Lower bound of the 95% CI of the mean difference",
            "Нижняя граница 95% ДИ средней разности",
            "Орташа айырманың 95% СА төменгі шегі",
        ),
        "ci_high": _l(
            "Upper bound of the 95% CI of the mean difference",
            "Верхняя граница 95% ДИ средней разности",
            "Орташа айырманың 95% СА жоғарғы шегі",
        ),
        "w": _l(
            "Wilcoxon signed-rank statistic W",
            "Статистика W критерия Уилкоксона",
            "Уилкоксон критерийінің W статистикасы",
        ),
        "p_w": _l(
            "p-value of the Wilcoxon test",
            "p-значение критерия Уилкоксона",
            "Уилкоксон критерийінің p-мәні",
        ),
        "rank_biserial": _l(
            "Effect size: matched-pairs rank-biserial correlation (positive: post > pre)",
            "Размер эффекта: рангово-бисериальная корреляция пар (положительная: post > pre)",
            "Әсер шамасы: жұптардың рангтік-бисериалды корреляциясы (оң: post > pre)",
        ),
    },
    "by_university_means": {"group": _RANKED["university"][0], **_GROUP_MEANS},
    "by_country_means": {"group": _RANKED["country"][0], **_GROUP_MEANS},
    "by_university_tests": _GROUP_TESTS,
    "by_country_tests": _GROUP_TESTS,
    "correlations": {
        "x": _l("First scale", "Первая шкала", "Бірінші шкала"),
        "y": _l("Second scale", "Вторая шкала", "Екінші шкала"),
        "n": _l(
            "Participants with both scores",
            "Участники с обоими баллами",
            "Екі балы да бар қатысушылар",
        ),
        "r": _l("Pearson's r", "r Пирсона", "Пирсон r"),
        "p": _l("p-value of Pearson's r", "p-значение r Пирсона", "Пирсон r-дің p-мәні"),
        "rho": _l("Spearman's rho", "rho Спирмена", "Спирмен rho"),
        "p_rho": _l(
            "p-value of Spearman's rho", "p-значение rho Спирмена", "Спирмен rho-ның p-мәні"
        ),
    },
    "groups": {
        "group": _PROFILE_GROUP,
        "n": _l("Participants in the group", "Участники в группе", "Топтағы қатысушылар"),
        "share": _l(
            "Share of the participants grouped",
            "Доля от сгруппированных участников",
            "Топтастырылған қатысушылардағы үлесі",
        ),
    },
    "groups_silhouette": {
        "k": _l("Number of groups tried", "Испробованное число групп", "Сыналған топ саны"),
        "silhouette": _l(
            "Mean silhouette (-1 to 1, higher: better separated groups)",
            "Средний силуэт (от -1 до 1, выше: группы лучше разделены)",
            "Орташа силуэт (-1-ден 1-ге дейін, жоғары болса топтар жақсы ажыратылған)",
        ),
        "chosen": _l(
            "True for the number of groups chosen",
            "True для выбранного числа групп",
            "Таңдалған топ саны үшін True",
        ),
    },
    "groups_by_university": {"group": _PROFILE_GROUP},
    "group_moves": {
        "group": _l(
            "Profile group in the pre wave",
            "Группа профиля в pre-волне",
            "Pre толқынындағы бейін тобы",
        ),
    },
    "efa": {
        "statistic": _l(
            "Statistic (n, k, kmo, bartlett_chi2, bartlett_df, bartlett_p, n_factors, "
            "eigenvalue_i, factor_corr_Fi_Fj)",
            "Показатель (n, k, kmo, bartlett_chi2, bartlett_df, bartlett_p, n_factors, "
            "eigenvalue_i, factor_corr_Fi_Fj)",
            "Көрсеткіш (n, k, kmo, bartlett_chi2, bartlett_df, bartlett_p, n_factors, "
            "eigenvalue_i, factor_corr_Fi_Fj)",
        ),
    },
    "efa_loadings": {
        "communality": _l("Communality", "Общность", "Жалпылық"),
        "kmo": _l(
            "Kaiser-Meyer-Olkin measure of the item",
            "Мера Кайзера-Мейера-Олкина для вопроса",
            "Сұрақтың Кайзер-Мейер-Олкин өлшемі",
        ),
    },
    "over_time": {
        "opened": _l(
            "When the wave's first campaign opened (UTC)",
            "Когда открылась первая кампания волны (UTC)",
            "Толқынның алғашқы науқаны ашылған уақыт (UTC)",
        ),
        "university": _l(
            "University code, or 'all' for everyone",
            "Код университета или 'all' для всех",
            "Университет коды немесе барлығы үшін 'all'",
        ),
    },
    "choices": {
        "label": _l(
            "Option text in the analysis language",
            "Текст варианта на языке анализа",
            "Талдау тіліндегі нұсқа мәтіні",
        ),
        "count": _l(
            "Participants who chose the option",
            "Участники, выбравшие вариант",
            "Нұсқаны таңдаған қатысушылар",
        ),
        "answered": _l(
            "Participants who answered the question",
            "Участники, ответившие на вопрос",
            "Сұраққа жауап берген қатысушылар",
        ),
        "percent": _l(
            "Percent of those who answered (multiple choice: may add up to more than 100)",
            "Процент от ответивших (множественный выбор: в сумме может быть больше 100)",
            "Жауап бергендердегі пайызы (көп таңдау: қосындысы 100-ден асуы мүмкін)",
        ),
    },
    "ranking_means": {
        "n": _l(
            "Respondents with a complete ranking",
            "Респонденты с полным ранжированием",
            "Толық ранжирлеген респонденттер",
        ),
        "mean_rank": _l(
            "Mean rank (1 = most preferred)",
            "Средний ранг (1 = самый предпочтительный)",
            "Орташа ранг (1 = ең қалаулы)",
        ),
        "sd": _l(
            "Standard deviation of the rank",
            "Стандартное отклонение ранга",
            "Рангтің стандартты ауытқуы",
        ),
        "median_rank": _l("Median rank", "Медианный ранг", "Медианалық ранг"),
    },
    "ranking_distribution": {
        "rank": _l(
            "Place given (1 = most preferred)",
            "Поставленное место (1 = самое предпочтительное)",
            "Берілген орын (1 = ең қалаулы)",
        ),
        "count": _l(
            "Respondents who put the option at this place",
            "Респонденты, поставившие вариант на это место",
            "Нұсқаны осы орынға қойған респонденттер",
        ),
        "percent": _l(
            "Percent of the option's respondents",
            "Процент от респондентов варианта",
            "Нұсқа респонденттеріндегі пайызы",
        ),
    },
    "ranking_agreement": {
        "university": _l(
            "University code, or 'all' for everyone",
            "Код университета или 'all' для всех",
            "Университет коды немесе барлығы үшін 'all'",
        ),
        "n": _l(
            "Respondents with a complete ranking",
            "Респонденты с полным ранжированием",
            "Толық ранжирлеген респонденттер",
        ),
        "k": _l(
            "Number of options ranked", "Число ранжируемых вариантов", "Ранжирленген нұсқалар саны"
        ),
        "kendall_w": _l(
            "Kendall's W: agreement among respondents (0 = none, 1 = the same order)",
            "W Кендалла: согласованность респондентов (0 = нет, 1 = одинаковый порядок)",
            "Кендалл W: респонденттердің келісімділігі (0 = жоқ, 1 = бірдей рет)",
        ),
        "chi2": _l(
            "Friedman chi-squared statistic",
            "Статистика хи-квадрат Фридмана",
            "Фридман хи-квадрат статистикасы",
        ),
        "p": _l(
            "p-value of the Friedman test",
            "p-значение критерия Фридмана",
            "Фридман критерийінің p-мәні",
        ),
    },
    "swot_matrix": _SWOT,
    "swot_matrix_by_university": _SWOT,
    "labels": {
        "kind": _l(
            "scale or item", "scale (шкала) или item (вопрос)", "scale (шкала) немесе item (сұрақ)"
        ),
        "code": _l("Scale or item code", "Код шкалы или вопроса", "Шкала немесе сұрақ коды"),
        "text": _l(
            "Its text in the analysis language",
            "Его текст на языке анализа",
            "Оның талдау тіліндегі мәтіні",
        ),
    },
    "notes": {"note": _l("A note", "Примечание", "Ескертпе")},
}
for _by in ("university", "country", "study_group"):
    for _gain in (False, True):
        _prefix = "gain_" if _gain else ""
        SHEET_COLUMNS[f"{_prefix}ranking_{_by}"] = _ranking(_by, _gain)
        SHEET_COLUMNS[f"{_prefix}pairwise_{_by}"] = _pairwise(_by, _gain)


# --- columns named after a scale, a university or a factor ----------------------------------


def _profile_column(column: str) -> Labels:
    if column.endswith("_z"):
        scale = column[:-2]
        return _l(
            f"Mean standardised score (z) on scale {scale}",
            f"Средний стандартизованный балл (z) по шкале {scale}",
            f"{scale} шкаласы бойынша орташа стандартталған балл (z)",
        )
    return _l(
        f"Mean score on scale {column}",
        f"Средний балл по шкале {column}",
        f"{column} шкаласы бойынша орташа балл",
    )


def _university_column(column: str) -> Labels:
    if column == "—":
        return _l(
            "Students of the group without a university",
            "Студенты группы без университета",
            "Топтың университеті жоқ студенттері",
        )
    return _l(
        f"Students of the group at university {column}",
        f"Студенты группы из университета {column}",
        f"Топтың {column} университетіндегі студенттері",
    )


def _move_column(column: str) -> Labels | None:
    found = re.fullmatch(r"after_(\d+)", column)
    if found is None:
        return None
    group = found.group(1)
    return _l(
        f"Participants placed in group {group} by their post-wave scores",
        f"Участники, отнесённые к группе {group} по баллам post-волны",
        f"Post толқынының балдары бойынша {group}-топқа жатқызылған қатысушылар",
    )


def _factor_column(column: str) -> Labels | None:
    found = re.fullmatch(r"F(\d+)", column)
    if found is None:
        return None
    factor = found.group(1)
    return _l(
        f"Loading on factor {factor}",
        f"Нагрузка на фактор {factor}",
        f"{factor}-факторға жүктеме",
    )


DYNAMIC: dict[str, Callable[[str], Labels | None]] = {
    "groups": _profile_column,
    "groups_by_university": _university_column,
    "group_moves": _move_column,
    "efa_loadings": _factor_column,
}


def label(sheet: str, column: str) -> Labels | None:
    """The labels of `column` of `sheet` in kk, ru and en (None: nobody described it)."""
    own = SHEET_COLUMNS.get(sheet, {}).get(column)
    if own is not None:
        return own
    dynamic = DYNAMIC.get(sheet)
    found = dynamic(column) if dynamic is not None else None
    return found if found is not None else COLUMNS.get(column)


def codebook(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The codebook sheet of `tables` (and the notes sheet): one row per sheet, then its columns.

    A sheet's row has its title and an empty `column`; a column nobody described has empty
    labels (`missing_labels` lists them).
    """
    rows: list[list[str]] = []
    sheets = [
        *((name, list(table.columns)) for name, table in tables.items()),
        ("notes", ["note"]),
    ]
    for name, columns in sheets:
        title = SHEETS.get(name, {})
        rows.append([name, "", *(title.get(language, "") for language in ("kk", "ru", "en"))])
        for column in columns:
            labels = label(name, str(column)) or {}
            rows.append(
                [name, str(column), *(labels.get(language, "") for language in ("kk", "ru", "en"))]
            )
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def missing_labels(tables: Mapping[str, pd.DataFrame]) -> list[tuple[str, str]]:
    """The (sheet, column) pairs of `tables` without a label in each of kk, ru and en."""
    book = codebook(tables)
    empty = (book[["label_kk", "label_ru", "label_en"]] == "").any(axis=1)
    return list(zip(book.loc[empty, "sheet"], book.loc[empty, "column"], strict=True))
