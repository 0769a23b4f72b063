"""A layer the rules read is missing: said up front, "not checked" in reasons, never milder.

The patches are 40 m × 50 m rectangles (2,000 m² in the plane, about that in official area);
the permanent farmland covers P1 and P2, the land-use layer (forest land) all of them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from landcheck.errors import DataWarning, MissingLayerWarning
from landcheck.screen import load_rules, screen
from landcheck.testing import SAMPLES, layer, rect
from landcheck.unchecked import absent_roles, fact_roles, not_checked, null_absent

AS_OF = "2023-09-30"
#: the families these layers are for (corridor and road checks read layers the test omits)
FAMILIES = ["legality", "farmland"]


def patches():
    """P1 new construction (no approval), P2 a park (公园绿地, a green space: one of the four
    prohibitions on permanent farmland), P3 a park off the permanent farmland."""
    return layer(
        ["P1", "P2", "P3"],
        [rect(0, 0, 40, 50), rect(100, 0, 140, 50), rect(300, 0, 340, 50)],
        type=["20", "LD", "LD"],
        before=pd.to_datetime(["2022-12-31"] * 3),
        after=pd.to_datetime(["2023-06-30"] * 3),
    )


def reference(with_pf: bool):
    out = {"approvals": layer(["皖政地〔2023〕1号"], [rect(200, 0, 220, 20)],
                              date=pd.to_datetime(["2023-01-10"])),
           # all of it 乔木林地 (0301): no farmland rule reads more than permanent farmland
           "landuse": layer(["T1"], [rect(-10, -10, 400, 60)], **{"class": ["0301"]})}
    if with_pf:
        out["permanent_farmland"] = layer(["F1"], [rect(-10, -10, 200, 60)])
    return out


def run(with_pf: bool, mode: str = "review"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = screen(patches(), reference(with_pf), reference_date=AS_OF, families=FAMILIES,
                        missing_layers=mode)
    said = (DataWarning, MissingLayerWarning)
    return result.verdicts.set_index("id"), [str(w.message) for w in caught
                                             if issubclass(w.category, said)]


def test_with_the_layer_the_park_on_permanent_farmland_is_illegal():
    v, said = run(with_pf=True)
    assert v.loc["P2", "verdict"] == "illegal"
    assert "farmland.four_prohibitions" in v.loc["P2", "rules"]
    assert not any("permanent_farmland" in s and "has no" in s for s in said)
    assert "占永久基本农田2000平方米" in v.loc["P1", "reasons_zh"]
    assert "生态保护红线（未核查）平方米" in v.loc["P1", "reasons_zh"]  # no red-line layer either
    assert not any("engine.not_checked" in r for r in v["rules"])


def test_without_the_layer_said_once_up_front_naming_layer_and_rules():
    _, said = run(with_pf=False)
    about = [s for s in said if "permanent_farmland" in s and "has no" in s]
    assert len(about) == 1
    assert "永久基本农田" in about[0] and "farmland.four_prohibitions" in about[0]
    assert "[layers.permanent_farmland]" in about[0]


def test_without_the_layer_a_rule_that_could_fire_makes_the_patch_needs_review():
    v, _ = run(with_pf=False)
    # the nursery could be on permanent farmland: not the milder verdict, review with why
    assert v.loc["P2", "verdict"] == "needs_review"
    assert v.loc["P2", "rules"][-1] == "engine.not_checked"
    assert v.loc["P2", "reasons_zh"].endswith("未核查：缺少永久基本农田图层，相关规则无法判定")
    assert "not checked: no permanent_farmland layer" in v.loc["P2", "reasons_en"]
    assert v.loc["P2", "review_m2"] == pytest.approx(v.loc["P2", "area_m2"])


@pytest.mark.parametrize("mode", ["warn", "review"])
def test_without_the_layer_placeholders_say_not_checked_instead_of_a_question_mark(mode):
    v, _ = run(with_pf=False, mode=mode)
    p1 = v.loc["P1"]
    assert p1["verdict"] == "illegal"  # unapproved construction is decided without it
    assert "占永久基本农田（未核查）平方米" in p1["reasons_zh"]
    assert "(not checked) m² on permanent farmland" in p1["reasons_en"]
    assert "?" not in p1["reasons_zh"] and "?" not in p1["reasons_en"]


def test_facts_of_the_missing_layer_are_null_not_zero():
    result = screen(patches(), reference(False), reference_date=AS_OF, families=FAMILIES,
                    missing_layers="review")
    facts = result.facts
    assert facts["permanent_farmland_m2"].isna().all()
    assert facts["facility_on_pf_m2"].isna().all()  # measured from facility_ag and pf
    assert facts["approved_m2"].notna().all()  # a cover role that is there


def test_a_complete_layer_set_changes_nothing():
    # the demo county has every layer its rules read: no rule is reported absent
    from landcheck.layers import LayerSet

    pack = load_rules("city2023").for_subject("patches")
    layers = LayerSet.from_config(SAMPLES / "county.toml")
    missing = absent_roles(pack.rules, layers.roles, layers.role_set)
    assert missing == {}


def test_a_missing_approvals_layer_is_named_too():
    pack = load_rules("city2023").for_subject("patches")
    missing = absent_roles(pack.rules, ["permanent_farmland", "landuse"])
    assert "approvals" in missing["legality.approved"]


@pytest.mark.parametrize(("column", "roles"), [
    ("permanent_farmland_ids", ("permanent_farmland",)),
    ("forest_public_welfare_national_m2", ("forest",)),
    ("lu_farmland_m2", ("landuse",)),
    ("farmland_or_pf_m2", ("landuse", "permanent_farmland")),
    ("remainder_redline_m2", ("eco_redline",)),
    ("approval_late_ids", ("approvals",)),
    ("temporary_expired_m2", ("temporary_land",)),
    ("belt_excess_m2", ("corridors",)),
    ("type_category", ()),
])
def test_fact_roles(column, roles):
    assert fact_roles(column) == roles


def test_not_checked_only_where_the_missing_facts_decide():
    """A condition decided without the missing facts (false and null = false) is decided."""
    pack = load_rules("city2023").for_subject("patches")
    rule = next(r for r in pack.rules if r.id == "farmland.four_prohibitions")
    facts = pd.DataFrame({
        "geom_ok": [True, True, False],
        "type_category": pd.array(["nursery", "construction", "nursery"], dtype="string"),
        "permanent_farmland_m2": [np.nan, np.nan, np.nan],
        "facility_on_pf_m2": [np.nan, 0.0, np.nan],
        "facility_m2": [0.0, 0.0, 0.0],
        "area_m2": [2000.0, 2000.0, 2000.0],
    })
    ranks = {"illegal": 4, "needs_review": 3, "legal": 2, "other": 1}
    absent = {rule.id: ("permanent_farmland",)}
    facts = null_absent(facts, absent)
    hit, zh, _ = not_checked(facts, [rule], absent, np.array([1, 1, 1]), ranks)
    # park: could be on pf; construction: not a prohibited type and no filing on pf;
    # bad geometry: geom_ok false decides it
    assert hit.tolist() == [True, False, False]
    assert zh[1] == "" and "永久基本农田" in zh[0]


def test_in_warn_mode_the_verdicts_stay_and_the_warning_says_how_to_review():
    v, said = run(with_pf=False, mode="warn")
    assert not any("engine.not_checked" in r for r in v["rules"])
    about = next(s for s in said if "permanent_farmland" in s and "has no" in s)
    assert "--missing-layers review" in about


def test_the_cli_option_reaches_the_run(tmp_path):
    from click.testing import CliRunner

    from landcheck.cli.main import cli

    config = (SAMPLES / "county.toml").read_text(encoding="utf-8")
    start = config.index("[layers.permanent_farmland]")
    end = config.index("[layers.town_boundary]")
    config = config[:start] + config[end:]
    config = config.replace('path = "county/', f'path = "{SAMPLES.as_posix()}/county/')
    (tmp_path / "c.toml").write_text(config, encoding="utf-8")
    out = tmp_path / "o.gpkg"
    res = CliRunner().invoke(cli, ["screen", "--layers", str(tmp_path / "c.toml"), "--as-of",
                                   AS_OF, "-o", str(out), "--missing-layers", "review"])
    assert res.exit_code == 0, res.output
    import pyogrio

    v = pyogrio.read_dataframe(out, layer="verdicts")
    reviewed = v["rules"].astype(str).str.contains("engine.not_checked")
    assert reviewed.any() and (v.loc[reviewed, "verdict"] == "needs_review").all()
