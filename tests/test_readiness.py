"""The readiness question bank, the scorecard (sections, bands, levels, gaps) and answer files."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from prodready import readiness
from prodready.errors import DataError, ParameterError
from prodready.readiness.bank import Bank, load_bank
from prodready.readiness.scoring import BANDS, GOOGLE_LEVELS, MICROSOFT_LEVELS

ML = ("data", "model", "infrastructure", "monitoring")
PREFIX = {"data": "data", "model": "model", "infrastructure": "infra", "monitoring": "monitor"}


def section_answers(section: str, total: float) -> dict[str, float]:
    """Answers whose sum in ``section`` is ``total``: ones first, then one 0.5."""
    answers, left = {}, total
    for number in range(1, 8):
        step = 1.0 if left >= 1 else 0.5 if left >= 0.5 else 0.0
        if step:
            answers[f"{PREFIX[section]}_{number}"] = step
            left -= step
    assert left == 0
    return answers


def ml_answers(**totals: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for section, total in totals.items():
        out.update(section_answers(section, total))
    return out


# ----------------------------------------------------------------------------- the bank
def test_questions_frame_has_the_contract_columns_and_order():
    q = readiness.questions()
    assert list(q.columns[:5]) == ["id", "section", "text", "why", "evidence"]
    assert len(q) == 36 and q["id"].is_unique
    assert list(q["id"][:8]) == [
        "org_owner",
        "org_success",
        "org_pilot",
        "org_human_review",
        "org_retraining",
        "org_business_kpis",
        "org_shadow_canary",
        "org_rollback",
    ]
    assert list(q["section"].drop_duplicates()) == list(readiness.SECTIONS)
    assert q.groupby("section").size().to_dict() == {
        "organisation": 8,
        "data": 7,
        "model": 7,
        "infrastructure": 7,
        "monitoring": 7,
    }
    for section in ML:
        ids = q.loc[q["section"] == section, "id"].tolist()
        assert ids == [f"{PREFIX[section]}_{n}" for n in range(1, 8)]
    assert readiness.ML_TEST_SECTIONS == ML
    assert readiness.BANK_VERSION == 1


def test_questions_use_the_papers_wording_and_say_what_counts_as_evidence():
    q = readiness.questions().set_index("id")
    assert q.loc["data_1", "text"] == "Feature expectations are captured in a schema."
    assert q.loc["data_1", "paper_id"] == "Data 1"
    assert q.loc["model_4", "text"] == "The impact of model staleness is known."
    assert q.loc["infra_6", "text"] == "Models are canaried before serving."
    assert q.loc["monitor_2", "text"] == "Data invariants hold for inputs (training and serving)."
    assert q.loc["monitor_7", "text"] == "Prediction quality has not regressed."
    assert "canary stage" in q.loc["infra_6", "evidence"]
    assert "rollout replay" in q.loc["infra_6", "evidence"]
    assert "success theater" in q.loc["org_success", "why"]
    assert "pilot trap" in q.loc["org_pilot", "why"]
    assert not q["why"].str.contains("\n").any()
    assert (q["evidence"].str.len() > 40).all()


def test_questions_are_a_fresh_copy_each_call():
    first = readiness.questions()
    first.loc[0, "text"] = "changed"
    assert readiness.questions().loc[0, "text"] != "changed"
    assert load_bank() is load_bank()  # read once per process


def test_bank_validation_refuses_duplicates_and_wrong_section_sizes():
    raw = load_bank().model_dump()
    twice = {**raw, "questions": [*raw["questions"], raw["questions"][0]]}
    with pytest.raises(ValidationError, match="repeated: org_owner"):
        Bank.model_validate(twice)
    short = {**raw, "questions": [q for q in raw["questions"] if q["id"] != "data_7"]}
    with pytest.raises(ValidationError, match="section 'data' needs the paper's 7 tests, has 6"):
        Bank.model_validate(short)
    odd = {**raw, "questions": [{**raw["questions"][0], "section": "people"}]}
    with pytest.raises(ValidationError):
        Bank.model_validate(odd)


# ----------------------------------------------------------------------------- sections and bands
@pytest.mark.parametrize(
    ("total", "band_index"),
    [(0, 0), (0.5, 1), (1, 1), (1.5, 2), (2, 2), (2.5, 3), (3, 3), (3.5, 4), (5, 4), (5.5, 5)],
)
def test_band_edges(total, band_index):
    card = readiness.score(ml_answers(**{s: total for s in ML}))
    assert card.ml_test_score == total
    assert card.band == BANDS[band_index][1]


def test_the_top_and_bottom_of_the_scale():
    assert readiness.score({}).band == "More of a research project than a productionized system."
    perfect = readiness.score(ml_answers(**{s: 7 for s in ML}))
    assert perfect.ml_test_score == 7
    assert perfect.band == "Exceptional levels of automated testing and monitoring."
    assert perfect.sections == {
        "organisation": 0,
        "data": 7,
        "model": 7,
        "infrastructure": 7,
        "monitoring": 7,
    }
    assert perfect.maximum == {
        "organisation": 8,
        "data": 7,
        "model": 7,
        "infrastructure": 7,
        "monitoring": 7,
    }


def test_the_final_score_is_the_minimum_over_the_four_sections():
    answers = {**ml_answers(data=3, model=2, infrastructure=2, monitoring=4.5), "org_owner": 1}
    card = readiness.score(answers)
    assert card.sections == {
        "organisation": 1.0,
        "data": 3.0,
        "model": 2.0,
        "infrastructure": 2.0,
        "monitoring": 4.5,
    }
    assert card.ml_test_score == 2.0
    assert card.weakest == "model"  # tie with infrastructure: first in order
    assert card.band.startswith("There's been first pass at basic productionization")
    # organisation does not count toward the ML Test Score, even when it is the lowest
    assert readiness.score(ml_answers(**{s: 6 for s in ML})).ml_test_score == 6


def test_unanswered_questions_count_as_zero_and_are_reported():
    card = readiness.score({"data_1": 1, "data_2": 0, "org_owner": 0.5})
    assert (card.answered, card.total) == (3, 36)
    assert card.sections["data"] == 1.0 and card.sections["organisation"] == 0.5
    assert len(card.unanswered) == 33 and card.unanswered[0] == "org_success"
    frame = card.to_frame()
    assert list(frame.columns) == ["id", "section", "text", "score"]
    assert frame.set_index("id").loc["data_2", "score"] == 0
    assert math.isnan(frame.set_index("id").loc["data_3", "score"])
    gaps = card.gaps.set_index("id")
    assert not gaps.loc["data_3", "answered"] and gaps.loc["data_3", "score"] == 0
    assert gaps.loc["data_2", "answered"]
    assert "data_1" not in gaps.index  # scored 1: no gap
    assert len(card.gaps) == 35
    texts = [f.text for f in card.summary()]
    assert "33 of 36 questions are unanswered and count as 0: org_success" in texts[-1]


def test_gaps_weakest_section_first_then_score_then_bank_order():
    answers = {
        **ml_answers(data=6.5, model=3, infrastructure=5, monitoring=2),
        **{qid: 1.0 for qid in readiness.questions()["id"][:6]},  # organisation 6 of 8 -> 5.25
    }
    answers["monitor_2"] = 0.5  # monitoring: 1 + 0.5 + 0.5 = 2
    answers["monitor_3"] = 0.5
    card = readiness.score(answers)
    assert card.sections["monitoring"] == 2.0 and card.sections["organisation"] == 6.0
    gaps = card.gaps
    assert list(gaps.columns) == ["id", "section", "text", "why", "score", "answered"]
    # monitoring (2), model (3), infrastructure (5), organisation (6/8*7 = 5.25), data (6.5)
    assert list(gaps["section"].drop_duplicates()) == [
        "monitoring",
        "model",
        "infrastructure",
        "organisation",
        "data",
    ]
    assert list(gaps["id"][:7]) == [
        "monitor_4",
        "monitor_5",
        "monitor_6",
        "monitor_7",
        "monitor_2",
        "monitor_3",
        "model_4",
    ]
    assert gaps["score"].tolist()[:6] == [0, 0, 0, 0, 0.5, 0.5]
    assert gaps["id"].tolist()[-3:] == ["org_shadow_canary", "org_rollback", "data_7"]


# ----------------------------------------------------------------------------- levels
def needs(levels, upto: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for _level, _name, required in levels[1 : upto + 1]:
        out.update(required)
    return out


def test_levels_start_at_zero_and_say_what_the_next_level_needs():
    card = readiness.score({"infra_1": 1, "monitor_4": 0.5})
    assert card.level == {"google": 0, "microsoft": 0}
    google = card.level_reasons["google"]
    assert google.startswith("Google MLOps level 0 (manual process): the starting point;")
    first_need = "Schema (data_1) at 1 (now unanswered)"
    assert f"level 1 (ML pipeline automation) also needs {first_need}" in google
    assert "infra_1" not in google and "monitor_4" not in google  # met: not listed
    assert "Retraining owned (org_retraining) at 1 (now unanswered)" in google


def test_google_levels_are_cumulative():
    level_1 = needs(GOOGLE_LEVELS, 1)
    assert readiness.score(level_1).level["google"] == 1
    level_2 = needs(GOOGLE_LEVELS, 2)
    assert readiness.score(level_2).level["google"] == 2
    assert (
        "every question of every level is met" in readiness.score(level_2).level_reasons["google"]
    )
    # level 2's own questions without level 1's: still level 0
    only_2 = dict(GOOGLE_LEVELS[2][2])
    assert readiness.score(only_2).level["google"] == 0
    # a 0.5 where 1 is needed fails; 0.5 suffices where 0.5 is needed
    assert readiness.score({**level_1, "infra_4": 0.5}).level["google"] == 0
    almost = readiness.score({**level_2, "infra_6": 0.5})
    assert almost.level["google"] == 1
    assert (
        "level 2 (CI/CD pipeline automation) also needs Canaried (infra_6) at 1 (now 0.5)"
        in (almost.level_reasons["google"])
    )
    assert level_1["monitor_4"] == 0.5


@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_microsoft_levels_by_the_written_rule(level):
    answers = needs(MICROSOFT_LEVELS, level)
    card = readiness.score(answers)
    assert card.level["microsoft"] == level
    if level < 4:
        following = MICROSOFT_LEVELS[level + 1]
        assert f"level {level + 1} ({following[1]}) also needs" in card.level_reasons["microsoft"]


def test_everything_automated_reaches_the_top_of_both_scales():
    card = readiness.score({qid: 1 for qid in readiness.questions()["id"]})
    assert card.level == {"google": 2, "microsoft": 4}
    assert card.gaps.empty and card.ml_test_score == 7
    assert card.sections["organisation"] == 8


# ----------------------------------------------------------------------------- validation
def test_scores_accept_numbers_and_numeric_strings():
    card = readiness.score({"data_1": "0.5", "data_2": 1.0, "data_3": np.float64(1), "data_4": 0})
    assert card.answers == {"data_1": 0.5, "data_2": 1.0, "data_3": 1.0, "data_4": 0.0}
    assert card.sections["data"] == 2.5


def test_unknown_id_names_it_and_suggests_the_close_one():
    with pytest.raises(ParameterError) as caught:
        readiness.score({"monitor3": 1})
    message = str(caught.value)
    assert "there is no readiness question 'monitor3'" in message
    assert "did you mean monitor_3" in message
    with pytest.raises(ParameterError) as caught:
        readiness.score({"data_9": 1, "org_ownr": 1, "xyz": 0})
    message = str(caught.value)
    assert "3 answers are for questions the bank does not have" in message
    assert "'org_ownr' (did you mean org_owner or" in message and "'xyz'" in message


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (0.7, "0.7 (float)"),
        (float("nan"), "nan (float)"),
        ("abc", "'abc' (str)"),
        (True, "True (bool)"),
        (None, "None (NoneType)"),
        (2, "2 (int)"),
    ],
)
def test_bad_scores_name_the_question_and_the_value(value, found):
    with pytest.raises(ParameterError) as caught:
        readiness.score({"data_1": 1, "infra_6": value})
    message = str(caught.value)
    assert "question infra_6 has a score prodready cannot use" in message
    assert f"Found: {found}." in message
    assert "0 (not done), 0.5 (done by hand, documented) or 1 (automated and repeated)" in message


def test_answers_must_be_a_mapping():
    with pytest.raises(ParameterError) as caught:
        readiness.score([("data_1", 1)])
    assert "the answers are not a mapping" in str(caught.value)
    assert "Found: a list." in str(caught.value)


def test_summary_and_to_dict_carry_the_numbers():
    card = readiness.score({**ml_answers(data=2, model=1.5, infrastructure=3, monitoring=2)})
    first = card.summary()[0]
    assert first.severity == "medium"
    assert first.text.startswith("ML Test Score 1.5 of 7 (the weakest of the four sections, model")
    data = card.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["ml_test_score"] == 1.5 and data["weakest"] == "model"
    assert data["bank_version"] == 1 and data["level"] == {"google": 0, "microsoft": 0}
    assert len(data["gaps"]) == 36 - 8  # every question but the eight scored 1
    assert data["answers"]["model_2"] == 0.5


# ----------------------------------------------------------------------------- answer files
def test_read_answers_yaml_json_and_csv_agree(tmp_path):
    expected = {"org_owner": 1.0, "data_1": 0.5, "infra_6": 0.0}
    (tmp_path / "a.yaml").write_text("org_owner: 1\ndata_1: 0.5\ninfra_6: 0\nmonitor_7:\n")
    (tmp_path / "b.yml").write_text("answers:\n  data_1: '0.5'\n  infra_6: 0\n  org_owner: 1\n")
    (tmp_path / "c.json").write_text(json.dumps({"answers": expected}))
    (tmp_path / "d.csv").write_text(
        "id,score,note\norg_owner,1,named\ndata_1,0.5,\n\ninfra_6,0,x\n"
    )
    (tmp_path / "e.csv").write_text("id,score\nmonitor_7,\ninfra_6,0\norg_owner,1\ndata_1,.5\n")
    for name in ("a.yaml", "b.yml", "c.json", "d.csv", "e.csv"):
        read = readiness.read_answers(tmp_path / name)
        assert read == expected, name
        assert list(read) == ["org_owner", "data_1", "infra_6"]  # bank order


def test_read_answers_errors_name_the_file_and_line(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(DataError, match="the answers file does not exist"):
        readiness.read_answers(missing)
    (tmp_path / "x.txt").write_text("org_owner: 1")
    with pytest.raises(DataError, match="cannot tell the format"):
        readiness.read_answers(tmp_path / "x.txt")

    (tmp_path / "bad.yaml").write_text("org_owner: 1\ndata_1: [0.5\n")
    with pytest.raises(DataError) as caught:
        readiness.read_answers(tmp_path / "bad.yaml")
    assert "bad.yaml, line" in str(caught.value) and "not valid YAML" in str(caught.value)

    (tmp_path / "unknown.yaml").write_text("org_owner: 1\n\nmonitor3: 1\n")
    with pytest.raises(ParameterError) as caught:
        readiness.read_answers(tmp_path / "unknown.yaml")
    assert "unknown.yaml, line 3: there is no readiness question 'monitor3'" in str(caught.value)
    assert "did you mean monitor_3" in str(caught.value)

    (tmp_path / "score.csv").write_text("id,score\norg_owner,1\ndata_1,0.7\n")
    with pytest.raises(ParameterError) as caught:
        readiness.read_answers(tmp_path / "score.csv")
    assert "score.csv, line 3: question data_1 has a score prodready cannot use" in str(
        caught.value
    )
    assert "Found: '0.7' (str)." in str(caught.value)

    (tmp_path / "twice.json").write_text('{"data_1": 1, "data_1": 0}')
    with pytest.raises(ParameterError, match="question data_1 is answered twice"):
        readiness.read_answers(tmp_path / "twice.json")
    (tmp_path / "broken.json").write_text('{"data_1": 1,\n "data_2": }')
    with pytest.raises(DataError) as caught:
        readiness.read_answers(tmp_path / "broken.json")
    assert "broken.json, line 2: the answers file is not valid JSON" in str(caught.value)
    (tmp_path / "bool.json").write_text('{"answers": {"data_1": true}}')
    with pytest.raises(ParameterError) as caught:
        readiness.read_answers(tmp_path / "bool.json")
    assert "bool.json, entry 'data_1'" in str(caught.value) and "True (bool)" in str(caught.value)

    (tmp_path / "list.yaml").write_text("- org_owner\n- data_1\n")
    with pytest.raises(DataError, match="not a mapping of question id to score"):
        readiness.read_answers(tmp_path / "list.yaml")
    (tmp_path / "cols.csv").write_text("question,value\norg_owner,1\n")
    with pytest.raises(DataError) as caught:
        readiness.read_answers(tmp_path / "cols.csv")
    assert "cols.csv, line 1: the answers CSV lacks the columns it needs" in str(caught.value)
    (tmp_path / "nested.yaml").write_text("org_owner:\n  score: 1\n")
    with pytest.raises(ParameterError, match=r"nested\.yaml, line 1: the answer to org_owner"):
        readiness.read_answers(tmp_path / "nested.yaml")


def test_answers_from_a_file_score_like_a_dict(tmp_path):
    (tmp_path / "team.yaml").write_text(
        "\n".join(f"{qid}: 1" for qid in needs(GOOGLE_LEVELS, 1) if qid != "monitor_4")
        + "\nmonitor_4: 0.5\n"
    )
    card = readiness.score(readiness.read_answers(tmp_path / "team.yaml"))
    assert card.level["google"] == 1
    assert card.sections["infrastructure"] == 3.0  # infra_1, infra_3, infra_4
    assert isinstance(card.gaps, pd.DataFrame)
