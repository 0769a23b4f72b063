"""Consolidation-project plots: facts on hand-drawn plots, deadline days, and the case table.

Hand-made tests measure plots of whole metres (areas checkable by hand) with
:func:`compute_project_facts` and judge them with the city pack plus the projects fragment,
the same chain as :func:`landcheck.checks.run.check`. The acceptance test runs ``check`` on
the demo county against ``data/samples/CASES.csv``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _cases import fired_mismatches, load_cases

from landcheck.area import official_area
from landcheck.checks.projects import compute_project_facts, deadlines
from landcheck.checks.run import NO_FINDING, check
from landcheck.errors import RuleError
from landcheck.screen import load_rules
from landcheck.testing import AS_OF, CRS, ORIGIN, SAMPLES, rect
from landcheck.verdicts import decide

ROOT = Path(__file__).resolve().parents[1]
PACKS = ROOT / "landcheck" / "rules" / "packs"
FAMILY = "projects."


@pytest.fixture(scope="module")
def pack_path():
    """The built-in city pack (its projects and plans rules included)."""
    return PACKS / "city2023.toml"


@pytest.fixture(scope="module")
def pack(pack_path):
    return load_rules(pack_path)


def oa(geom) -> float:
    return float(official_area([geom], crs=CRS)[0])


def plots(*rows, geoms=None):
    """Plots from dicts of canonical fields; defaults make an accepted supplement plot that
    is in time, dry-cropped and not a paddy."""
    base = {"kind": "supplement", "approved": "2023-04-20", "implemented": "2023-06-10",
            "accepted": "2023-08-15", "status": "accepted", "paddy": False, "crop": "dry_crop"}
    data = pd.DataFrame([{**base, "id": f"X{i + 1}", **r} for i, r in enumerate(rows)])
    for col in ("approved", "implemented", "accepted"):
        data[col] = pd.to_datetime(data[col])
    geoms = geoms or [rect(0, 0, 60, 50)] * len(rows)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def zone(*geoms):
    return gpd.GeoDataFrame({"id": [f"Z{i}" for i in range(len(geoms))]}, geometry=list(geoms),
                            crs=CRS)


def buildings(*items):
    return gpd.GeoDataFrame({"id": [f"B{i}" for i in range(len(items))],
                             "kind": [k for k, _ in items]},
                            geometry=[g for _, g in items], crs=CRS)


def landuse(*items):
    return gpd.GeoDataFrame({"id": [f"L{i}" for i in range(len(items))],
                             "class": [c for c, _ in items]},
                            geometry=[g for _, g in items], crs=CRS)


def everywhere():
    """Layers under which the default plot (0..60 × 0..50) breaks no rule."""
    big = rect(-100, -100, 200, 200)
    return {"general_ag_zone": zone(big), "village_zone": zone(big),
            "buildings": buildings(("main", rect(10, 10, 20, 20))),
            "landuse": landuse(("0103", big))}


def judge(features, layers, pack, *, as_of=AS_OF):
    """Facts, parts, fired rule ids (projects family) and decided verdicts, as check() does."""
    from landcheck.chain import family_params as _family_params

    facts, parts = compute_project_facts(features, layers, crs=CRS,
                                         params=_family_params(pack), reference_date=None)
    sub = pack.for_subject("projects")
    ts = pd.Timestamp(as_of)
    fired = sub.evaluate(facts, run={"reference_date": ts, "year": ts.year}, subject="projects")
    decided = decide(facts, fired, sub.rules, default=NO_FINDING)
    ids = [{r for r in fired.columns if row[r]} for _, row in fired.iterrows()]
    return facts, parts, ids, decided


# ------------------------------------------------------------------ zones and buildings


def test_supplement_plot_half_outside_the_zone_measures_exactly_that_half(pack):
    layers = {**everywhere(), "general_ag_zone": zone(rect(0, 0, 30, 50), rect(200, 0, 300, 50))}
    facts, parts, fired, decided = judge(plots({}), layers, pack)
    f = facts.iloc[0]
    assert parts["outside"][0].equals(rect(30, 0, 60, 50))
    assert f["outside_m2"] == pytest.approx(oa(rect(30, 0, 60, 50)), rel=1e-12)
    # the two pieces and the plot are measured on their own outlines (the cut adds vertices):
    # they add up to the plot's area to 0.01 m²
    assert f["zone_m2"] + f["outside_m2"] == pytest.approx(f["area_m2"], abs=0.01)
    assert fired[0] == {"projects.supplement_misplaced"}
    assert decided["verdict"][0] == "illegal"
    assert decided["illegal_m2"][0] == pytest.approx(oa(rect(30, 0, 60, 50)), rel=1e-12)


@pytest.mark.parametrize(("kind", "zone_role", "rule"), [
    ("supplement", "general_ag_zone", "projects.supplement_misplaced"),
    ("linkage", "village_zone", "projects.linkage_misplaced"),
])
def test_each_kind_is_measured_against_its_own_zone(pack, kind, zone_role, rule):
    other = "village_zone" if zone_role == "general_ag_zone" else "general_ag_zone"
    layers = {**everywhere(), zone_role: zone(rect(500, 500, 600, 600)),
              other: zone(rect(-100, -100, 200, 200))}
    _, parts, fired, _ = judge(plots({"kind": kind, "crop": "seedlings_up"}), layers, pack)
    assert parts["outside"][0].equals(rect(0, 0, 60, 50))
    assert fired[0] == {rule}


def test_overlapping_and_touching_zones_count_once(pack):
    layers = {**everywhere(), "general_ag_zone": zone(rect(0, 0, 40, 50), rect(20, 0, 60, 50),
                                                      rect(60, 0, 90, 50))}
    facts, _, fired, _ = judge(plots({}), layers, pack)
    assert facts["outside_m2"][0] == 0.0
    # the plot on the union of the zones (its outline carries the zones' corners) against the
    # plot's own area: to 0.01 m²
    assert facts["zone_m2"][0] == pytest.approx(facts["area_m2"][0], abs=0.01)
    assert fired[0] == set()


def test_outside_within_the_sliver_does_not_fire(pack):
    layers = {**everywhere(), "general_ag_zone": zone(rect(0, 0, 60, 49.99))}  # 0.6 m² out
    facts, _, fired, _ = judge(plots({}), layers, pack)
    assert facts["outside_m2"][0] == pytest.approx(0.6, abs=0.01)  # 60 m × 1 cm, by hand
    assert fired[0] == set()


@pytest.mark.parametrize(("items", "main_n", "main_m2", "fires"), [
    ([("annex", (10, 10, 20, 20))], 0, 0.0, True),                      # only an annex
    ([], 0, 0.0, True),                                                 # nothing at all
    ([("main", (60, 10, 70, 20))], 0, 0.0, True),                       # touches the edge only
    ([("main", (55, 10, 65, 20))], 1, 50.0, False),                     # straddles: half inside
    ([("main", (10, 10, 20, 20)), ("annex", (30, 10, 40, 20))], 1, 100.0, False),
])
def test_linkage_plot_needs_a_main_building_with_area_on_it(pack, items, main_n, main_m2, fires):
    layers = {**everywhere(), "buildings": buildings(*[(k, rect(*xy)) for k, xy in items])}
    facts, _, fired, decided = judge(plots({"kind": "linkage", "crop": "seedlings_up"}), layers,
                                     pack)
    f = facts.iloc[0]
    assert f["main_building_n"] == main_n
    assert f["main_building_m2"] == pytest.approx(main_m2, rel=1e-4)
    assert ("projects.linkage_no_building" in fired[0]) is fires
    if fires:  # the whole plot is not a demolition plot
        assert decided["illegal_m2"][0] == pytest.approx(f["area_m2"], rel=1e-12)


def test_supplement_plot_needs_no_building(pack):
    layers = {**everywhere(), "buildings": buildings()}
    _, _, fired, _ = judge(plots({}), layers, pack)
    assert fired[0] == set()


# ------------------------------------------------------------------ after acceptance


@pytest.mark.parametrize(("accepted", "fires"), [("2023-08-15", True), (None, False)])
def test_not_farmland_after_acceptance_measures_the_rest(pack, accepted, fires):
    layers = {**everywhere(), "landuse": landuse(("0103", rect(-10, -10, 20, 60)),
                                                 ("0101", rect(20, -10, 40, 60)),
                                                 ("0404", rect(40, -10, 70, 60)))}
    facts, parts, fired, decided = judge(plots({"accepted": accepted}), layers, pack)
    f = facts.iloc[0]
    # the plot's farmland pieces (0103 and 0101, cut at x = 20) against the hand-drawn box:
    # different outlines, to 0.01 m²
    assert f["farmland_after_m2"] == pytest.approx(oa(rect(0, 0, 40, 50)), abs=0.01)
    assert parts["not_farmland"][0].equals(rect(40, 0, 60, 50))
    assert ("projects.not_farmland_after" in fired[0]) is fires
    expect = oa(rect(40, 0, 60, 50)) if fires else 0.0
    assert decided["illegal_m2"][0] == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize(("kind", "paddy", "crop", "accepted", "expected"), [
    ("supplement", True, "dry_crop", "2023-08-15", {"projects.paddy_not_aquatic"}),
    ("supplement", True, None, "2023-08-15", {"projects.paddy_not_aquatic"}),
    ("supplement", True, "aquatic", "2023-08-15", set()),
    ("supplement", True, "not_planted", None, set()),                  # not accepted yet
    ("supplement", False, "not_planted", "2023-08-15", set()),
    ("linkage", False, "not_planted", "2023-08-15", {"projects.linkage_no_crop"}),
    ("linkage", False, None, "2023-08-15", {"projects.linkage_no_crop"}),
    ("linkage", False, "dry_crop", "2023-08-15", set()),
    ("linkage", False, "seedlings_up", None, set()),
    ("linkage", True, "seedlings_up", "2023-08-15", {"projects.paddy_not_aquatic"}),
])
def test_crop_evidence_at_acceptance(pack, kind, paddy, crop, accepted, expected):
    row = {"kind": kind, "paddy": paddy, "crop": crop, "accepted": accepted}
    _, _, fired, decided = judge(plots(row), everywhere(), pack)
    assert fired[0] == expected
    assert decided["verdict"][0] == ("needs_review" if expected else "legal")


# ------------------------------------------------------------------ timetable


@pytest.mark.parametrize(("approved", "late"), [
    ("2023-05-31", False), ("2023-06-01", True), ("2023-01-01", False), ("2023-12-31", True),
    ("2024-05-31", False), ("2024-06-01", True),  # leap year: 31 May is still day 152
])
def test_approval_deadline_day_is_in_time(pack, approved, late):
    row = {"approved": approved, "implemented": approved, "accepted": approved}
    facts, _, fired, _ = judge(plots(row), everywhere(), pack, as_of="2024-01-01")
    assert facts["approval_due"][0] == pd.Timestamp(approved[:4] + "-05-31")
    assert ("projects.late_approval" in fired[0]) is late


@pytest.mark.parametrize(("kind", "implemented", "rule", "late"), [
    ("supplement", "2023-06-30", "projects.late_supplement", False),
    ("supplement", "2023-07-01", "projects.late_supplement", True),
    ("linkage", "2023-06-30", "projects.late_linkage", False),
    ("linkage", "2023-08-31", "projects.late_linkage", False),
    ("linkage", "2023-09-01", "projects.late_linkage", True),
])
def test_implementation_deadline_by_kind(pack, kind, implemented, rule, late):
    row = {"kind": kind, "implemented": implemented, "crop": "seedlings_up"}
    _, _, fired, _ = judge(plots(row), everywhere(), pack)
    assert fired[0] == ({rule} if late else set())


def test_implementation_deadline_is_in_the_year_of_approval(pack):
    row = {"approved": "2022-04-01", "implemented": "2023-03-01", "accepted": None}
    facts, _, fired, _ = judge(plots(row), everywhere(), pack)
    assert facts["implementation_due"][0] == pd.Timestamp("2022-06-30")
    assert fired[0] == {"projects.late_supplement"}


@pytest.mark.parametrize(("as_of", "late"), [("2023-06-30", False), ("2023-07-01", True)])
def test_not_implemented_is_late_once_the_deadline_has_passed(pack, as_of, late):
    row = {"implemented": None, "accepted": None, "status": "approved"}
    _, _, fired, decided = judge(plots(row), everywhere(), pack, as_of=as_of)
    assert ("projects.late_supplement" in fired[0]) is late
    if late:
        assert "2023-06-30" in decided["reasons_zh"][0]


def test_missing_approval_date_gives_no_deadline(pack):
    facts, _, fired, _ = judge(plots({"approved": None}), everywhere(), pack)
    assert pd.isna(facts["approval_due"][0]) and pd.isna(facts["implementation_due"][0])
    assert fired[0] == set()


def test_deadlines_come_from_the_pack(pack_path):
    pack = load_rules(pack_path, overrides={"projects.approval_by": "06-15"})
    _, _, fired, _ = judge(plots({"approved": "2023-06-15"}, {"approved": "2023-06-16"}),
                           everywhere(), pack)
    assert [f & {"projects.late_approval"} for f in fired] == [set(), {"projects.late_approval"}]


@pytest.mark.parametrize(("dates", "month_day", "expected"), [
    (["2023-04-20", "2024-04-20"], "05-31", ["2023-05-31", "2024-05-31"]),
    (["2023-04-20", "2024-04-20"], "02-29", ["2023-02-28", "2024-02-29"]),
    (["2100-01-01", "2000-01-01"], "2-29", ["2100-02-28", "2000-02-29"]),
    (["2023-12-31"], "12-31", ["2023-12-31"]),
])
def test_deadlines_in_the_year_of_each_date(dates, month_day, expected):
    out = deadlines(pd.Series(pd.to_datetime(dates)), month_day)
    assert out.dt.strftime("%Y-%m-%d").tolist() == expected


@pytest.mark.parametrize("bad", ["02-30", "13-01", "0531", "5/31", "00-10", "04-31"])
def test_bad_month_day_is_refused(bad):
    with pytest.raises(RuleError, match="MM-DD"):
        deadlines(pd.Series(pd.to_datetime(["2023-01-01"])), bad)


def test_unusable_geometry_gives_null_measurements_and_a_review(pack):
    x, y = ORIGIN
    bowtie = shapely.Polygon([(x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10)])
    facts, _, fired, decided = judge(plots({}, {}, geoms=[rect(0, 0, 60, 50), bowtie]),
                                     everywhere(), pack)
    assert facts["geom_ok"].tolist() == [True, False]
    assert facts["area_m2"][1] == 0.0
    assert facts[["outside_m2", "main_building_m2", "not_farmland_m2"]].iloc[1].isna().all()
    assert fired == [set(), {"projects.invalid_geometry"}]
    assert decided["verdict"].tolist() == ["legal", "needs_review"]


# ------------------------------------------------------------------ the demo county


@pytest.fixture(scope="module")
def county(pack_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check("projects", SAMPLES / "county.toml", rules=pack_path, reference_date=AS_OF)


@pytest.fixture(scope="module")
def cases():
    return load_cases("projects")


def _fired(result):
    return {pid: {r for r in rules if r.startswith(FAMILY)}
            for pid, rules in zip(result.verdicts["id"], result.verdicts["rules"], strict=True)}


def test_county_every_plot_judged_once(county):
    assert len(county.verdicts) == 27
    assert county.verdicts["id"].is_unique


def test_county_fired_rule_sets_match_the_case_table(county, cases):
    fired = _fired(county)
    assert set(cases["feature_id"]) <= set(fired)
    wrong = fired_mismatches(fired, cases)
    assert not wrong, wrong
    unlisted = {pid: f for pid, f in fired.items() if f and pid not in set(cases["feature_id"])}
    assert not unlisted


@pytest.mark.parametrize("rule_id", [
    "projects.supplement_misplaced", "projects.linkage_misplaced",
    "projects.linkage_no_building", "projects.not_farmland_after",
    "projects.paddy_not_aquatic", "projects.linkage_no_crop", "projects.late_approval",
    "projects.late_supplement", "projects.late_linkage",
])
def test_county_each_rule_fires_where_designed_and_nowhere_else(county, cases, rule_id):
    rows = cases[cases["rule_id"] == rule_id]
    designed = set(rows.loc[rows["expect"] == "fires", "feature_id"])
    silent = set(rows.loc[rows["expect"] == "silent", "feature_id"])
    assert len(designed) >= 2 and len(silent) >= 1
    actual = {pid for pid, rules in _fired(county).items() if rule_id in rules}
    assert actual == designed


def test_county_verdicts_and_areas(county, cases):
    table = county.verdicts.set_index("id")
    for pid, sub in cases.groupby("feature_id"):
        row = table.loc[pid]
        assert row["verdict"] == sub["verdict"].iloc[0], pid
        expect = float(sub["illegal_m2"].iloc[0] or 0.0)
        assert row["illegal_m2"] == pytest.approx(expect, rel=1e-4, abs=0.05), pid
    ok = ~table.index.isin(cases["feature_id"])
    assert set(table.loc[ok, "verdict"]) <= {"legal"}


def test_county_fragments_are_the_measured_parts(county):
    frag = county.fragments
    half = frag[(frag["id"] == "BC3499012023002") & (frag["part"] == "outside")]
    assert half["area_m2"].tolist() == pytest.approx([1500.0], rel=1e-4)
    assert set(frag["part"]) == {"outside", "not_farmland"}


def test_county_reasons_name_dates_and_crops(county):
    reasons = county.verdicts.set_index("id")["reasons_zh"]
    assert "2023-06-01" in reasons["BC3499012023010"] and "2023-05-31" in reasons[
        "BC3499012023010"]
    assert "旱作" in reasons["BC3499012023007"]
    assert "附房1处" in reasons["ZJ3499012023004"]
