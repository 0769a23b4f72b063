"""Rural-road rules (family ``roads``): hand-made road strips, then the demo county's cases.

Every scene is one straight road patch, 100 m long, across a 100 m block (local metres
from :data:`landcheck.testing.ORIGIN`), with the previous road, permanent farmland and
forest drawn where the case needs them. Areas are official (ellipsoidal) m², within 1e-4
of the plane areas written here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cases import fired_mismatches, load_cases

from landcheck.screen import screen
from landcheck.testing import AS_OF, SAMPLES, assert_areas_add_up, layer, rect
from landcheck.verdicts import worst

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "landcheck" / "rules" / "packs"
FAMILIES = ("roads",)


@pytest.fixture(scope="module")
def pack():
    """The built-in city pack (its roads and corridors rules included); every rule of the
    county's case table is also checked in tests/test_city2023_cases.py."""
    return PACKS / "city2023.toml"


def strip(width, x0=0.0, x1=100.0, yc=50.0):
    return rect(x0, yc - width / 2, x1, yc + width / 2)


def scene(width, *, before=None, old=None, old_width=None, base="0404", pf=None, forest=None,
          roads_role=True, type_="ND"):
    """Patch and layers of one road case; ``before`` = the previous road's width."""
    patches = layer(["P1"], [strip(width)], type=[type_],
                    before=pd.to_datetime(["2022-12-01"]), after=pd.to_datetime(["2023-06-30"]))
    layers = {"landuse": layer(["L1"], [rect(-50, 0, 150, 100)], **{"class": [base]})}
    if roads_role:
        geoms = [old if old is not None else strip(before)] if (before or old is not None) else []
        widths = [old_width if old_width is not None else before] if geoms else []
        layers["roads_before"] = layer([f"Q{i + 1}" for i in range(len(geoms))], geoms,
                                       width=widths)
    layers["permanent_farmland"] = layer(["F1"], [pf]) if pf is not None else layer([], [])
    if forest is not None:
        layers["forest"] = layer(["W1"], [forest[1]], **{"class": [forest[0]]})
    return patches, layers


