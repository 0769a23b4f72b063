"""Temporary land review: footprints beyond approval, overdue restoration, approvals on
permanent farmland and terms that are too long.

Hand-made layers in zone 39 (:mod:`landcheck.testing`) go through the facts, the rules of
the merged pack and :func:`~landcheck.verdicts.decide` exactly as ``check()`` does; the
acceptance tests run ``check`` on the demo county against ``CASES.csv`` (as of 2023-09-30).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from _cases import load_cases

from landcheck.area import official_area
from landcheck.chain import family_params as _family_params
from landcheck.checks import SUBJECTS, load_builtin_checks
from landcheck.checks.run import NO_FINDING, check
from landcheck.checks.temporary import add_years, term_years
from landcheck.errors import InputError, RuleError
from landcheck.screen import load_rules
from landcheck.testing import AS_OF, CRS, SAMPLES, layer, rect
from landcheck.verdicts import decide

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "landcheck" / "rules" / "packs"
RULES = ("temporary.over_footprint", "temporary.overdue", "temporary.on_permanent_farmland",
         "temporary.term_too_long")


@pytest.fixture(scope="module")
def pack_path(tmp_path_factory):
    """city2023 with the temporary fragment appended (as it will be merged), or city2023
    itself once it holds the fragment's rules."""
    text = (PACKS / "city2023.toml").read_text(encoding="utf-8")
    if 'id = "temporary.over_footprint"' in text:
        return PACKS / "city2023.toml"
    text += "\n" + (PACKS / "fragments" / "temporary.toml").read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("pack") / "pack.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pack(pack_path):
    return load_rules(pack_path)


def oa(geom) -> float:
    return float(official_area([geom], crs=CRS)[0])


def approvals(*rows):
    """Temporary approvals from (geometry, start, end[, linear]) tuples."""
    data = {"start": pd.to_datetime([r[1] for r in rows]),
            "end": pd.to_datetime([r[2] for r in rows]),
            "use": ["haul_road"] * len(rows),
            "linear": [r[3] if len(r) > 3 else False for r in rows]}
    return layer([f"L{i + 1}" for i in range(len(rows))], [r[0] for r in rows], **data)


def footprints(*geoms):
    return layer([f"F{i + 1}" for i in range(len(geoms))], geoms)


def judge(subject, features, layers, pack, *, as_of=AS_OF):
    """Facts, parts, fired rule ids and decided verdicts, as check() does."""
    load_builtin_checks()
    ref = pd.Timestamp(as_of)
    facts, parts = SUBJECTS[subject].compute(features, layers, crs=CRS,
                                             params=_family_params(pack),
                                             reference_date=ref.date())
    sub = pack.for_subject(subject)
    run = {"reference_date": ref, "year": ref.year}
    fired = sub.evaluate(facts, run=run, subject=subject)
    decided = decide(facts, fired, sub.rules, default=NO_FINDING, run=run)
    ids = [{r for r in fired.columns if row[r]} for _, row in fired.iterrows()]
    return facts, parts, ids, decided


# ------------------------------------------------------------------ calendar


@pytest.mark.parametrize(("day", "years", "expect"), [
    ("2022-06-30", 1, "2023-06-30"),
    ("2024-02-29", 1, "2025-02-28"),   # 29 February → 28 February
    ("2024-02-29", 4, "2028-02-29"),   # … but kept in a leap year
    ("2023-12-31", 2, "2025-12-31"),
])
def test_add_years_keeps_month_and_day(day, years, expect):
    got = add_years(np.array([day], dtype="datetime64[D]"), years)
    assert got[0] == np.datetime64(expect)


@pytest.mark.parametrize(("start", "end", "expect"), [
    ("2022-03-01", "2024-03-01", 2.0),
    ("2023-03-01", "2024-02-29", 365 / 366),
    ("2021-01-01", "2023-07-01", 2 + 181 / 365),
    ("2019-07-01", "2023-07-02", 4 + 1 / 366),
])
def test_term_in_calendar_years(start, end, expect):
    got = term_years(np.array([start], "datetime64[D]"), np.array([end], "datetime64[D]"))
    assert got[0] == pytest.approx(expect, rel=1e-12)


# ------------------------------------------------------------------ footprints: beyond approval


