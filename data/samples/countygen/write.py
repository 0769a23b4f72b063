"""Writing the county in the formats bureaus hand over, plus the case table and patch facts.

Everything is written through pyarrow tables and ``pyogrio.write_arrow`` so that date fields
stay dates and text codes stay text. GDAL is told a fixed "current date" and to derive FileGDB
UUIDs reproducibly, so two runs give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import warnings
from pathlib import Path

import pyarrow as pa
import pyogrio
import shapely
from shapely.geometry import MultiPolygon

from landcheck.area import round_half_up

from . import official
from .fill import ellipsoidal_areas
from .world import CRS, ROLE_OF_LAYER, Measure, Subject, World, plane_area, shift

pyogrio.set_gdal_config_options({
    "OGR_CURRENT_DATE": "2023-10-01T00:00:00Z",
    "OPENFILEGDB_REPRODUCIBLE_UUID": "YES",
})
DBF_DATE = {"DBF_DATE_LAST_UPDATE": "2023-10-01"}

S, DATE, F64, I32 = pa.string(), pa.date32(), pa.float64(), pa.int32()
SCHEMAS = {
    "patches_2023q3": [("JCBH", S), ("XZQDM", S), ("TBLX", S), ("QSX", DATE), ("HSX", DATE),
                       ("JCMJ", F64), ("DLBM", S), ("PZWH", S), ("XFJB", S), ("XFRQ", DATE),
                       ("BZ", S)],
    "DLTB": [("BSM", S), ("DLBM", S), ("DLMC", S), ("ZZSXDM", S), ("TBMJ", F64), ("XZQDM", S)],
    "yjjbnt": [("BSM", S), ("ZLDWMC", S), ("JBNTMJ", F64)],
    "pz": [("PZWH", S), ("PZRQ", DATE), ("PZLX", S), ("XMMC", S)],
    "czkfbj": [("BSM", S), ("MC", S)],
    "czjskzq": [("BSM", S), ("CZMC", S)],
    "ybndq": [("BSM", S), ("GNFQMC", S)],
    "stbhhx": [("BSM", S), ("HXMC", S)],
    "ssnyd": [("BABH", S), ("SSLX", S), ("BARQ", DATE)],
    "lsyd": [("PZWH", S), ("KSRQ", DATE), ("JSRQ", DATE), ("YT", S), ("XXJC", S), ("XMMC", S)],
    "ld": [("BSM", S), ("LDLB", S)],
    "jtxl": [("BSM", S), ("DLDJ", S), ("KD", F64), ("GHKD", F64), ("MC", S)],
    "jz": [("BSM", S), ("JZLX", S)],
    "xm": [("XMBH", S), ("XMMC", S), ("XMLX", S), ("LXRQ", DATE), ("SSRQ", DATE), ("YSRQ", DATE),
           ("ZT", S), ("SFST", S), ("ZWQK", S)],
    "cpkf": [("FABH", S), ("FALX", S), ("YTFL", S), ("PQMC", S)],
    "xzq": [("XZQDM", S), ("XZQMC", S)],
    "dzzh": [("BSM", S), ("ZHLX", S), ("YFCD", S)],
    "kcyz": [("BSM", S), ("KZMC", S), ("KQMC", S)],
    "nclu_qq": [("BSM", S), ("KD", F64), ("DLMC", S), ("SJNF", I32)],
    "lsyd_sj": [("BSM", S), ("GCRQ", DATE), ("BZ", S)],
}
COUNTY_LAYERS = ["xzq", "czkfbj", "czjskzq", "ybndq", "stbhhx", "ssnyd", "lsyd", "lsyd_sj", "ld",
                 "jtxl", "jz", "xm", "cpkf", "dzzh", "kcyz", "nclu_qq"]


def multi(geom):
    """Shifted MultiPolygon (empty and invalid geometries are kept as they are)."""
    g = shift(geom) if not geom.is_empty else geom
    if g.geom_type == "Polygon":
        return MultiPolygon([g]) if not g.is_empty else MultiPolygon()
    return g


def table(schema: list, records: list[dict], geoms: list) -> pa.Table:
    cols = {name: pa.array([r.get(name) for r in records], typ) for name, typ in schema}
    cols["geometry"] = pa.array(shapely.to_wkb(geoms), pa.binary())
    return pa.table(cols)


def write(tbl: pa.Table, path: Path, layer: str | None, driver: str, crs: str | None = CRS,
          **kw) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        pyogrio.write_arrow(tbl, str(path), layer=layer, driver=driver, geometry_name="geometry",
                            geometry_type=kw.pop("geometry_type", "MultiPolygon"), crs=crs, **kw)


def features_table(w: World, layer: str, schema_name: str | None = None) -> pa.Table:
    feats = w.features[layer]
    return table(SCHEMAS[schema_name or layer], [f.attrs for f in feats],
                 [multi(f.geom) for f in feats])


def write_county(w: World, out: Path) -> None:
    if out.exists():
        if any(out.iterdir()) and not (out / "patches.gpkg").exists():
            raise SystemExit(f"{out} exists and does not look like a demo county; not replacing it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    patches = sorted(w.features["patches"], key=lambda f: f.attrs["JCBH"])
    write(table(SCHEMAS["patches_2023q3"], [f.attrs for f in patches],
                [multi(f.geom) for f in patches]), out / "patches.gpkg", "patches_2023q3", "GPKG")
    lu = w.landuse
    write(table(SCHEMAS["DLTB"], lu, [multi(p["geometry"]) for p in lu]), out / "dltb.gdb",
          "DLTB", "OpenFileGDB", layer_options={"TARGET_ARCGIS_VERSION": "ARCGIS_PRO_3_2_OR_LATER"})
    for f, area in zip(w.features["yjjbnt"], ellipsoidal_areas([shift(f.geom) for f in
                                                                w.features["yjjbnt"]]),
                       strict=True):
        f.attrs["JBNTMJ"] = float(round_half_up(area, 2))
    write(features_table(w, "yjjbnt"), out / "yjjbnt.shp", None, "ESRI Shapefile", crs=None,
          encoding="UTF-8", layer_options=DBF_DATE | {"RESIZE": "YES"})
    write(features_table(w, "pz"), out / "pz.shp", None, "ESRI Shapefile", encoding="GBK",
          layer_options=DBF_DATE | {"RESIZE": "YES"})
    (out / "pz.cpg").unlink()
    for layer in COUNTY_LAYERS:
        write(features_table(w, layer), out / "county.gpkg", layer, "GPKG")
    write_bad(w, out / "bad")


# --- deliberately bad inputs ---------------------------------------------------------------------
def write_bad(w: World, bad: Path) -> None:
    bad.mkdir()
    pz = w.features["pz"][:5]
    write(table(SCHEMAS["pz"], [f.attrs for f in pz], [multi(f.geom) for f in pz]),
          bad / "pz_gbk_cpg_utf8.shp", None, "ESRI Shapefile", encoding="GBK",
          layer_options=DBF_DATE)
    (bad / "pz_gbk_cpg_utf8.cpg").write_text("UTF-8", encoding="ascii")

    pf = w.features["yjjbnt"][:20]
    unprefixed = [shapely.transform(multi(f.geom), lambda c: c - [39_000_000.0, 0.0]) for f in pf]
    write(table(SCHEMAS["yjjbnt"], [f.attrs for f in pf], unprefixed),
          bad / "yjjbnt_no_zone_prefix.shp", None, "ESRI Shapefile", crs=None, encoding="UTF-8",
          layer_options=DBF_DATE)

    write_bad_geojson(w, bad / "patches_bad_geometry.geojson")

    pz3 = [shapely.force_3d(multi(f.geom), 12.5) for f in pz]
    write(table(SCHEMAS["pz"], [f.attrs for f in pz], pz3), bad / "pz_3d.gpkg", "pz_3d", "GPKG",
          geometry_type="MultiPolygon Z")

    lu = [p for p in w.landuse if p["DLBM"].isdigit() and len(p["DLBM"]) == 4][:30]
    recs = [dict(p, DLBM=int(p["DLBM"])) for p in lu]
    schema = [("BSM", S), ("DLBM", I32), ("DLMC", S), ("TBMJ", F64)]
    write(table(schema, recs, [multi(p["geometry"]) for p in lu]), bad / "dltb_dlbm_integer.shp",
          None, "ESRI Shapefile", encoding="UTF-8", layer_options=DBF_DATE)
    (bad / "README.md").write_text(BAD_README, encoding="utf-8")


BAD_README = """\
# Deliberately bad inputs

