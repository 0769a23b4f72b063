"""screen(): the API on tiny layers, parametrised inputs, outputs, and the CLI on the county."""

from __future__ import annotations

import warnings

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landcheck import MU_M2
from landcheck.area import official_area
from landcheck.cli.main import cli
from landcheck.errors import DuplicateIdError, OutputExistsError, RuleError
from landcheck.screen import screen
from landcheck.testing import SAMPLES, assert_areas_add_up, layer, rect

CRS = "EPSG:4527"


def oa(g):
    return float(official_area([g], crs=CRS)[0])


def tiny(after="2023-06-30", type_="20"):
    """One 40 m × 50 m patch: west half approved, east half on permanent farmland."""
    patches = layer(
        ["P1"],
        [rect(0, 0, 40, 50)],
        type=[type_],
        before=pd.to_datetime(["2022-12-31"]),
        after=pd.to_datetime([after]),
    )
    layers = {
        "approvals": layer(
            ["皖政地〔2023〕1号"], [rect(0, 0, 20, 50)], date=pd.to_datetime(["2023-01-10"])
        ),
        "permanent_farmland": layer(["F1"], [rect(20, -10, 60, 60)]),
    }
    return patches, layers


def test_half_approved_half_on_permanent_farmland():
    patches, layers = tiny()
    r = screen(patches, layers, reference_date="2023-09-30")
    v = r.verdicts.iloc[0]
    assert v["verdict"] == "illegal"
    assert v["legal_m2"] == pytest.approx(oa(rect(0, 0, 20, 50)), rel=1e-9)
    assert v["illegal_m2"] == pytest.approx(oa(rect(20, 0, 40, 50)), rel=1e-9)
    assert v["illegal_pf_m2"] == pytest.approx(oa(rect(20, 0, 40, 50)), rel=1e-9)
    assert v["rules"] == ["legality.approved", "legality.unapproved_construction"]
    assert "未批先建" in v["reasons_zh"] and "without approval" in v["reasons_en"]
    assert sorted(r.fragments["part"]) == ["legal", "rest"]
    assert_areas_add_up(r.verdicts)


def test_garbage_collector_is_paused_from_facts_to_fragments(monkeypatch):
    import gc
    import importlib

    # the module: the package's own `screen` attribute is the function
    sc = importlib.import_module("landcheck.chain")
    seen = []
    real = sc.fragments

    def spy(*args):
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(sc, "fragments", spy)
    patches, layers = tiny()
    assert gc.isenabled()
    screen(patches, layers, reference_date="2023-09-30", threads=1)
    assert seen == [False] and gc.isenabled()

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(sc, "fragments", broken)
    with pytest.raises(RuntimeError, match="boom"):
        screen(patches, layers, reference_date="2023-09-30", threads=1)
    assert gc.isenabled()


def test_approval_after_construction_is_built_before_approval():
    patches, layers = tiny(after="2023-01-09")  # approval dated the next day
    v = screen(patches, layers).verdicts.iloc[0]
    assert "legality.built_before_approval" in v["rules"]
    assert v["illegal_m2"] == pytest.approx(oa(rect(20, 0, 40, 50)), rel=1e-9)
    assert "先建后批" in v["reasons_zh"]


def test_parameter_override_changes_the_verdict():
    patches, layers = tiny()
    # remainder 1000 m² with cut 50 m: band = sliver + 0.5 × 50; a huge sliver makes it noise
    r = screen(patches, layers, overrides={"legality.sliver_m2": 5000.0})
    assert r.verdicts.iloc[0]["verdict"] == "other"  # nothing above the sliver: no rule fires
    assert r.provenance["rules"]["overrides"] == {"legality.sliver_m2": 5000.0}


def test_unknown_override_is_an_error_naming_what_exists():
    patches, layers = tiny()
    with pytest.raises(RuleError, match="sliver_m2"):
        screen(patches, layers, overrides={"legality.slivr_m2": 5.0})


def test_duplicate_patch_ids_refused():
    patches, layers = tiny()
    both = pd.concat([patches, patches], ignore_index=True)
    with pytest.raises(DuplicateIdError, match="P1"):
        screen(gpd.GeoDataFrame(both, crs=CRS), layers)