def test_footprint_20_percent_bigger_than_its_approval_exceeds_by_exactly_that_20_percent(pack):
    appr = approvals((rect(0, 0, 100, 50), "2023-01-01", "2024-12-31"))
    facts, parts, fired, decided = judge("temporary_footprints", footprints(rect(0, 0, 120, 50)),
                                         {"temporary_land": appr}, pack)
    f = facts.iloc[0]
    extra = rect(100, 0, 120, 50)
    assert parts["beyond_approval"][0].equals(extra)
    assert f["excess_m2"] == pytest.approx(oa(extra), rel=1e-12)
    assert f["approved_m2"] == pytest.approx(oa(rect(0, 0, 100, 50)), rel=1e-9)
    assert f["excess_frac"] == pytest.approx(1 / 6, rel=1e-6)
    assert f["approval_ids"] == ["L1"]
    assert fired[0] == {"temporary.over_footprint"}
    assert decided["verdict"][0] == "illegal"
    assert decided["illegal_m2"][0] == pytest.approx(oa(extra), rel=1e-12)


@pytest.mark.parametrize(("width", "fires"), [(100.0, False), (100.01, False), (100.04, True)])
def test_excess_at_or_below_the_sliver_is_silent(pack, width, fires):
    """0.5 m² beyond (100.01 × 50) is noise; 2 m² (100.04 × 50) is not."""
    appr = approvals((rect(0, 0, 100, 50), "2023-01-01", "2024-12-31"))
    _, _, fired, _ = judge("temporary_footprints", footprints(rect(0, 0, width, 50)),
                           {"temporary_land": appr}, pack)
    assert ("temporary.over_footprint" in fired[0]) is fires


def test_footprint_without_any_approval_is_all_excess(pack):
    appr = approvals((rect(500, 500, 600, 600), "2023-01-01", "2024-12-31"))
    facts, parts, fired, decided = judge("temporary_footprints", footprints(rect(0, 0, 40, 30)),
                                         {"temporary_land": appr}, pack)
    assert parts["beyond_approval"][0].equals(rect(0, 0, 40, 30))
    assert facts["excess_m2"][0] == pytest.approx(oa(rect(0, 0, 40, 30)), rel=1e-12)
    assert facts["approval_ids"][0] == [] and pd.isna(facts["restoration_due"][0])
    assert fired[0] == {"temporary.over_footprint"}
    assert decided["illegal_m2"][0] == pytest.approx(facts["area_m2"][0], rel=1e-12)


def test_overlapping_approvals_count_once(pack):
    appr = approvals((rect(0, 0, 60, 50), "2023-01-01", "2024-12-31"),
                     (rect(40, 0, 100, 50), "2023-01-01", "2024-06-30"))
    facts, _, fired, decided = judge("temporary_footprints", footprints(rect(0, 0, 100, 50)),
                                     {"temporary_land": appr}, pack)
    f = facts.iloc[0]
    # the footprint on the union of the approvals (its outline carries their corners) against
    # the hand-drawn box: different outlines, to 0.01 m²
    assert f["approved_m2"] == pytest.approx(oa(rect(0, 0, 100, 50)), abs=0.01)
    assert f["excess_m2"] == 0.0
    assert sorted(f["approval_ids"]) == ["L1", "L2"]
    assert (f["end_first"], f["end_last"]) == (pd.Timestamp("2024-06-30"),
                                               pd.Timestamp("2024-12-31"))
    assert f["restoration_due"] == pd.Timestamp("2025-06-30")
    assert fired[0] == set() and decided["verdict"][0] == "legal"


def test_footprint_missing_the_approvals_layer_is_an_error(pack):
    with pytest.raises(InputError, match="temporary_land"):
        judge("temporary_footprints", footprints(rect(0, 0, 10, 10)), {}, pack)


# ------------------------------------------------------------------ footprints: overdue


