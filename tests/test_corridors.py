"""Green-corridor rules (family ``corridors``): hand-made belts beside corridors, then the demo
county's cases.

Scenes are in local metres from :data:`landcheck.testing.ORIGIN`: a corridor polygon along
the x axis (y 0 … its width) and a 100 m long belt patch on its north side, on farmland
unless the case says otherwise. Areas are official (ellipsoidal) m², within 1e-4 of the
plane areas written here.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from _cases import fired_mismatches, load_cases
from shapely import LineString

from landcheck.checks import family_params
from landcheck.checks.corridors import SCHEMA, belt_facts
from landcheck.screen import load_rules, screen
from landcheck.testing import AS_OF, SAMPLES, assert_areas_add_up, layer, rect
from landcheck.verdicts import worst

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "landcheck" / "rules" / "packs"
FAMILIES = ("corridors",)
CRS = "EPSG:4527"


@pytest.fixture(scope="module")
def pack():
    """The built-in city pack (its roads and corridors rules included); every rule of the
    county's case table is also checked in tests/test_city2023_cases.py."""
    return PACKS / "city2023.toml"


def scene(depth=10.0, *, kind="highway", width=40.0, planned=np.nan, gap=0.0, built="2022-04-15",
          base="0103", pf=None, type_="LD", corridor=None):
    """A belt of ``depth`` m × 100 m, ``gap`` m north of a corridor of ``width`` m."""
    belt = rect(300, width + gap, 400, width + gap + depth)
    after = pd.to_datetime([built]) if built else pd.to_datetime([None])
    patches = layer(["B1"], [belt], type=[type_], before=pd.to_datetime(["2019-01-01"]),
                    after=after)
    layers = {
        "corridors": layer(["K1"], [corridor if corridor is not None else rect(0, 0, 1000, width)],
                           width=[width], planned_width=[planned], **{"class": [kind]}),
        "landuse": layer(["L1"], [rect(-100, -100, 1100, 200)], **{"class": [base]}),
        "permanent_farmland": layer(["F1"], [pf]) if pf is not None else layer([], []),
    }
    return patches, layers