def test_inputs_not_mutated():
    patches, layers = tiny()
    before = patches.copy(), {k: v.copy() for k, v in layers.items()}
    screen(patches, layers)
    pd.testing.assert_frame_equal(patches, before[0])
    for k in layers:
        pd.testing.assert_frame_equal(layers[k], before[1][k])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.floats(1, 39),
    pf=st.floats(0, 40),
    after_ok=st.booleans(),
    type_=st.sampled_from(["20", "YH", "KT", "GF", "01", "ND", "XX"]),
)
def test_split_areas_always_add_up(cut, pf, after_ok, type_):
    patches = layer(
        ["P"],
        [rect(0, 0, 40, 50)],
        type=[type_],
        before=pd.to_datetime(["2022-01-01"]),
        after=pd.to_datetime(["2023-06-30"]),
    )
    layers = {
        "approvals": layer(
            ["A"],
            [rect(0, 0, cut, 50)],
            date=pd.to_datetime(["2023-01-01" if after_ok else "2023-12-01"]),
        ),
        "permanent_farmland": layer(["F"], [rect(40 - pf, 0, 40, 50)]),
        "landuse": layer(
            ["L1", "L2"],
            [rect(-10, -10, 20, 60), rect(20, -10, 60, 60)],
            **{"class": ["0101", "0702"]},
        ),
    }
    v = screen(patches, layers).verdicts
    assert_areas_add_up(v)
    row = v.iloc[0]
    assert 0 <= row["legal_m2"] <= row["area_m2"] + 1e-6
    assert row["illegal_pf_m2"] <= row["illegal_m2"] + 1e-6


@pytest.fixture(scope="module")
def county_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("county")
    runner = CliRunner()
    args = [
        "screen",
        "--layers",
        str(SAMPLES / "county.toml"),
        "-o",
        str(out / "v.gpkg"),
        "--xlsx",
        str(out / "ledger.xlsx"),
        "--as-of",
        "2023-09-30",
    ]
    result = runner.invoke(cli, args)
    return out, result, args


def test_cli_screen_writes_gpkg_and_ledger(county_run):
    out, result, _ = county_run
    assert result.exit_code == 0, result.output
    assert "309 features" in result.output and "could not be judged" in result.output
    names = [n for n, _ in pyogrio.list_layers(out / "v.gpkg")]
    assert {"verdicts", "fragments", "metadata"} <= set(names)
    v = gpd.read_file(out / "v.gpkg", layer="verdicts")
    assert len(v) == 309 and v["id"].is_unique
    meta = pyogrio.read_dataframe(out / "v.gpkg", layer="metadata")
    assert "rules" in set(meta["key"]) and "inputs" in set(meta["key"])
    wb = openpyxl.load_workbook(out / "ledger.xlsx")
    assert wb.sheetnames[0] == "汇总 Summary"
    assert any("城关镇" in s for s in wb.sheetnames)
    towns = [s for s in wb.sheetnames if s[:1].isdigit()]
    sheet = wb[towns[0]]
    header = [c.value for c in sheet[4]]  # title, pack line, codes, Chinese headers
    assert "监测编号" in header and "判定结果" in header
    assert sheet["A3"].value == "id"
    total_rows = sum(wb[s].max_row - 5 for s in towns)  # less the totals row
    assert total_rows == 309


def test_ledger_mu_is_area_over_two_thousand_thirds(county_run):
    out, _, _ = county_run
    v = gpd.read_file(out / "v.gpkg", layer="verdicts")
    wb = openpyxl.load_workbook(out / "ledger.xlsx")
    sheet = wb[next(s for s in wb.sheetnames if s[:1].isdigit())]
    header = [c.value for c in sheet[4]]
    row = [c.value for c in sheet[5]]
    pid = row[header.index("监测编号")]
    area = float(v.loc[v["id"] == pid, "area_m2"].iloc[0])
    assert row[header.index("图斑面积/亩")] == round(area / MU_M2, 2)