@pytest.mark.parametrize(("end", "as_of", "due", "overdue"), [
    ("2022-09-30", "2023-09-29", "2023-09-30", False),
    ("2022-09-30", "2023-09-30", "2023-09-30", False),   # the deadline day itself is in time
    ("2022-09-30", "2023-10-01", "2023-09-30", True),    # the next day is overdue
    ("2024-02-29", "2025-02-28", "2025-02-28", False),   # 29 Feb + 1 year = 28 Feb
    ("2024-02-29", "2025-03-01", "2025-02-28", True),
])
def test_restoration_deadline_is_end_plus_one_year(pack, end, as_of, due, overdue):
    appr = approvals((rect(0, 0, 50, 40), "2021-10-01", end))
    facts, parts, fired, decided = judge("temporary_footprints", footprints(rect(0, 0, 50, 40)),
                                         {"temporary_land": appr}, pack, as_of=as_of)
    f = facts.iloc[0]
    assert f["restoration_due"] == pd.Timestamp(due)
    assert f["overdue_days"] == (pd.Timestamp(as_of) - pd.Timestamp(due)).days
    assert ("temporary.overdue" in fired[0]) is overdue
    if overdue:
        assert f["overdue_m2"] == pytest.approx(f["area_m2"], rel=1e-12)
        assert parts["overdue"][0].equals(rect(0, 0, 50, 40))
        assert decided["illegal_m2"][0] == pytest.approx(f["area_m2"], rel=1e-12)
    else:
        assert f["overdue_m2"] == 0.0 and decided["verdict"][0] == "legal"


def test_restoration_period_is_a_pack_parameter(pack_path):
    pack2 = load_rules(pack_path, overrides={"temporary.restoration_years": 2})
    appr = approvals((rect(0, 0, 50, 40), "2020-10-01", "2021-09-30"))
    facts, _, fired, _ = judge("temporary_footprints", footprints(rect(0, 0, 50, 40)),
                               {"temporary_land": appr}, pack2, as_of="2023-09-30")
    assert facts["restoration_due"][0] == pd.Timestamp("2023-09-30")
    assert fired[0] == set()


def test_restoration_period_must_be_whole_years(pack_path):
    pack2 = load_rules(pack_path, overrides={"temporary.restoration_years": 1.5})
    appr = approvals((rect(0, 0, 50, 40), "2020-10-01", "2021-09-30"))
    with pytest.raises(RuleError, match="restoration_years"):
        judge("temporary_footprints", footprints(rect(0, 0, 50, 40)), {"temporary_land": appr},
              pack2)


def test_renewed_approval_over_an_expired_one_is_not_overdue(pack):
    appr = approvals((rect(0, 0, 50, 40), "2020-01-01", "2021-06-30"),
                     (rect(0, 0, 50, 40), "2022-01-01", "2023-12-31"))
    facts, _, fired, _ = judge("temporary_footprints", footprints(rect(0, 0, 50, 40)),
                               {"temporary_land": appr}, pack)
    assert facts["overdue_m2"][0] == 0.0 and facts["overdue_ids"][0] == ["L1"]
    assert fired[0] == set()


def test_overdue_and_beyond_approval_add_up(pack):
    """Half on an expired approval, half on none: both rules, the illegal area is the whole."""
    appr = approvals((rect(0, 0, 25, 40), "2020-01-01", "2021-06-30"))
    facts, parts, fired, decided = judge("temporary_footprints", footprints(rect(0, 0, 50, 40)),
                                         {"temporary_land": appr}, pack)
    f = facts.iloc[0]
    assert fired[0] == {"temporary.over_footprint", "temporary.overdue"}
    assert parts["overdue"][0].equals(rect(0, 0, 25, 40))
    assert parts["beyond_approval"][0].equals(rect(25, 0, 50, 40))
    assert f["noncompliant_m2"] == pytest.approx(f["area_m2"], rel=1e-9)
    assert decided["illegal_m2"][0] == pytest.approx(f["area_m2"], rel=1e-9)
    assert "到期未恢复" in decided["reasons_zh"][0] and "少批多占" in decided["reasons_zh"][0]


# ------------------------------------------------------------------ approvals: term


