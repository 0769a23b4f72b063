"""Site query (选址查询): what a planned project overlaps among the reference layers.

    report = landcheck.site_query(project_gdf, "county.toml")
    report.table                # one row per role / class: area m² and 亩, share, ids
    print(report.summary_text())
    report.to_xlsx("site.xlsx")

The project may have several polygons: the site is their union (overlaps counted once),
and every feature is also measured on its own (:attr:`SiteReport.by_feature`). Roles
measured, when the layer set configures them: permanent farmland, land use (per land-use
group and per ``DLBM`` code, grouped and named by the layer's scheme, 三调 or 用地用海:
``landuse_classes*.csv``), ecological red line, town
development boundary, village construction zone, general agricultural zone, forest by
class, geological-hazard zones and buried mineral resources (by their ``class`` field).

Notes
-----
Areas are official (ellipsoidal) m² in one working CRS (the layer set's ``crs``, else
chosen from the data), computed on the union of the overlapping features of each role and
class, so features that overlap each other are never counted twice. 亩 = m² × 3 / 2000;
rounding to 2 decimals happens only in :meth:`SiteReport.summary_text` and the workbook.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landcheck._version import __version__
from landcheck.area import DEFAULT_AREA_METHOD, m2_to_mu, official_area
from landcheck.area import area_method as _resolve_method
from landcheck.errors import GeometryError, InputError, format_ids
from landcheck.geometry.pairs import clip, feature_ids, pairs
from landcheck.geometry.parts import polygonal
from landcheck.roles import BUILTIN, RoleSet
from landcheck.vocab import (
    SCHEME_COLUMN,
    landuse_class_name,
    landuse_group,
    resolve_landuse_classes,
    scheme_of,
)

__all__ = ["SITE_ROLES", "SiteReport", "site_query"]

class _SiteRoles:
    """The site-query rows of a role set, in report order: (row role, Chinese, English); the
    land-use layer gives two rows (group and class), and ``classed`` roles one per class."""

    def __init__(self, roles: RoleSet):
        rows = []
        for r in roles.site_roles:
            if r.name == "landuse":
                rows += [("landuse_group", "地类（大类）", "land-use group"),
                         ("landuse", "地类（二级类）", "land-use class")]
            else:
                rows.append((r.name, r.label_zh, r.label_en))
        self.rows = tuple(rows)
        self.zh = {r: zh for r, zh, _ in rows}
        self.en = {r: en for r, _, en in rows}
        self.layer_roles = tuple(dict.fromkeys("landuse" if r == "landuse_group" else r
                                               for r, _, _ in rows))
        self.classed = tuple(r.name for r in roles.site_roles if r.site_by_class)


_BUILTIN_SITE = _SiteRoles(BUILTIN)
#: Roles a site query measures, in report order: (role, Chinese name, English name); a layer
#: set's custom zone roles follow them.
SITE_ROLES = _BUILTIN_SITE.rows
_GROUP_ZH = {"farmland": "耕地", "garden": "园地", "forest": "林地", "grass": "草地",
             "wetland": "湿地", "construction": "建设用地", "rural_road": "农村道路",
             "water": "水域", "pond": "坑塘水面", "facility": "设施农用地", "unused": "未利用地",
             "other": "其他土地", "unknown": "未知地类"}
_FOREST_ZH = {"public_welfare_national": "国家级公益林", "public_welfare_provincial": "省级公益林",
              "commercial": "商品林", "other": "其他林地"}
#: Table columns of :attr:`SiteReport.table`.
COLUMNS = ("role", "role_name", "class", "name", "area_m2", "area_mu", "share", "n", "ids")
#: Notes printed when a role is hit: (Chinese, English).
_NOTES = {
    "permanent_farmland": ("涉及永久基本农田，需重点核实、原则上应避让",
                           "overlaps permanent farmland: check, and avoid it where possible"),
    "eco_redline": ("涉及生态保护红线，需重点核实", "overlaps the ecological red line: check"),
    "geohazard": ("位于地质灾害易发区，需开展地质灾害危险性评估",
                  "in a geological-hazard zone: a hazard risk assessment is needed"),
    "minerals": ("涉及压覆矿产资源，需核实是否需办理压覆矿产审批",
                 "over buried mineral resources: check whether covering them needs approval"),
}


# ---------------------------------------------------------------- entry point


def site_query(project, layers, *, working_crs=None, area_method=None) -> SiteReport:
    """Everything a planned project overlaps among the configured reference layers.

    Parameters
    ----------
    project : GeoDataFrame or path
        The project's polygon(s), with a CRS. An ``id`` column names the features (else
        their position, from 1). A path is read with :func:`landcheck.read_layer`.
    layers : LayerSet, path to a TOML layer config, or dict of role → GeoDataFrame
        Roles used: see :data:`SITE_ROLES`; others are ignored, missing ones are listed as
        not configured.
    working_crs : CRS-like, optional
        Projected CRS to measure in (default: the layer set's ``crs``, else from the data).
    area_method : str or AreaMethod, optional
        The official area method (:data:`landcheck.area.AREA_METHODS`; default: the layer
        config's ``area_method``, else ``"survey3"``).

    Returns
    -------
    SiteReport

    Examples
    --------
    A site drawn over the demo county's first permanent-farmland parcel lies wholly on
    permanent farmland:

    >>> import landcheck
    >>> from landcheck.testing import SAMPLES
    >>> parcels = landcheck.read_layer(SAMPLES / "county/yjjbnt.shp", crs="EPSG:4527")
    >>> report = landcheck.site_query(parcels.head(1), SAMPLES / "county.toml")
    >>> round(report.site_area_m2, 1), round(report.area_m2("permanent_farmland"), 1)
    (39999.9, 39999.9)
    """
    from landcheck.crs import choose_working_crs

    t0 = _dt.datetime.now(_dt.UTC)
    project = _read_project(project)
    roles = _role_set(layers)
    sr = _SiteRoles(roles) if roles.custom else _BUILTIN_SITE
    refs, helmert, sources, layer_crs = _read_layers(layers, sr)
    declared = working_crs if working_crs is not None else layer_crs
    items = [(project.crs, tuple(project.total_bounds))]
    items += [(g.crs, tuple(g.total_bounds)) for g in refs.values() if len(g)]
    decision = choose_working_crs(items, declared=declared)
    project, refs = _to_working(project, refs, helmert, decision.crs)
    ids, geoms = _project_features(project)
    site = shapely.union_all(geoms)
    targets = np.array([site, *geoms], dtype=object)
    config = _layerset(layers) if isinstance(layers, str | Path) else layers
    given = getattr(config, "area_method", None)
    method = _resolve_method(area_method if area_method is not None else
                             given or DEFAULT_AREA_METHOD)
    target_area = official_area(targets, crs=decision.crs, method=method)
    rows = _measure_all(targets, refs, decision.crs, sr, method)
    rows["share"] = rows["area_m2"] / target_area[rows["target"].to_numpy()]
    table = _site_table(rows[rows["target"] == 0], [r for r in sr.layer_roles if r in refs], sr)
    by_feature = rows[rows["target"] > 0].copy()
    by_feature.insert(0, "feature", np.asarray(ids, dtype=object)[by_feature["target"] - 1])
    by_feature = by_feature[["feature", *COLUMNS]].reset_index(drop=True)
    features = pd.DataFrame({"feature": ids, "area_m2": target_area[1:],
                             "area_mu": m2_to_mu(target_area[1:])})
    prov = {"landcheck": __version__, "run_at": t0.isoformat(timespec="seconds"),
            "working_crs": decision.label(),
            "working_crs_how": f"{decision.how}: {decision.detail}",
            "area_method": method.name, "inputs": sources}
    if "landuse" in refs:
        prov["landuse_scheme"] = scheme_of(refs["landuse"])
    return SiteReport(table=table, by_feature=by_feature, features=features,
                      site_area_m2=float(target_area[0]), site=site, crs=decision.crs,
                      checked=tuple(r for r in sr.layer_roles if r in refs),
                      not_configured=tuple(r for r in sr.layer_roles if r not in refs),
                      provenance=prov, roles=roles)


# ---------------------------------------------------------------- inputs


def _layerset(layers):
    from landcheck.layers import LayerSet

    return LayerSet.from_config(layers)


def _role_set(layers) -> RoleSet:
    from landcheck.layers import LayerSet

    return layers.role_set if isinstance(layers, LayerSet) else BUILTIN


def _read_project(project) -> gpd.GeoDataFrame:
    if isinstance(project, str | Path):
        from landcheck.io import read_layer

        project = read_layer(project)
    if not isinstance(project, gpd.GeoDataFrame):
        raise TypeError(f"project must be a GeoDataFrame or a path, not {type(project).__name__}")
    if project.crs is None:
        raise InputError("project: the GeoDataFrame has no CRS; set one with .set_crs(...)")
    if len(project) == 0:
        raise InputError("project: no features; draw the project polygon(s) first")
    return project


def _read_layers(layers, sr):
    """Reference layers of the site roles, their Helmert options, source records and the
    layer set's declared working CRS."""
    from landcheck.layers import LayerSet
    from landcheck.provenance import source_info

    if isinstance(layers, str | Path):
        layers = _layerset(layers)
    crs = None
    if isinstance(layers, LayerSet):
        roles = [r for r in sr.layer_roles if r in layers]
        refs = {r: layers.read(r) for r in roles}
        helmert = {r: layers.spec(r).helmert for r in roles}
        crs = layers.crs
    elif isinstance(layers, Mapping):
        refs = {r: layers[r] for r in sr.layer_roles if r in layers}
        if "landuse" in refs and SCHEME_COLUMN not in refs["landuse"].columns:
            # codes, Chinese names and the scheme, as a layer config reads them
            refs["landuse"] = resolve_landuse_classes(refs["landuse"],
                                                      where="layer 'landuse' (a frame)")
        helmert = dict.fromkeys(refs)
    else:
        raise TypeError(f"layers must be a LayerSet, a TOML path or a dict of GeoDataFrames, "
                        f"not {type(layers).__name__}")
    sources = {}
    for role, gdf in refs.items():
        info = source_info(gdf)
        sources[role] = info.to_dict() if info is not None else {"path": None,
                                                                 "note": "in-memory frame"}
    return refs, helmert, sources, crs


def _to_working(project, refs, helmert, crs):
    from landcheck.crs import to_crs

    out = {r: to_crs(g, crs, helmert=helmert.get(r), source=r) for r, g in refs.items()}
    return to_crs(project, crs, source="project"), out


def _project_features(project) -> tuple[list[str], np.ndarray]:
    geoms = np.asarray(project.geometry.values, dtype=object)
    ids = (project["id"].astype("string").fillna("").tolist() if "id" in project.columns
           else [str(i + 1) for i in range(len(project))])
    missing = shapely.is_missing(geoms)
    safe = np.where(missing, shapely.Polygon(), geoms)
    bad = missing | shapely.is_empty(safe) | ~np.isin(shapely.get_type_id(safe), [3, 6]) \
        | ~shapely.is_valid(safe)
    if bad.any():
        raise GeometryError(f"project: features {format_ids(np.asarray(ids)[bad])} are empty, "
                            "invalid or not polygons; repair them (e.g. shapely.make_valid) "
                            "and run the query again")
    return ids, geoms


# ---------------------------------------------------------------- measuring


def _measure_all(targets, refs, crs, sr, method) -> pd.DataFrame:
    frames = []
    for role, ref in refs.items():
        pi, ri, pieces = _pieces(targets, ref)
        if role == "landuse":
            scheme = scheme_of(ref)
            codes = ref["class"].astype("string").str.strip().str.upper().fillna("")
            groups = landuse_group(codes, scheme=scheme, source="landuse").fillna("unknown")
            frames.append(_grouped("landuse_group", pi, ri, pieces, ref,
                                   groups.to_numpy(dtype=object), _group_names, crs, sr,
                                   method))
            frames.append(_grouped("landuse", pi, ri, pieces, ref,
                                   codes.to_numpy(dtype=object), _code_names(scheme), crs, sr,
                                   method))
            continue
        keys = (ref["class"].astype("string").fillna("").to_numpy(dtype=object)
                if role in sr.classed and "class" in ref.columns
                else np.full(len(ref), "", dtype=object))
        frames.append(_grouped(role, pi, ri, pieces, ref, keys, _namer(role, ref, sr), crs, sr,
                               method))
    if not frames:
        return pd.DataFrame({"target": pd.Series(dtype=int),
                             **{c: pd.Series(dtype=object) for c in COLUMNS}})
    return pd.concat(frames, ignore_index=True)


def _pieces(targets, ref):
    """Clipped pieces of every target inside every feature of ``ref`` (positive area only)."""
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri = pairs(targets, ref_geoms)
    pieces = polygonal(clip(targets, ref_geoms, pi, ri))
    has = ~shapely.is_missing(pieces)
    return pi[has], ri[has], pieces[has]


def _grouped(role, pi, ri, pieces, ref, keys, namer, crs, sr, method) -> pd.DataFrame:
    """One row per (target, key): area of the union of the pieces, their ids and names."""
    frame = pd.DataFrame({"target": pi, "key": keys[ri]})
    groups = frame.groupby(["target", "key"], sort=True).indices
    ids = feature_ids(ref, ri)
    geoms, rows = [], []
    for (target, key), idx in groups.items():  # small: targets × classes
        geoms.append(pieces[idx[0]] if len(idx) == 1 else shapely.union_all(pieces[idx]))
        hit = list(dict.fromkeys(ids[idx].tolist()))
        rows.append({"target": int(target), "role": role, "role_name": sr.zh[role],
                     "class": key or None, "name": namer(key, ri[idx]), "n": len(hit),
                     "ids": hit})
    out = pd.DataFrame(rows, columns=["target", "role", "role_name", "class", "name", "n", "ids"])
    area = (official_area(np.array(geoms, dtype=object), crs=crs, method=method) if geoms
            else np.zeros(0))
    out["area_m2"] = area
    out["area_mu"] = m2_to_mu(area)
    out = out[out["area_m2"] > 0].astype({"target": int, "n": int})
    return out[["target", *[c for c in COLUMNS if c != "share"]]]


def _namer(role, ref, sr):
    if role == "forest":
        return lambda key, rows: _FOREST_ZH.get(key, key or None)
    if role in sr.classed:
        return lambda key, rows: key or None
    if "name" in ref.columns:
        names = ref["name"].astype("string").fillna("").to_numpy(dtype=object)
        return lambda key, rows: "、".join(dict.fromkeys(n for n in names[rows] if n)) or None
    return lambda key, rows: None


def _group_names(key, rows):
    return _GROUP_ZH.get(key, key)


def _code_names(scheme):
    """Names of the codes of ``scheme`` (a K code the table does not list: its base's)."""
    def name(key, rows):
        found = landuse_class_name(pd.Series([key], dtype="string"), scheme=scheme).iloc[0]
        return None if pd.isna(found) else str(found)
    return name


def _site_table(rows, roles, sr) -> pd.DataFrame:
    """Site rows in report order, with a zero row for every configured role not hit."""
    table = rows.drop(columns="target")
    hit = set(table["role"])
    order = [r for r, _, _ in sr.rows if (r if r != "landuse_group" else "landuse") in roles]
    empty = [{"role": r, "role_name": sr.zh[r], "class": None, "name": None,
              "area_m2": 0.0, "area_mu": 0.0, "share": 0.0, "n": 0, "ids": []}
             for r in order if r not in hit]
    if empty:
        table = pd.concat([table, pd.DataFrame(empty)], ignore_index=True)
    rank = {r: i for i, r in enumerate(order)}
    table = table.assign(_r=table["role"].map(rank), _a=-table["area_m2"])
    table = table.sort_values(["_r", "_a", "class"], kind="stable").drop(columns=["_r", "_a"])
    return table[list(COLUMNS)].reset_index(drop=True)


# ---------------------------------------------------------------- the report


@dataclass
class SiteReport:
    """What :func:`site_query` returns.

    Attributes
    ----------
    table : DataFrame
        The site (union of the project's features): one row per role and class with
        ``area_m2``, ``area_mu``, ``share`` (of the site area), ``n`` and ``ids`` of the
        features hit; a configured role that is not hit has one row with area 0.
    by_feature : DataFrame
        The same per project feature (column ``feature``; hits only; ``share`` of the feature).
    features : DataFrame
        Project features and their areas.
    site_area_m2 : float
        Area of the site (overlapping project features counted once).
    """

    table: pd.DataFrame
    by_feature: pd.DataFrame
    features: pd.DataFrame
    site_area_m2: float
    site: Any
    crs: Any
    checked: tuple[str, ...]
    not_configured: tuple[str, ...]
    provenance: dict = field(default_factory=dict)
    #: the roles of the layer set queried (built-in and custom)
    roles: RoleSet = BUILTIN

    @property
    def _site(self) -> _SiteRoles:
        return _SiteRoles(self.roles) if self.roles.custom else _BUILTIN_SITE

    def area_m2(self, role: str, cls: str | None = None) -> float:
        """Site area on ``role`` (optionally one class or code), m²."""
        t = self.table[self.table["role"] == role]
        if cls is not None:
            t = t[t["class"] == cls]
        return float(t["area_m2"].sum())

    def __repr__(self) -> str:
        hits = [f"{self._site.en[r]} {self.area_m2(r):.2f} m²" for r in self.checked
                if r != "landuse" and self.area_m2(r) > 0]
        return (f"<SiteReport {len(self.features)} feature(s), {self.site_area_m2:.2f} m² "
                f"({float(m2_to_mu(self.site_area_m2)):.2f} mu); "
                f"{', '.join(hits) or 'no protected layer hit'}; "
                f"crs {self.provenance.get('working_crs')}>")

    def _repr_html_(self) -> str:
        return f"<p><b>{repr(self)[1:-1]}</b></p>" + _present(self.table).to_html(index=False)

    def summary_text(self, lang: str = "zh") -> str:
        """A one-page text summary; ``lang="zh"`` (Chinese with English beside) or ``"en"``."""
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
        return "\n".join(_render(self, lang)) + "\n"

    def to_dict(self) -> dict:
        """Plain data (for JSON): site area, rows, features, notes and provenance."""
        def rows(frame):
            return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
        return {"site_area_m2": self.site_area_m2,
                "site_area_mu": float(m2_to_mu(self.site_area_m2)),
                "features": rows(self.features), "table": rows(self.table),
                "by_feature": rows(self.by_feature), "not_configured": list(self.not_configured),
                "notes": [{"zh": zh, "en": en} for zh, en in self.notes()],
                "provenance": self.provenance}

    def notes(self) -> list[tuple[str, str]]:
        """Points to check, (Chinese, English), for the protected layers the site hits."""
        return [_NOTES[r] for r in _NOTES if r in self.checked and self.area_m2(r) > 0]

    def to_xlsx(self, path, *, overwrite: bool = False) -> Path:
        """Write the workbook (summary, per feature, about) atomically; return the path."""
        from landcheck.io.atomic import atomic_file

        about = pd.DataFrame({"项目 (item)": ["地块数 (features)", "总面积/平方米 (site, m²)",
                                            "总面积/亩 (site, mu)", "工作坐标系 (working CRS)",
                                            "生成时间 (run at)", "landcheck"],
                              "值 (value)": [len(self.features), round(self.site_area_m2, 2),
                                            round(float(m2_to_mu(self.site_area_m2)), 2),
                                            self.provenance.get("working_crs"),
                                            self.provenance.get("run_at"),
                                            self.provenance.get("landcheck")]})
        with atomic_file(path, overwrite=overwrite) as tmp:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                _present(self.table).to_excel(xw, sheet_name="汇总 Summary", index=False)
                _present(self.by_feature).to_excel(xw, sheet_name="分地块 By feature",
                                                   index=False)
                about.to_excel(xw, sheet_name="说明 About", index=False)
                text = pd.DataFrame({"摘要 summary": self.summary_text("zh").splitlines()})
                text.to_excel(xw, sheet_name="说明 About", index=False, startrow=len(about) + 2)
        return Path(path)


_HEADERS = {"feature": "地块 (feature)", "role": "图层 (role)", "role_name": "图层名称",
            "class": "类别/编码 (class)", "name": "名称 (name)",
            "area_m2": "面积/平方米 (area, m²)", "area_mu": "面积/亩 (area, mu)",
            "share": "占比/% (share)", "n": "要素数 (n)", "ids": "标识码 (ids)"}


def _present(frame: pd.DataFrame) -> pd.DataFrame:
    """Rounded, Chinese-headed copy for the workbook and HTML (2 decimals, % share)."""
    out = frame.copy()
    for col in ("area_m2", "area_mu"):
        out[col] = out[col].astype(float).round(2)
    out["share"] = (out["share"].astype(float) * 100).round(2)
    out["ids"] = out["ids"].map(lambda v: "、".join(map(str, v)) if isinstance(v, list) else v)
    return out.rename(columns=_HEADERS)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


# ---------------------------------------------------------------- text summary


def _render(report: SiteReport, lang: str) -> list[str]:
    def label(zh: str, en: str) -> str:
        return f"{zh} {en}" if lang == "zh" else en

    mu = "亩" if lang == "zh" else "mu"
    lines = [label("选址查询", "Site query"), "",
             f"{label('地块数', 'features')}: {len(report.features)}    "
             f"{label('总面积', 'site area')}: {_amount(report.site_area_m2, mu)}",
             f"{label('工作坐标系', 'working CRS')}: {report.provenance.get('working_crs')}", ""]
    table = report.table
    sr = report._site
    for role, zh, en in sr.rows:
        if role == "landuse" or role not in set(table["role"]):
            continue
        rows = table[table["role"] == role]
        head = label(zh, en) if role != "landuse_group" else label("地类", "land use")
        if role == "landuse_group":
            lines.append(f"{head}:")
            lines += _landuse_lines(table, mu, lang, report.provenance.get("landuse_scheme"))
        elif role in sr.classed:
            lines.append(f"{head}:" + ("" if rows["area_m2"].sum() > 0 else
                                       f" {label('不涉及', 'none')}"))
            lines += [f"  {_row_label(r, lang)}: {_row_text(r, mu, sr)}"
                      for r in rows[rows["area_m2"] > 0].to_dict("records")]
        else:
            r = rows.iloc[0].to_dict()
            lines.append(f"{head}: " + (_row_text(r, mu, sr) if r["area_m2"] > 0
                                        else label("不涉及", "none")))
    lines += _feature_lines(report, label, mu, lang)
    notes = report.notes()
    if notes:
        lines += ["", label("提示", "notes") + ":"]
        lines += [f"  - {zh}（{en}）" if lang == "zh" else f"  - {en}" for zh, en in notes]
    if report.not_configured:
        names = [label(sr.zh[r], sr.en[r]) for r in report.not_configured]
        lines += ["", f"{label('未配置、未查询', 'not configured, not checked')}: "
                  + "、".join(names)]
    return lines


def _amount(m2: float, mu: str) -> str:
    return f"{m2:.2f} m² = {float(m2_to_mu(m2)):.2f} {mu}"


def _row_text(r: dict, mu: str, sr: _SiteRoles) -> str:
    ids = "、".join(map(str, r["ids"][:8])) + ("…" if len(r["ids"]) > 8 else "")
    name = f"{r['name']}, " if r.get("name") and r["role"] not in sr.classed else ""
    return f"{_amount(r['area_m2'], mu)} ({r['share'] * 100:.2f} %) — {name}{ids}"


def _row_label(r: dict, lang: str) -> str:
    cls, name = r["class"] or "", r["name"] or ""
    if r["role"] == "landuse":
        return f"{name} {cls}".strip()
    if lang == "zh" and name and name != cls:
        return f"{name} {cls}"
    return cls or name


def _landuse_lines(table, mu: str, lang: str, scheme) -> list[str]:
    groups = table[(table["role"] == "landuse_group") & (table["area_m2"] > 0)]
    codes = table[(table["role"] == "landuse") & (table["area_m2"] > 0)]
    code_group = landuse_group(codes["class"].astype("string"), scheme=scheme, warn=False)
    code_group = code_group.fillna("unknown")
    out = []
    for g in groups.to_dict("records"):
        out.append(f"  {_row_label(g, lang)}: {_amount(g['area_m2'], mu)} "
                   f"({g['share'] * 100:.2f} %)")
        for c in codes[(code_group == g["class"]).to_numpy()].to_dict("records"):
            out.append(f"    {_row_label(c, lang)}: {_amount(c['area_m2'], mu)} "
                       f"({c['share'] * 100:.2f} %)")
    return out or ["  —"]


def _feature_lines(report: SiteReport, label, mu: str, lang: str) -> list[str]:
    if len(report.features) < 2:
        return []
    out = ["", label("分地块", "by feature") + ":"]
    by = report.by_feature
    for f in report.features.to_dict("records"):
        rows = by[(by["feature"] == f["feature"]) & (by["role"] != "landuse")
                  & ((by["role"] != "landuse_group") | (by["class"] == "farmland"))]
        parts = [f"{_short_label(r, label, lang, report._site)} {r['area_m2']:.2f} m²"
                 for r in rows.to_dict("records")]
        out.append(f"  {f['feature']} ({_amount(f['area_m2'], mu)}): "
                   + ("; ".join(parts) or label("不涉及受保护图层", "no protected layer hit")))
    return out


def _short_label(r: dict, label, lang: str, sr: _SiteRoles) -> str:
    if r["role"] == "landuse_group":
        return label("耕地", "farmland")
    head = label(sr.zh[r["role"]], sr.en[r["role"]])
    cls = (r["name"] if lang == "zh" else None) or r["class"]
    return f"{head} {cls}" if cls else head