def test_cli_refuses_to_overwrite(county_run):
    out, _, args = county_run
    before = (out / "v.gpkg").stat().st_mtime_ns
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "--overwrite" in result.output
    assert (out / "v.gpkg").stat().st_mtime_ns == before


def test_cli_fail_on_illegal_exit_3(tmp_path):
    args = [
        "-q",
        "screen",
        "--layers",
        str(SAMPLES / "county.toml"),
        "-o",
        str(tmp_path / "v.gpkg"),
        "--as-of",
        "2023-09-30",
        "--fail-on-illegal",
        "--family",
        "legality",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, result.output


def test_cli_bad_set_is_a_clear_error(tmp_path):
    args = [
        "screen",
        "--layers",
        str(SAMPLES / "county.toml"),
        "-o",
        str(tmp_path / "v.gpkg"),
        "--set",
        "legality.nope=3",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "nope" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "v.gpkg").exists()


def test_result_writers_refuse_existing(tmp_path):
    patches, layers = tiny()
    r = screen(patches, layers)
    r.to_gpkg(tmp_path / "a.gpkg")
    with pytest.raises(OutputExistsError):
        r.to_gpkg(tmp_path / "a.gpkg")
    r.to_xlsx(tmp_path / "a.xlsx")
    with pytest.raises(OutputExistsError):
        r.to_xlsx(tmp_path / "a.xlsx")
    assert "1 patches" in repr(r) and "<table" in r._repr_html_()


def test_list_columns_become_joined_text_for_the_geopackage():
    import numpy as np

    from landcheck.report.gpkg import flatten_lists

    df = pd.DataFrame({
        "ids": pd.Series([None, ["A", "B"], [], ("C",), np.array([7, 8]), float("nan")],
                         dtype=object),
        "nums": pd.Series([[1, 2], None, [3], [], [10], [0]], dtype=object),
        "text": ["a", "b", None, "d", "e", "f"],
        "area": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    out = flatten_lists(df)
    assert out["ids"].tolist()[1:5] == ["A;B", "", "C", "7;8"]
    assert pd.isna(out["ids"].iloc[0]) and pd.isna(out["ids"].iloc[5])
    assert out["nums"].tolist()[2:] == ["3", "", "10", "0"] and out["nums"].iloc[0] == "1;2"
    pd.testing.assert_series_equal(out["text"], df["text"])
    pd.testing.assert_series_equal(out["area"], df["area"])
    assert isinstance(df["ids"].iloc[1], list)  # the input is left as it was


def test_screen_accepts_a_config_path_and_patch_path():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = screen(
            SAMPLES / "county" / "patches.gpkg",
            SAMPLES / "county.toml",
            families=["farmland"],
            reference_date="2023-09-30",
        )
    assert len(r.verdicts) == 309
    assert {x.family for x in r.pack.rules} == {"farmland"}


def _random_scene(data):
    """Random rectangles on a 10 m grid: patches, overlapping approvals, farmland, land use."""
    def rects(n, lo=1, hi=8):
        out = []
        for _ in range(n):
            x = data.draw(st.integers(0, 20)) * 10.0
            y = data.draw(st.integers(0, 20)) * 10.0
            w = data.draw(st.integers(lo, hi)) * 10.0
            h = data.draw(st.integers(lo, hi)) * 10.0
            out.append(rect(x, y, x + w, y + h))
        return out

    n = data.draw(st.integers(1, 6))
    types = data.draw(st.lists(st.sampled_from(["20", "YH", "KT", "GF", "02", "SS"]),
                               min_size=n, max_size=n))
    patches = layer([f"P{i}" for i in range(n)], rects(n), type=types,
                    before=pd.to_datetime(["2022-01-01"] * n),
                    after=pd.to_datetime(["2023-06-30"] * n))
    k = data.draw(st.integers(0, 4))
    dates = data.draw(st.lists(st.sampled_from(["2023-01-01", "2023-12-01"]), min_size=k,
                               max_size=k))
    layers = {
        "approvals": layer([f"A{i}" for i in range(k)], rects(k), date=pd.to_datetime(dates)),
        "permanent_farmland": layer(["F0", "F1"], rects(2, 3, 12)),
        "landuse": layer(["L0", "L1"], [rect(-10, -10, 150, 400), rect(150, -10, 400, 400)],
                         **{"class": ["0101", "0702"]}),
    }
    return patches, layers


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fragments_add_up_and_order_and_chunking_do_not_matter(data):
    patches, layers = _random_scene(data)
    r = screen(patches, layers, reference_date="2023-09-30")
    assert_areas_add_up(r.verdicts)
    frag = r.fragments[r.fragments["child_id"].notna()]  # the child plots
    assert set(frag["part"]) <= {"whole", "legal", "rest"}
    sums = frag.groupby("parent_id")["area_m2"].sum()
    area = r.verdicts.set_index("id")["area_m2"]
    # the children add up to the parent exactly (the rest is the complement)
    assert sums.reindex(area.index).to_numpy() == pytest.approx(area.to_numpy(), rel=1e-12,
                                                                abs=1e-9)
    cols = ["verdict", "legal_m2", "illegal_m2", "review_m2", "other_m2"]
    base = r.verdicts.set_index("id")[[*cols, "rules"]]
    # reversed row order
    rev = screen(patches.iloc[::-1].reset_index(drop=True), layers).verdicts.set_index("id")
    pd.testing.assert_frame_equal(rev.loc[base.index, [*cols, "rules"]], base)
    # patches screened in two chunks give the same verdicts as all at once
    if len(patches) > 1:
        half = len(patches) // 2
        parts = [screen(patches.iloc[:half], layers).verdicts,
                 screen(patches.iloc[half:].reset_index(drop=True), layers).verdicts]
        chunked = pd.concat(parts).set_index("id")
        pd.testing.assert_frame_equal(chunked.loc[base.index, [*cols, "rules"]], base)


@pytest.mark.parametrize("threads, chunk_size", [(1, 40), (2, 50), (2, 1000)])
def test_chunked_threaded_engine_gives_identical_results(threads, chunk_size):
    cfg = SAMPLES / "county.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = screen(None, cfg, reference_date="2023-09-30", threads=1, chunk_size=10**9)
        many = screen(None, cfg, reference_date="2023-09-30", threads=threads,
                      chunk_size=chunk_size)
    cols = ["id", "verdict", "rules", "legal_m2", "illegal_m2", "review_m2", "other_m2",
            "due_date"]
    pd.testing.assert_frame_equal(pd.DataFrame(one.verdicts[cols]),
                                  pd.DataFrame(many.verdicts[cols]))
    assert one.verdicts.geometry.geom_equals(many.verdicts.geometry).all()
    pd.testing.assert_frame_equal(one.fragments.drop(columns="geometry"),
                                  many.fragments.drop(columns="geometry"))


def test_engine_options_are_checked():
    patches, layers = tiny()
    with pytest.raises(ValueError, match="threads and chunk_size"):
        screen(patches, layers, threads=0)


def test_photovoltaic_on_approved_farmland_stays_whole_and_adds_up():
    """A patch-wide illegal rule over an approval: the legal part is not the cover geometry,
    so the patch is one fragment (found by the fragments property test)."""
    patches = layer(["P"], [rect(110, 0, 180, 10)], type=["GF"],
                    before=pd.to_datetime(["2022-01-01"]), after=pd.to_datetime(["2023-06-30"]))
    layers = {
        "approvals": layer(["A"], [rect(100, 0, 180, 10)], date=pd.to_datetime(["2023-01-01"])),
        "landuse": layer(["L0", "L1"], [rect(-10, -10, 150, 400), rect(150, -10, 400, 400)],
                         **{"class": ["0101", "0702"]}),
    }
    r = screen(patches, layers)
    v = r.verdicts.iloc[0]
    assert v["verdict"] == "illegal"
    assert v["illegal_m2"] == pytest.approx(oa(rect(110, 0, 150, 10)), rel=1e-9)
    assert v["legal_m2"] == pytest.approx(v["area_m2"] - v["illegal_m2"], rel=1e-12)
    assert r.fragments["part"].tolist() == ["whole"]
    assert r.fragments["area_m2"].sum() == pytest.approx(v["area_m2"], rel=1e-12)
    assert_areas_add_up(r.verdicts)