@pytest.mark.parametrize(("start", "end", "linear", "limit", "fires"), [
    ("2022-03-01", "2024-03-01", False, 2, False),   # exactly 2 years
    ("2022-03-01", "2024-03-02", False, 2, True),    # 2 years and 1 day
    ("2020-02-29", "2022-02-28", False, 2, False),   # 29 Feb + 2 years = 28 Feb
    ("2020-02-29", "2022-03-01", False, 2, True),
    ("2019-07-01", "2023-07-01", True, 4, False),    # linear: exactly 4 years
    ("2019-07-01", "2023-07-02", True, 4, True),     # linear: 4 years and 1 day
    ("2019-07-01", "2023-07-01", False, 2, True),    # the same term, not linear
    ("2019-07-01", "2023-07-01", None, 2, True),     # unknown flag: the general limit
])
def test_term_limit(pack, start, end, linear, limit, fires):
    feats = approvals((rect(0, 0, 50, 40), start, end, linear))
    facts, _, fired, decided = judge("temporary_land", feats, {}, pack)
    f = facts.iloc[0]
    assert f["term_limit_years"] == limit
    assert f["term_limit_end"] == pd.Timestamp(add_years(np.array([start], "datetime64[D]"),
                                                         limit)[0])
    assert f["term_days"] == (pd.Timestamp(end) - pd.Timestamp(start)).days
    assert ("temporary.term_too_long" in fired[0]) is fires
    assert decided["verdict"][0] == ("needs_review" if fires else "legal")


def test_term_limits_are_pack_parameters(pack_path):
    pack3 = load_rules(pack_path, overrides={"temporary.term_limit_years": 3})
    feats = approvals((rect(0, 0, 50, 40), "2021-01-01", "2023-12-31"))
    _, _, fired, _ = judge("temporary_land", feats, {}, pack3)
    assert fired[0] == set()


def test_missing_dates_do_not_fire(pack):
    feats = approvals((rect(0, 0, 50, 40), None, "2023-12-31"))
    facts, _, fired, _ = judge("temporary_land", feats, {}, pack)
    assert pd.isna(facts["term_days"][0]) and fired[0] == set()


# ------------------------------------------------------------------ approvals: permanent farmland


@pytest.mark.parametrize(("pf", "expect_m2", "fires"), [
    (rect(0, 0, 30, 40), 1200.0, True),            # western half
    (rect(-10, -10, 70, 50), 2400.0, True),        # all of it
    (rect(60, 0, 100, 40), 0.0, False),            # only touches
])
def test_approval_on_permanent_farmland(pack, pf, expect_m2, fires):
    feats = approvals((rect(0, 0, 60, 40), "2023-03-01", "2024-02-28"))
    facts, parts, fired, decided = judge("temporary_land", feats,
                                         {"permanent_farmland": layer(["P1"], [pf])}, pack)
    f = facts.iloc[0]
    assert f["permanent_farmland_m2"] == pytest.approx(expect_m2, rel=1e-6, abs=1e-9)
    assert ("temporary.on_permanent_farmland" in fired[0]) is fires
    if fires:
        assert f["permanent_farmland_ids"] == ["P1"]
        on = shapely.intersection(rect(0, 0, 60, 40), pf)
        assert parts["on_permanent_farmland"][0].equals(on)
        assert decided["verdict"][0] == "needs_review"
        assert decided["review_m2"][0] == pytest.approx(oa(on), rel=1e-12)
    else:
        assert parts["on_permanent_farmland"][0] is None and f["permanent_farmland_ids"] == []


def test_without_permanent_farmland_layer_the_rule_cannot_fire(pack):
    feats = approvals((rect(0, 0, 60, 40), "2023-03-01", "2024-02-28"))
    facts, _, fired, _ = judge("temporary_land", feats, {}, pack)
    assert pd.isna(facts["permanent_farmland_m2"][0]) and fired[0] == set()


def test_pack_rules_judge_their_subjects(pack):
    subjects = {r.id: r.subject for r in pack.rules if r.family == "temporary"}
    assert subjects == {"temporary.use_changed": "patches", "temporary.use_unknown": "patches",
                        "temporary.over_footprint": "temporary_footprints",
                        "temporary.overdue": "temporary_footprints",
                        "temporary.on_permanent_farmland": "temporary_land",
                        "temporary.term_too_long": "temporary_land"}
    params = _family_params(pack)["temporary"]
    assert (params["sliver_m2"], params["restoration_years"], params["term_limit_years"],
            params["linear_term_limit_years"]) == (1.0, 1, 2, 4)


# ------------------------------------------------------------------ acceptance: demo county


@pytest.fixture(scope="module")
def cases():
    return load_cases("temporary_land", "temporary_footprints")