def run(pack, patches, layers, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return screen(patches, layers, rules=pack, reference_date=AS_OF, **kw)


def fired(result, row=0):
    return {r for r in result.verdicts["rules"].iloc[row] if r.split(".")[0] in FAMILIES}


RECENT = {"corridors.over_standard", "corridors.recent_deadline"}
EARLY = {"corridors.over_standard", "corridors.plan_required"}
CASES = [
    # id, scene, rules of the family that fire, excess (plane m²)
    ("highway_10m", dict(depth=10), RECENT, 500),
    ("highway_exactly_5m", dict(depth=5), set(), 0),
    ("railway_8m_before_2021", dict(depth=8, kind="railway", width=30, built="2019-08-01"),
     EARLY, 300),
    ("county_road_8m", dict(depth=8, kind="county_road", width=10, built="2020-10-01"), EARLY, 500),
    ("township_road_3m", dict(depth=3, kind="township_road", width=8), set(), 0),
    ("river_planned_20m", dict(depth=25, kind="river", width=60, planned=20), RECENT, 500),
    # no planned width: the limit cannot be known, so no excess and a review naming it
    ("river_without_plan", dict(depth=25, kind="river", width=60), {"corridors.class_unknown"},
     None),
    ("village_road_no_limit", dict(depth=10, kind="village_road", width=5), set(), None),
    ("not_on_farmland", dict(depth=10, base="0404"), set(), 0),
    ("on_permanent_farmland_only", dict(depth=10, base="0404", pf=rect(-100, 40, 1100, 200)),
     RECENT, 500),
    ("gap_of_1m", dict(depth=6, kind="provincial_road", width=20, gap=1), RECENT, 200),
    ("beyond_search_distance", dict(depth=10, gap=11), set(), None),
    ("forest_patch", dict(depth=10, type_="03"), RECENT, 500),
    ("construction_patch", dict(depth=10, type_="20"), set(), None),
    ("built_on_2021_01_01", dict(depth=10, built="2021-01-01"), RECENT, 500),
    ("built_on_2020_12_31", dict(depth=10, built="2020-12-31"), EARLY, 500),
    ("no_after_date", dict(depth=10, built=None), {"corridors.over_standard"}, 500),
    ("centre_line_corridor", dict(depth=10, corridor=LineString(
        [rect(-1, 20, 0, 20).bounds[:2], rect(1000, 20, 1001, 20).bounds[:2]])), RECENT, 500),
]


@pytest.mark.parametrize(("scene_kw", "expect", "excess"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_corridor_rule_on_a_hand_made_belt(pack, scene_kw, expect, excess):
    result = run(pack, *scene(**scene_kw))
    assert fired(result) == expect
    got = result.facts["belt_excess_m2"].iloc[0]
    if excess is None:
        # not a belt (no corridor with a limit nearby, or not a belt type), or a limit unknown
        assert np.isnan(got)
    else:
        assert got == pytest.approx(excess, rel=1e-4, abs=1e-6)
    v = result.verdicts.iloc[0]
    if "corridors.over_standard" in expect:
        assert v["verdict"] == "illegal"
        # on permanent farmland the whole belt is also a four-prohibitions case
        illegal = 1000 if "pf" in scene_kw else excess
        assert v["illegal_m2"] == pytest.approx(illegal, rel=1e-4)
    assert_areas_add_up(result.verdicts)


def test_half_on_farmland_counts_only_the_farmland_part(pack):
    patches, layers = scene(10)
    layers["landuse"] = layer(["L1", "L2"], [rect(-100, -100, 350, 200),
                                             rect(350, -100, 1100, 200)],
                              **{"class": ["0103", "0404"]})
    result = run(pack, patches, layers)
    assert result.facts["belt_farmland_m2"].iloc[0] == pytest.approx(500, rel=1e-4)
    assert result.facts["belt_excess_m2"].iloc[0] == pytest.approx(250, rel=1e-4)


def test_belt_in_the_corner_of_two_corridors_gets_both_zones(pack):
    """Highway (5 m) along x, county road (3 m) along y: the zones are united."""
    patches = layer(["B1"], [rect(10, 40, 30, 60)], type=["LD"],
                    before=pd.to_datetime(["2022-01-01"]), after=pd.to_datetime(["2022-06-01"]))
    layers = {
        "corridors": layer(["K1", "K2"], [rect(0, 0, 1000, 40), rect(0, 40, 10, 1000)],
                           width=[40, 10], planned_width=[np.nan, np.nan],
                           **{"class": ["highway", "county_road"]}),
        "landuse": layer(["L1"], [rect(-100, -100, 1100, 1100)], **{"class": ["0101"]}),
        "permanent_farmland": layer([], []),
    }
    f = run(pack, patches, layers).facts.iloc[0]
    assert f["belt_excess_m2"] == pytest.approx(17 * 15, rel=1e-4)
    assert sorted(f["belt_corridor_ids"]) == ["K1", "K2"]
    assert sorted(f["belt_corridor_classes_zh"]) == ["县道", "高速公路"]


@pytest.mark.parametrize(("param", "value", "expect"), [
    ("corridors.highway_limit_m", 10.0, set()),
    ("corridors.corridor_search_m", 0.5, RECENT),
    ("corridors.recent_since", pd.Timestamp("2023-01-01").date(), EARLY),
])
def test_limits_and_dates_are_parameters(pack, param, value, expect):
    assert fired(run(pack, *scene(10), overrides={param: value})) == expect


def test_facts_and_excess_geometry_from_the_provider(pack):
    patches, layers = scene(10)
    params = family_params(load_rules(pack), "corridors")
    facts = pd.DataFrame({"type_category": ["greenbelt"], "area_m2": [1000.0]})
    work = np.asarray(patches.geometry.values, dtype=object)
    frame, parts = belt_facts(work, patches, facts, layers, crs=CRS, params=params)
    assert list(frame.columns) == list(SCHEMA)
    assert parts["excess"][0].equals(rect(300, 45, 400, 50))
    assert frame["belt_limit_m"].iloc[0] == 5
    assert frame["belt_corridor_classes"].iloc[0] == ["highway"]
    assert frame["belt_built"].iloc[0] == pd.Timestamp("2022-04-15")


def test_provider_measures_nothing_without_corridor_parameters():
    patches, layers = scene(10)
    facts = pd.DataFrame({"type_category": ["greenbelt"], "area_m2": [1000.0]})
    work = np.asarray(patches.geometry.values, dtype=object)
    frame, parts = belt_facts(work, patches, facts, layers, crs=CRS, params={})
    assert frame["belt_excess_m2"].isna().all() and parts["excess"][0] is None
    assert not shapely.is_missing(work).any()


def test_provider_on_no_patches_keeps_the_schema(pack):
    _, layers = scene(10)
    params = family_params(load_rules(pack), "corridors")
    facts = pd.DataFrame({"type_category": pd.Series([], dtype="string"), "area_m2": []})
    frame, parts = belt_facts(np.array([], dtype=object), layer([], []), facts, layers, crs=CRS,
                              params=params)
    assert list(frame.columns) == list(SCHEMA) and len(frame) == 0 and len(parts["excess"]) == 0
    assert frame["belt_corridor_ids"].dtype == object


def test_deadline_reason_names_the_year_end(pack):
    rules = {r.id: r for r in load_rules(pack).rules}
    row = {"belt_built": pd.Timestamp("2022-04-15"), "run.year": 2023,
           "run.reference_date": pd.Timestamp(AS_OF)}
    assert "2023年12月31日前整改" in rules["corridors.recent_deadline"].reason(row)
    assert "31 December 2023" in rules["corridors.recent_deadline"].reason(row, lang="en")
    assert "整改计划" in rules["corridors.plan_required"].reason(row)


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


def test_county_verdicts_and_areas_of_belts(county, cases):
    verdict_of = {r.id: r.verdict for r in county.pack.rules}
    table = county.verdicts.set_index("id")
    checked = 0
    for pid, sub in cases.groupby("feature_id"):
        if not sub["rule_id"].str.startswith("corridors.").any():
            continue
        fires = sub.loc[sub["expect"] == "fires", "rule_id"]
        known = fires[fires.map(verdict_of.__contains__)]
        assert worst([verdict_of[r] for r in known]) == sub["verdict"].iloc[0], pid
        row = table.loc[pid]
        assert row["verdict"] == sub["verdict"].iloc[0], sub["case"].iloc[0]
        for col in ("legal_m2", "illegal_m2"):
            assert row[col] == pytest.approx(float(sub[col].iloc[0]), rel=1e-4, abs=0.05)
        checked += 1
    assert checked == 9


def test_county_excess_matches_the_case_tokens(county, cases):
    facts = county.facts.set_index("id")
    rows = cases[cases["note_en"].str.contains(r"\bexcess_m2=")]
    assert len(rows) == 6
    for _, r in rows.iterrows():
        expect = float(re.search(r"\bexcess_m2=([0-9.]+)", r["note_en"]).group(1))
        got = facts.loc[r["feature_id"], "belt_excess_m2"]
        assert got == pytest.approx(expect, rel=1e-4, abs=0.05), r["case"]


def test_county_excess_parts_in_the_fragments(county, cases):
    label = cases.drop_duplicates("feature_id").set_index("case")["feature_id"]
    frag = county.fragments[county.fragments["part"] == "excess"]
    assert len(frag) == 6
    c1 = frag[frag["parent_id"] == label["C1"]].iloc[0]
    assert c1["verdict"] == "illegal"
    assert c1["area_m2"] == pytest.approx(500, rel=1e-4)
    assert c1.geometry.area == pytest.approx(500, rel=1e-12)  # 5 m × 100 m, plane


def test_county_belts_are_only_the_designed_ones(county, cases):
    """Only the nine C cases lie within the search distance of a corridor with a limit …
    except C5 (village road: no limit, so not a belt)."""
    belts = set(county.facts.loc[county.facts["belt_excess_m2"].notna(), "id"])
    c_cases = cases.loc[cases["case"].fillna("").str.fullmatch(r"C\d"), ["feature_id", "case"]]
    expect = set(c_cases.loc[c_cases["case"] != "C5", "feature_id"])
    assert belts == expect
