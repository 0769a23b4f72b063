"""Acceptance tests on the bundled demo county 示范县 (data/samples/).

Every role of ``county.toml`` is read through the layer set; text, codes, CRS and provenance
are checked against what the sample README promises; areas are checked against the county's
exact 8 km x 6 km planar extent and the Gauss-Kruger scale factor; ``landcheck inspect`` runs on
the config; and the generator must reproduce the committed files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

import landcheck
from landcheck.area import round_half_up
from landcheck.cli.main import cli
from landcheck.errors import CRSWarning, EncodingGuessWarning, GeometryWarning
from landcheck.layers import ROLES
from landcheck.testing import SAMPLES

REPO = Path(__file__).parents[1]
CONFIG = SAMPLES / "county.toml"
COUNTY = SAMPLES / "county"

WORKING_CRS = pyproj.CRS("EPSG:4527")
#: Features per role, from data/samples/README.md.
ROLE_COUNTS = {
    "landuse": 2630, "permanent_farmland": 164, "town_boundary": 1, "village_zone": 25,
    "general_ag_zone": 50, "eco_redline": 3, "approvals": 29, "facility_ag": 17,
    "temporary_land": 18, "forest": 73, "corridors": 13, "buildings": 690, "projects": 27,
    "development_plans": 14, "townships": 5, "geohazard": 2, "minerals": 2, "roads_before": 16,
    "temporary_footprints": 12,
}
TOWNSHIPS = {"349901001": "城关镇", "349901002": "东湖镇", "349901003": "西山乡",
             "349901004": "南岗镇", "349901005": "北河乡"}
BOWTIE, EMPTY = "3499012023Q3000217", "3499012023Q3000267"  # cases G1, G2
HOLE = "3499012023Q3000218"  # case G4, polygon with a hole
CODE = r"\d{2}[0-9H]\d[AK]?"  # GB/T 21010-2017 and third-survey work codes: 0101, 05H1, 1104A
MOJIBAKE = re.compile("[\ufffd\u00c0-\u00ff]")  # replacement char or latin-1 letters



@pytest.fixture(scope="module")
def layerset():
    return landcheck.LayerSet.from_config(CONFIG)


def read_quietly(layerset, role):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = layerset.read(role)
    return gdf, caught


@pytest.fixture(scope="module")
def landuse(layerset):
    return read_quietly(layerset, "landuse")[0]


@pytest.fixture(scope="module")
def patches(layerset):
    return read_quietly(layerset, "patches")


# --- the config ---------------------------------------------------------------------------


def test_config_validates_with_every_role(layerset):
    assert layerset.name == "示范县 2023年第三季度卫片"
    assert pyproj.CRS(layerset.crs) == WORKING_CRS
    assert layerset.patches is not None and layerset.patches.role == "patches"
    assert sorted(layerset.roles) == sorted(ROLE_COUNTS)
    for role in layerset.roles:
        spec = layerset.spec(role)
        assert spec.path.is_relative_to(COUNTY.resolve()), role
        assert spec.path.exists(), role
    assert layerset.spec("approvals").encoding == "GB18030"
    assert layerset.spec("permanent_farmland").crs == "EPSG:4527"


@pytest.mark.parametrize("role", ["patches", *ROLE_COUNTS])
def test_every_role_reads_with_canonical_fields(layerset, role):
    gdf, _ = read_quietly(layerset, role)
    spec = layerset.spec(role)
    assert len(gdf) == ROLE_COUNTS.get(role, 309)
    # canonical columns first, in the role's order; the file's names are gone
    canonical = [c for c in ROLES[role].fields if c in spec.fields]
    assert list(gdf.columns[: len(canonical)]) == canonical
    if role == "patches":  # the patch file's own fields are kept, as read, after them
        raw = pyogrio.read_info(spec.path, layer=spec.layer)["fields"].tolist()
        assert list(gdf.columns[-len(raw):]) == raw
    else:
        for source in spec.fields.values():
            assert source not in gdf.columns
    assert gdf.crs == WORKING_CRS
    info = landcheck.source_info(gdf)
    assert info is not None
    assert Path(info.path) == spec.path
    assert re.fullmatch("[0-9a-f]{64}", info.sha256)
    assert info.crs == "EPSG:4527"
    assert info.n_features == len(gdf)
    assert info.layer == spec.layer
    assert info.encoding in ("UTF-8", "GB18030")
    if "id" in spec.fields:
        assert gdf["id"].is_unique


def test_development_plan_parts_group_by_plan(layerset):
    plans = read_quietly(layerset, "development_plans")[0]
    assert list(plans.columns[:4]) == ["plan", "kind", "use", "name"]
    assert (len(plans), plans["plan"].nunique()) == (14, 6)
    assert set(plans["kind"]) == {"industry", "mixed"}
    assert "public_interest" in set(plans["use"])


def test_source_info_records_how_each_format_was_read(layerset):
    infos = {role: landcheck.source_info(read_quietly(layerset, role)[0])
             for role in ("patches", "landuse", "permanent_farmland", "approvals", "forest")}
    assert (infos["landuse"].driver, infos["landuse"].layer) == ("OpenFileGDB", "DLTB")
    assert (infos["patches"].driver, infos["patches"].layer) == ("GPKG", "patches_2023q3")
    assert infos["forest"].driver == "GPKG"
    for role in ("patches", "landuse", "forest"):
        assert (infos[role].encoding, infos[role].encoding_how) == ("UTF-8", "format")
        assert infos[role].crs_how == "file"
    # yjjbnt.shp: UTF-8 with a .cpg, no .prj: the CRS comes from the config's `crs`
    pf = infos["permanent_farmland"]
    assert pf.driver == "ESRI Shapefile"
    assert (pf.encoding, pf.encoding_how) == ("UTF-8", "cpg")
    assert (pf.crs, pf.crs_how) == ("EPSG:4527", "argument")
    # pz.shp: GBK without .cpg, declared in the config; its CRS is the .prj's
    pz = infos["approvals"]
    assert (pz.encoding, pz.encoding_how) == ("GB18030", "argument")
    assert pz.crs_how == "file"


def test_pz_without_cpg_is_sniffed_as_gb18030_with_a_warning(layerset):
    with pytest.warns(EncodingGuessWarning) as record:
        gdf = landcheck.read_layer(COUNTY / "pz.shp")
    message = str(record[0].message)
    assert "pz.shp" in message and "no .cpg" in message and "GB18030" in message
    assert "encoding=" in message  # says what to do
    info = landcheck.source_info(gdf)
    assert (info.encoding, info.encoding_how) == ("GB18030", "sniffed")
    # the same text as with the config's explicit encoding
    declared = read_quietly(layerset, "approvals")[0]
    assert gdf["PZWH"].tolist() == declared["id"].tolist()
    assert gdf["XMMC"].tolist() == declared["name"].tolist()


def test_yjjbnt_without_prj_is_detected_from_the_zone_prefix():
    with pytest.warns(CRSWarning, match=r"yjjbnt\.shp") as record:
        gdf = landcheck.read_layer(COUNTY / "yjjbnt.shp")
    assert "zone" in str(record[0].message)
    info = landcheck.source_info(gdf)
    assert (info.crs, info.crs_how) == ("EPSG:4527", "detected")
    assert "39" in info.crs_detail


# --- text, codes and dates ------------------------------------------------------------------


def test_chinese_text_decodes_exactly(layerset):
    pz = read_quietly(layerset, "approvals")[0]
    assert pz["name"].iloc[0] == "示范县2022年度第2批次城镇建设用地"
    assert pz["name"].str.startswith("示范县").sum() == 26
    assert set(pz["name"][~pz["name"].str.startswith("示范县")]) == {
        "北河乡集镇2022年度第1批次", "南岗镇工业集中区2021年度第2批次", "东湖镇2022年度第4批次"}
    assert pz["id"].iloc[0] == "皖政地〔2022〕47号"
    assert pz["id"].str.fullmatch(r"(皖政地|示政供)〔20\d\d〕\d+号").all(), pz["id"].tolist()
    assert set(pz["kind"]) == {"conversion", "expropriation", "supply"}
    townships = read_quietly(layerset, "townships")[0]
    assert dict(zip(townships["id"], townships["name"], strict=True)) == TOWNSHIPS
    forest = read_quietly(layerset, "forest")[0]
    assert set(forest["class"]) <= {"public_welfare_national", "public_welfare_provincial",
                                    "commercial"}
    for role, column in [("approvals", "name"), ("townships", "name"), ("corridors", "MC"),
                         ("permanent_farmland", "ZLDWMC")]:
        text = read_quietly(layerset, role)[0][column].dropna()
        assert not text.str.contains(MOJIBAKE).any(), (role, column)


def test_land_use_codes_are_text_with_leading_zeros(landuse):
    assert pd.api.types.is_string_dtype(landuse["class"])
    codes = set(landuse["class"])
    assert {"0101", "0102", "0103", "0201K", "1104A", "1006", "05H1"} <= codes
    assert all(re.fullmatch(CODE, c) for c in codes), sorted(codes)
    assert landuse.loc[landuse["class"] == "0101", "name"].eq("水田").all()
    assert landuse["township"].str.fullmatch(r"3499010\d{2}000").all()
    assert landuse["id"].str.fullmatch(r"349901\d{10}").all()
    assert set(landuse["planting"].dropna()) - {""} <= {"LS", "FLS", "LYFL", "LLJZ", "XG", "WG"}


def test_patch_fields_are_typed(patches):
    gdf, _ = patches
    assert pd.api.types.is_string_dtype(gdf["id"]) and pd.api.types.is_string_dtype(gdf["type"])
    assert gdf["id"].str.fullmatch(r"3499012023Q3\d{6}").all()
    assert pd.api.types.is_string_dtype(gdf["class"])
    assert gdf["class"].dropna().str.fullmatch(CODE).all()
    for column in ("before", "after", "issued"):
        assert pd.api.types.is_datetime64_any_dtype(gdf[column]), column
    assert set(gdf["level"].dropna()) == {"ministry", "province", "city"}


def test_patches_keep_and_report_the_bowtie_and_the_empty_geometry(patches):
    gdf, caught = patches
    assert len(gdf) == 309
    geometry = gdf.set_index("id").geometry
    assert not geometry[BOWTIE].is_valid
    assert geometry[EMPTY] is None or geometry[EMPTY].is_empty
    messages = [str(w.message) for w in caught if issubclass(w.category, GeometryWarning)]
    assert len(messages) == 2, messages
    invalid = next(m for m in messages if "invalid" in m)
    empty = next(m for m in messages if "empty" in m)
    assert "patches.gpkg" in invalid and BOWTIE in invalid and "Self-intersection" in invalid
    assert "patches.gpkg" in empty and EMPTY in empty
    valid = shapely.is_valid(gdf.geometry.values) & ~shapely.is_empty(gdf.geometry.values)
    assert int(valid.sum()) == 307
    notes = " ".join(landcheck.source_info(gdf).notes)
    assert BOWTIE in notes and EMPTY in notes


# --- areas ----------------------------------------------------------------------------------


def test_landuse_is_an_exact_coverage_of_the_county(landuse):
    planar = landcheck.planar_area(landuse.geometry, crs=landuse.crs)
    assert planar.sum() == pytest.approx(48_000_000.0, rel=1e-12)
    union = shapely.union_all(landuse.geometry.values)
    assert union.equals(shapely.box(39_505_600, 3_515_000, 39_513_600, 3_521_000))


def test_official_total_differs_from_planar_by_the_zone_scale_factor(landuse):
    official = landcheck.official_area(landuse.geometry, crs=landuse.crs)
    planar = landcheck.planar_area(landuse.geometry, crs=landuse.crs)
    # the county centre, local (4000, 3000): about 117.101°E 31.785°N, 9.6 km east of the
    # central meridian 117°E; the areal scale k² of the GK projection there, independently
    lon, lat = pyproj.Transformer.from_crs(WORKING_CRS, WORKING_CRS.geodetic_crs,
                                           always_xy=True).transform(39_509_600, 3_518_000)
    areal_scale = pyproj.Proj(WORKING_CRS).get_factors(lon, lat).areal_scale
    assert 2.2e-6 < areal_scale - 1 < 2.35e-6
    ratio = official.sum() / planar.sum()
    # k² varies as 1 + x²/R² over eastings 5.6..13.6 km from the meridian; the mean of x² over
    # the county differs from x² at its centre by ~5e6 m², i.e. 1.3e-7 (measured: 1.32e-7)
    assert ratio * areal_scale == pytest.approx(1.0, abs=2e-7)
    assert 48_000_000.0 - official.sum() == pytest.approx(115.4, abs=0.1)


def test_landuse_tbmj_is_the_official_area_rounded(landuse):
    """TBMJ is the official area (survey3) rounded half up to 0.01 m² (sample README)."""
    official = landcheck.official_area(landuse.geometry, crs=landuse.crs)
    tbmj = landuse["TBMJ"].to_numpy()
    np.testing.assert_array_equal(round_half_up(official, 2), tbmj)
    # the densified official area follows the geodesic one: measured max 0.014 m² (4.2e-6 of
    # a small parcel); the 2008 method without densification is off by up to 0.147 m² on a
    # parcel whose long east-west side faces several short ones
    geodesic = landcheck.geodesic_area(landuse.geometry, crs=landuse.crs)
    assert np.abs(official - geodesic).max() < 0.02
    survey2 = landcheck.official_area(landuse.geometry, crs=landuse.crs, method="survey2")
    assert 0.1 < np.abs(survey2 - geodesic).max() < 0.16
    assert official.sum() == pytest.approx(geodesic.sum(), rel=1e-9)


def test_permanent_farmland_area_field(layerset):
    pf = read_quietly(layerset, "permanent_farmland")[0]
    official = landcheck.official_area(pf.geometry, crs=pf.crs)
    np.testing.assert_array_equal(round_half_up(official, 2), pf["JBNTMJ"].to_numpy())
    # measured: survey3 within 0.008 m² of the geodesic area; survey2 0.90 m² off on the
    # 24.9 ha parcel at the east edge (one 500 m east-west edge opposite five short ones)
    geodesic = landcheck.geodesic_area(pf.geometry, crs=pf.crs)
    assert np.abs(official - geodesic).max() < 0.01
    survey2 = landcheck.official_area(pf.geometry, crs=pf.crs, method="survey2")
    assert 0.8 < np.abs(survey2 - geodesic).max() < 0.95


def test_jcmj_is_the_planar_area_rounded(patches):
    gdf, _ = patches
    planar = landcheck.planar_area(gdf.geometry, crs=gdf.crs)
    ok = shapely.is_valid(gdf.geometry.values) & ~shapely.is_empty(gdf.geometry.values)
    assert np.abs(planar[ok] - gdf["area"].to_numpy()[ok]).max() <= 0.005 + 1e-9


@pytest.fixture(scope="module")
def patch_facts(patches):
    gdf, _ = patches
    facts = pd.read_csv(SAMPLES / "PATCH_FACTS.csv", dtype={"JCBH": str, "case": str})
    merged = gdf.merge(facts, left_on="id", right_on="JCBH", validate="1:1")
    assert len(merged) == 309
    return merged[merged["area_m2"].notna()].reset_index(drop=True)


def test_patch_facts_match_the_geometry_except_the_hole(patch_facts):
    facts = patch_facts[patch_facts["id"] != HOLE]
    planar = landcheck.planar_area(facts.geometry, crs=facts.crs)
    geodesic = landcheck.geodesic_area(facts.geometry, crs=facts.crs)
    official = landcheck.official_area(facts.geometry, crs=facts.crs)
    assert np.abs(planar - facts["area_m2"].to_numpy()).max() <= 0.005 + 1e-9
    assert np.abs(official - facts["ellipsoidal_m2"].to_numpy()).max() <= 0.005 + 1e-6
    assert np.abs(geodesic - facts["ellipsoidal_m2"].to_numpy()).max() <= 0.02


def test_patch_facts_ellipsoidal_area_of_the_polygon_with_a_hole(patch_facts):
    row = patch_facts[patch_facts["id"] == HOLE]
    assert row["area_m2"].iloc[0] == 3200.0
    official = landcheck.official_area(row.geometry, crs=row.crs)[0]
    assert official == pytest.approx(3199.99, abs=0.01)
    assert row["ellipsoidal_m2"].iloc[0] == pytest.approx(official, abs=0.01)


# --- the CLI --------------------------------------------------------------------------------


def test_cli_inspect_lists_every_role(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["inspect", "data/samples/county.toml"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for role in ["patches", *ROLE_COUNTS]:
        assert f"[{role}] " in result.output, role
    assert "EPSG:4527" in result.output and "OpenFileGDB" in result.output
    assert "GB18030" in result.output


def test_cli_inspect_json(monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["inspect", "--json", "data/samples/county.toml"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    reports = {r["role"]: r for r in out["layers"]}
    assert not [p for p in out["problems"] if p["level"] == "error"]
    assert set(reports) == {"patches", *ROLE_COUNTS}
    for role, report in reports.items():
        assert report["error"] is None, role
        assert report["crs"] == "EPSG:4527", role
        assert report["features"] == ROLE_COUNTS.get(role, 309), role
    assert (reports["patches"]["invalid"], reports["patches"]["empty"]) == (1, 1)
    assert all(not r["duplicate_ids"] for r in reports.values())


# --- the generator --------------------------------------------------------------------------


def _digests(root: Path, names) -> dict[str, str]:
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in names}


def test_generator_is_deterministic(tmp_path):
    script = SAMPLES / "make_county.py"
    usage = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                           text=True, timeout=60, check=True)
    assert "--out" in usage.stdout
    out = tmp_path / "county"
    subprocess.run([sys.executable, str(script), "--out", str(out)], capture_output=True,
                   text=True, timeout=300, check=True)
    committed = sorted(str(p.relative_to(COUNTY)) for p in COUNTY.rglob("*") if p.is_file())
    generated = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert generated == committed
    # every GeoPackage, shapefile part, FileGDB file, GeoJSON and README, byte for byte
    assert _digests(out, generated) == _digests(COUNTY, committed)
    tables = ["CASES.csv", "PATCH_FACTS.csv"]
    assert _digests(tmp_path, tables) == _digests(SAMPLES, tables)