Small files cut from the demo county, each broken in one way that bureau data is often broken.
They are rebuilt by `data/samples/make_county.py`; a reader should fail with a clear message or
repair with a warning, never go on silently.

## `pz_gbk_cpg_utf8.shp`

5 approvals (`PZWH`, `PZRQ`, `PZLX`, `XMMC`). The DBF text is GBK but the `.cpg` says `UTF-8`.
Read as the `.cpg` says, pyogrio raises `UnicodeDecodeError`; other tools show mojibake.
A careful reader notices that the text does not decode as UTF-8, retries as GB18030 and warns, or
honours an `encoding = "GB18030"` override.

## `yjjbnt_no_zone_prefix.shp`

20 permanent-farmland polygons with eastings of about 505 700 - 511 250: zone 39 **without** the
zone prefix (EPSG:4548), and no `.prj`. The zone must not be guessed: a 6-digit easting near
500 000 fits every 3-degree zone. With `crs = "EPSG:4548"` given, the polygons equal the first 20
of `yjjbnt.shp` shifted by exactly 39 000 000 m.

## `patches_bad_geometry.geojson`

4 patch features in CGCS2000 longitude/latitude (EPSG:4490, legacy `crs` member):
(1) a valid polygon; (2) a self-intersecting bowtie (case G1); (3) an empty geometry (`Polygon`
without coordinates, `JCBH` 3499012023Q3999998); (4) a second feature with the `JCBH` of (1).
A careful reader reports the bowtie and the empty geometry with their ids (repairs or drops them
by policy, counted in the warning) and refuses or flags the duplicate id.