@pytest.fixture(scope="module")
def results(pack_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {s: check(s, SAMPLES / "county.toml", rules=pack_path, reference_date=AS_OF)
                for s in ("temporary_land", "temporary_footprints")}


def _fired(result):
    return {fid: {r for r in rules if r in RULES}
            for fid, rules in zip(result.verdicts["id"], result.verdicts["rules"], strict=True)}


@pytest.mark.parametrize("subject", ["temporary_land", "temporary_footprints"])
def test_fired_rule_sets_match_the_case_table(results, cases, subject):
    """Listed features fire exactly their `fires` rows; unlisted ones fire nothing."""
    fired = _fired(results[subject])
    sub = cases[cases["layer"] == subject]
    assert set(sub["feature_id"]) <= set(fired)
    wrong = []
    for fid, got in fired.items():
        rows = sub[sub["feature_id"] == fid]
        expected = set(rows.loc[rows["expect"] == "fires", "rule_id"])
        if got != expected:
            wrong.append((fid, expected - got, got - expected))
    assert not wrong, wrong


@pytest.mark.parametrize("rule_id", RULES)
def test_each_rule_fires_where_designed_and_nowhere_else(results, cases, rule_id):
    rows = cases[cases["rule_id"] == rule_id]
    designed = set(rows.loc[rows["expect"] == "fires", "feature_id"])
    silent = set(rows.loc[rows["expect"] == "silent", "feature_id"])
    assert len(designed) >= 2 and len(silent) >= 1
    actual = {fid for result in results.values() for fid, got in _fired(result).items()
              if rule_id in got}
    assert actual == designed and not actual & silent


@pytest.mark.parametrize("subject", ["temporary_land", "temporary_footprints"])
def test_verdicts_and_areas(results, cases, subject):
    table = results[subject].verdicts.set_index("id")
    listed = cases[cases["layer"] == subject]
    for fid, sub in listed.groupby("feature_id"):
        row = table.loc[fid]
        assert row["verdict"] == sub["verdict"].iloc[0], (fid, sub["case"].iloc[0])
        if sub["illegal_m2"].iloc[0] != "":
            expect = float(sub["illegal_m2"].iloc[0])
            assert row["illegal_m2"] == pytest.approx(expect, rel=1e-4, abs=0.05), fid
    unlisted = table.index.difference(listed["feature_id"])
    assert len(unlisted) > 0 and (table.loc[unlisted, "verdict"] == "legal").all()


def _tokens(cases, name):
    found = cases["note_en"].str.extract(rf"{name}=([^;\]]+)", expand=False)
    keep = found.notna()
    assert keep.any(), name
    return set(zip(cases.loc[keep, "feature_id"], found[keep], strict=True))


def test_designed_dates_limits_and_farmland_areas(results, cases):
    foot = results["temporary_footprints"].facts.set_index("id")
    land = results["temporary_land"].facts.set_index("id")
    for fid, due in _tokens(cases, "due"):
        assert foot.loc[fid, "restoration_due"] == pd.Timestamp(due), fid
    for fid, limit in _tokens(cases, "limit_years"):
        assert land.loc[fid, "term_limit_years"] == float(limit), fid
    for fid, m2 in _tokens(cases, "pf_m2"):
        assert land.loc[fid, "permanent_farmland_m2"] == pytest.approx(float(m2), rel=1e-4)
    # T1's haul road ends on 29 February 2024: restoration due 28 February 2025
    assert land.loc["示临地〔2023〕1号", "end"] == pd.Timestamp("2024-02-29")
    assert foot.loc["SJ0001", "restoration_due"] == pd.Timestamp("2025-02-28")


def test_fragments_hold_the_measured_parts(results):
    frag = results["temporary_footprints"].fragments.set_index("id")
    assert frag.loc["SJ0007", "part"] == "beyond_approval"
    assert frag.loc["SJ0007", "area_m2"] == pytest.approx(1000.0, rel=1e-4)
    assert frag.loc["SJ0010", "part"] == "overdue"
    reasons = results["temporary_footprints"].verdicts.set_index("id")["reasons_zh"]
    assert re.search(r"2023-09-29前完成复垦，至2023-09-30已逾期1天", reasons["SJ0011"])
    assert results["temporary_footprints"].provenance["reference_date"] == dt.date(
        2023, 9, 30).isoformat()