def run(pack, patches, layers, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return screen(patches, layers, rules=pack, reference_date=AS_OF, **kw)


def fired(result, row=0, families=FAMILIES):
    return {r for r in result.verdicts["rules"].iloc[row] if r.split(".")[0] in families}


CASES = [
    # id, scene, rules of the family that fire, verdict
    ("pass", dict(width=6, before=6), {"roads.pass"}, "other"),
    ("exactly_max_width", dict(width=8, before=8), {"roads.pass"}, "other"),
    ("within_tolerance", dict(width=6.5, before=6), {"roads.pass"}, "other"),
    ("old_width_measured", dict(width=6, before=6, old_width=np.nan), {"roads.pass"}, "other"),
    ("too_wide", dict(width=9, before=9), {"roads.too_wide"}, "illegal"),
    ("too_wide_new", dict(width=10), {"roads.too_wide", "roads.new_road"}, "illegal"),
    ("widened", dict(width=6, before=4), {"roads.widened"}, "needs_review"),
    ("new", dict(width=6), {"roads.new_road"}, "needs_review"),
    ("extension_touching_old_road", dict(width=6, old=strip(6, 100, 200), old_width=6),
     {"roads.new_road"}, "needs_review"),
    ("on_permanent_farmland", dict(width=6, base="0101", pf=rect(0, 0, 100, 100)),
     {"roads.new_road", "roads.on_permanent_farmland"}, "illegal"),
    ("touching_permanent_farmland", dict(width=6, before=6, pf=rect(0, 53, 100, 100)),
     {"roads.pass"}, "other"),
    ("general_farmland", dict(width=5, base="0102"),
     {"roads.new_road", "roads.balance_required"}, "needs_review"),
    ("national_public_welfare", dict(width=6, forest=("public_welfare_national",
                                                      rect(0, 0, 100, 100))),
     {"roads.new_road", "roads.public_welfare_forest"}, "needs_review"),
    ("provincial_public_welfare_widened",
     dict(width=6, before=4, forest=("public_welfare_provincial", rect(0, 0, 100, 48))),
     {"roads.widened", "roads.public_welfare_forest"}, "needs_review"),
    ("commercial", dict(width=6, forest=("commercial", rect(0, 0, 100, 100))),
     {"roads.new_road", "roads.commercial_forest"}, "needs_review"),
    ("touching_forest", dict(width=6, before=6, forest=("public_welfare_provincial",
                                                        rect(0, 53, 100, 100))),
     {"roads.pass"}, "other"),
    ("no_previous_layer", dict(width=6, roads_role=False), set(), "other"),
    ("not_a_road", dict(width=6, type_="20"), set(), "illegal"),
]


@pytest.mark.parametrize(("scene_kw", "expect", "verdict"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_road_rule_on_a_hand_made_strip(pack, scene_kw, expect, verdict):
    result = run(pack, *scene(**scene_kw))
    assert fired(result) == expect
    assert result.verdicts["verdict"].iloc[0] == verdict
    assert_areas_add_up(result.verdicts)


def test_facts_of_a_widened_road(pack):
    f = run(pack, *scene(6, before=4)).facts.iloc[0]
    assert f["road_width_m"] == pytest.approx(6, rel=1e-9)
    assert f["road_before_width_m"] == 4
    assert f["road_widening_m"] == pytest.approx(2, rel=1e-9)
    assert f["road_before_m2"] == pytest.approx(400, rel=1e-4)
    assert f["road_new_m2"] == pytest.approx(200, rel=1e-4)
    assert f["road_before_ids"] == ["Q1"]


def test_facts_are_null_off_roads_and_without_the_role(pack):
    other = run(pack, *scene(6, before=6, type_="20")).facts.iloc[0]
    assert np.isnan(other["road_width_m"]) and other["road_before_ids"] == []
    bare = run(pack, *scene(6, roads_role=False)).facts.iloc[0]
    assert bare["road_width_m"] == pytest.approx(6, rel=1e-9)
    assert np.isnan(bare["road_before_m2"]) and np.isnan(bare["road_before_width_m"])


def test_no_pass_without_permanent_farmland_layer(pack):
    """Unknown permanent farmland: the road is not passed (and no other road rule fires)."""
    patches, layers = scene(6, before=6)
    del layers["permanent_farmland"]
    assert fired(run(pack, patches, layers)) == set()


def test_widest_previous_road_counts(pack):
    patches, layers = scene(6)
    layers["roads_before"] = layer(["Q1", "Q2"], [strip(4, 0, 50), strip(6, 50, 100)], width=[4, 6])
    result = run(pack, patches, layers)
    assert fired(result) == {"roads.pass"}
    assert result.facts["road_before_ids"].iloc[0] == ["Q1", "Q2"]
    assert result.facts["road_before_width_m"].iloc[0] == 6


@pytest.mark.parametrize(("case", "rule", "area"), [
    ("on_permanent_farmland", "roads.on_permanent_farmland", 600),
    ("widened", "roads.widened", 200),
    ("general_farmland", "roads.balance_required", 500),
])
def test_verdict_areas(pack, case, rule, area):
    result = run(pack, *scene(**next(c[1] for c in CASES if c[0] == case)))
    v = result.verdicts.iloc[0]
    assert rule in v["rules"]
    if v["verdict"] == "illegal":
        assert v["illegal_m2"] == pytest.approx(area, rel=1e-4)
    elif v["verdict"] == "needs_review":
        assert v["review_m2"] == pytest.approx(area, rel=1e-4)


def test_width_tolerance_is_a_parameter(pack):
    result = run(pack, *scene(6.5, before=6), overrides={"roads.width_tolerance_m": 0.0})
    assert fired(result) == {"roads.widened"}
    result = run(pack, *scene(9, before=9), overrides={"roads.max_width_m": 9.0})
    assert fired(result) == {"roads.pass"}


def test_reasons_name_widths_and_areas(pack):
    v = run(pack, *scene(6, before=4)).verdicts.iloc[0]
    assert "由4米拓宽到6米" in v["reasons_zh"]
    assert "widened from 4 m to 6 m" in v["reasons_en"]


# ---------------------------------------------------------------- the demo county


@pytest.fixture(scope="module")
def county(pack):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return screen(None, SAMPLES / "county.toml", rules=pack, reference_date=AS_OF)


@pytest.fixture(scope="module")
def cases():
    return load_cases("patches")


def test_county_fired_sets_match_the_case_table(county, cases):
    mine = {r.id for r in county.pack.rules if r.family in FAMILIES}
    got = {pid: {r for r in rules if r in mine}
           for pid, rules in zip(county.verdicts["id"], county.verdicts["rules"], strict=True)}
    assert set(cases["feature_id"]) <= set(got)
    wrong = fired_mismatches(got, cases, rules=mine)
    assert not wrong, wrong


def test_county_verdicts_and_areas_of_road_patches(county, cases):
    verdict_of = {r.id: r.verdict for r in county.pack.rules}
    table = county.verdicts.set_index("id")
    checked = 0
    for pid, sub in cases.groupby("feature_id"):
        fires = sub.loc[sub["expect"] == "fires", "rule_id"]
        if not fires.str.startswith(tuple(f + "." for f in FAMILIES)).any():
            continue
        known = fires[fires.map(verdict_of.__contains__)]
        assert worst([verdict_of[r] for r in known]) == sub["verdict"].iloc[0], pid
        row = table.loc[pid]
        assert row["verdict"] == sub["verdict"].iloc[0], sub["case"].iloc[0]
        for col in ("legal_m2", "illegal_m2"):
            assert row[col] == pytest.approx(float(sub[col].iloc[0]), rel=1e-4, abs=0.05)
        checked += 1
    assert checked == 18


@pytest.mark.parametrize(("token", "fact"), [
    ("width_m", "road_width_m"), ("pf_m2", "permanent_farmland_m2"),
    ("farmland_m2", "general_farmland_m2"), ("forest_m2", None)])
def test_county_measures_match_the_case_tokens(county, cases, token, fact):
    facts = county.facts.set_index("id")
    rows = cases[cases["rule_id"].str.startswith("roads.") & cases["note_en"].str.contains(
        rf"\b{token}=")]
    assert len(rows)
    for _, r in rows.iterrows():
        expect = float(re.search(rf"\b{token}=([0-9.]+)", r["note_en"]).group(1))
        f = facts.loc[r["feature_id"]]
        value = (f["road_public_welfare_forest_m2"] if r["rule_id"] == "roads.public_welfare_forest"
                 else f["forest_commercial_m2"]) if fact is None else f[fact]
        assert value == pytest.approx(expect, rel=1e-4, abs=0.05), (r["case"], token)