## `pz_3d.gpkg`, layer `pz_3d`

5 approvals stored as `MultiPolygon Z` (z = 12.5 m everywhere). Drop Z for the 2-D overlay (with
a note) or refuse with a clear message; areas are planar.

## `dltb_dlbm_integer.shp`

30 land-use parcels whose `DLBM` is an Integer field: `101` instead of `"0101"`. Reading it through a
layer config that maps `class = "DLBM"` is refused with a message saying the codes must be text:
a number has lost its leading zeros and guessing them back (`0101` vs `1010`?) is not safe.
"""


def write_bad_geojson(w: World, path: Path) -> None:
    """Hand-written GeoJSON (lon/lat, CGCS2000) with a bowtie, an empty geometry and a duplicate."""
    from pyproj import Transformer

    to_geo = Transformer.from_crs(CRS, "EPSG:4490", always_xy=True)
    patches = sorted(w.features["patches"], key=lambda f: f.attrs["JCBH"])
    good = [f for f in patches if f.geom.is_valid and not f.geom.is_empty][:2]
    bowtie = next(f for f in patches if not f.geom.is_valid)

    def ring(geom):
        g = shift(geom)
        xs, ys = to_geo.transform(*zip(*g.exterior.coords, strict=True))
        return [[round(x, 9), round(y, 9)] for x, y in zip(xs, ys, strict=True)]

    def feat(jcbh, tblx, geometry):
        return {"type": "Feature", "properties": {"JCBH": jcbh, "TBLX": tblx},
                "geometry": geometry}

    feats = [
        feat(good[0].attrs["JCBH"], good[0].attrs["TBLX"],
             {"type": "Polygon", "coordinates": [ring(good[0].geom)]}),
        feat(bowtie.attrs["JCBH"], bowtie.attrs["TBLX"],
             {"type": "Polygon", "coordinates": [ring(bowtie.geom)]}),
        feat("3499012023Q3999998", "YH", {"type": "Polygon", "coordinates": []}),
        feat(good[0].attrs["JCBH"], good[1].attrs["TBLX"],
             {"type": "Polygon", "coordinates": [ring(good[1].geom)]}),
    ]
    doc = {"type": "FeatureCollection", "name": "patches_bad_geometry",
           "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
           "features": feats}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# --- case table and patch facts ------------------------------------------------------------------
LAYER_ORDER = ["patches", "lsyd", "lsyd_sj", "xm", "cpkf"]
CASE_COLUMNS = ["layer", "feature_id", "family", "rule_id", "expect", "verdict", "legal_m2",
                "illegal_m2", "official_class", "official_subclass", "note_zh", "note_en"]


def _num(m: Measure | None) -> str:
    return "" if m is None else f"{m.measured if m.measured is not None else m.designed:.2f}"


def _token(key: str, value) -> str:
    if isinstance(value, Measure):
        return f"{key}={_num(value)}"
    if isinstance(value, dt.date):
        return f"{key}={value.isoformat()}"
    return f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def _sort_key(s: Subject):
    return (LAYER_ORDER.index(s.layer), s.feature.id)


def write_cases(w: World, path: Path) -> int:
    rows = []
    for s in sorted(w.subjects, key=_sort_key):
        cls, sub = official.expected(w, s) if s.layer == "patches" else ("", "")
        for r in s.rows:
            tokens = [f"case={s.label}"] + [_token(k, v) for k, v in r.measures.items()]
            rows.append({
                "layer": ROLE_OF_LAYER[s.layer], "feature_id": s.feature.id,
                "family": r.rule.split(".")[0], "rule_id": r.rule, "expect": r.expect,
                "verdict": s.verdict, "legal_m2": _num(s.legal), "illegal_m2": _num(s.illegal),
                "official_class": cls, "official_subclass": sub, "note_zh": r.zh,
                "note_en": f"{r.en} [{'; '.join(tokens)}]",
            })
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, CASE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def write_patch_facts(w: World, path: Path) -> None:
    """Plane and ellipsoidal area and protected-layer areas of every patch, from the geometry."""
    from .fill import FARM

    pf = shapely.union_all([f.geom for f in w.features["yjjbnt"]])
    farm = shapely.union_all([p["geometry"] for p in w.landuse if p["DLBM"] in FARM])
    red = shapely.union_all([f.geom for f in w.features["stbhhx"]])
    subjects = sorted([s for s in w.subjects if s.layer == "patches"], key=_sort_key)
    ok = [s.feature.geom.is_valid and not s.feature.geom.is_empty for s in subjects]
    ell = ellipsoidal_areas([shift(s.feature.geom) if good else None
                             for s, good in zip(subjects, ok, strict=True)])
    cols = ["JCBH", "case", "area_m2", "ellipsoidal_m2", "permanent_farmland_m2", "farmland_m2",
            "eco_redline_m2"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(cols)
        for s, good, e in zip(subjects, ok, ell, strict=True):
            g = s.feature.geom
            if not good:
                out.writerow([s.feature.id, s.label, "", "", "", "", ""])
                continue
            areas = [plane_area(g), e, plane_area(g & pf), plane_area(g & farm),
                     plane_area(g & red)]
            out.writerow([s.feature.id, s.label] + [f"{a:.2f}" for a in areas])
