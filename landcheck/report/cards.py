"""Verification cards (核查卡): one A4 page per patch of a screened GeoPackage, as PDF (and
PNG).

Each card shows the patch on a map at a round scale over the reference layers of the run
(permanent farmland, farmland, the eco red line, the town boundary, village zones,
approvals; read from the layer config when one is given) and the child plots, with a
north arrow, a scale bar and a legend; then the facts (areas in m² and 亩), the official
category and sub-type, every fired rule with its reason and the rule pack's citations,
the child plots, the deadline and the provenance of the run.

How it runs: the GeoPackage and each reference layer are read once; the layers are cut
to every card's map frame with one spatial-index query and one vectorised intersection
per layer and batch of cards; a process pool (:mod:`concurrent.futures`) draws the pages
(:mod:`landcheck.report.card_page`), each written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from landcheck.area import m2_to_mu
from landcheck.errors import InputError, LandcheckError, OutputExistsError
from landcheck.report.fonts import cjk_font, require_matplotlib
from landcheck.report.styles import CATEGORIES
from landcheck.report.tables import VERDICT_ZH

__all__ = ["CONTEXT", "MAP_MM", "SCALES", "map_frame", "read_result", "write_cards"]

log = logging.getLogger("landcheck.report")

#: The map's size on the page, (width, height) in millimetres.
MAP_MM = (180.0, 90.0)
#: Map scales a card uses (1:n), the smallest that shows the padded patch.
SCALES = (500, 1000, 2000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000)
#: Reference layers drawn under the patch: role → (legend label, face RGBA, edge RGB, line
#: style, hatch); drawn in this order.
CONTEXT = {
    "farmland": ("耕地", (0.93, 0.97, 0.78, 1.0), (0.70, 0.80, 0.45), "-", None),
    "permanent_farmland": ("永久基本农田", (1.0, 0.85, 0.35, 0.55), (0.85, 0.62, 0.0), "-", "..."),
    "eco_redline": ("生态保护红线", (0.55, 0.85, 0.55, 0.35), (0.0, 0.55, 0.0), "-", None),
    "village_zone": ("村庄建设控制区", (0, 0, 0, 0), (0.90, 0.50, 0.10), "--", None),
    "town_boundary": ("城镇开发边界", (0, 0, 0, 0), (0.50, 0.20, 0.65), "--", None),
    "approvals": ("批准范围", (0.25, 0.45, 0.90, 0.12), (0.15, 0.30, 0.80), "-.", "//"),
}
_LAYER_ROLES = {"farmland": "landuse"}
_PAD = 0.25  # of the patch's larger side, each way
_MIN_PAD_M = 20.0
_BATCH = 64  # cards cut and drawn per batch (per worker)
_AREAS = (("area_m2", "图斑面积"), ("lu_farmland_m2", "其中耕地"),
          ("permanent_farmland_m2", "其中永久基本农田"), ("eco_redline_m2", "其中生态保护红线"))
_SPLIT = (("legal_m2", "合法面积"), ("illegal_m2", "违法面积"),
          ("illegal_farmland_m2", "违法占耕地"), ("illegal_pf_m2", "违法占永久基本农田"))
_LEVEL_ZH = {"ministry": "部级", "province": "省级", "city": "市级", "county": "县级"}
_BAD_NAME = re.compile(r"[^\w.\-]+")


def write_cards(gpkg, out_dir, *, layers=None, only=None, ids=None, png: bool = False,
                workers: int | None = None, overwrite: bool = False, font=None,
                progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write a verification card per patch of a screened GeoPackage; return the files.

    Parameters
    ----------
    gpkg : path
        A GeoPackage written by :func:`landcheck.screen` (``verdicts``, ``fragments``,
        ``metadata``).
    out_dir : path
        Folder of the cards (created): ``<id>.pdf`` and, with ``png``, ``<id>.png``. It
        must not be, lie inside or hold an input.
    layers : path or LayerSet, optional
        The run's layer config: its reference layers are drawn under the patch.
    only : str or list of str, optional
        Only patches with these verdicts (``illegal``, ``needs_review``, ``legal``,
        ``other``).
    ids : str or list of str, optional
        Only these patch ids (a string: comma-separated).
    workers : int, optional
        Processes drawing the cards (default ``min(4, cpu count)``; 1 draws in this
        process).
    overwrite : bool
        Replace existing card files (refused otherwise, before any card is drawn).
    font : path, optional
        A CJK font file (default :func:`landcheck.report.fonts.cjk_font`).
    progress : callable, optional
        Called with one line per card written.

    Notes
    -----
    Maps are drawn in the GeoPackage's projected CRS, in metres, at the smallest scale of
    :data:`SCALES` that shows the patch's box padded by a quarter of its larger side; a
    reference layer in another CRS is reprojected for the drawing only.
    """
    require_matplotlib()
    font_path = cjk_font(font)
    out_dir = Path(os.fspath(out_dir)).expanduser().absolute()
    result = read_result(gpkg)
    verdicts = _select(result["verdicts"], only=only, ids=ids, where=str(gpkg))
    layerset = _layerset(layers)
    _refuse_inputs(out_dir, gpkg, layers, layerset)
    targets = [_targets(out_dir, pid, png) for pid in verdicts["id"].astype(str)]
    _refuse_existing([p for t in targets for p in t], overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    common = _common(result, layerset, gpkg)
    context = _read_context(layerset, verdicts.crs)
    n = len(verdicts)
    workers = _workers(workers, n)
    written: list[Path] = []
    batches = _payloads(verdicts, result["fragments"], context, common, targets)
    for k, (pid, files) in enumerate(_draw_all(batches, workers, str(font_path)), start=1):
        written.extend(files)
        _say(progress, f"cards: {k}/{n} {pid} → {files[0].name}")
    return written


def read_result(gpkg) -> dict:
    """The ``verdicts`` and ``fragments`` layers (GeoDataFrames) and the ``metadata`` of a
    screened GeoPackage (values decoded from JSON)."""
    import pyogrio

    path = Path(os.fspath(gpkg)).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such GeoPackage; write one with `landcheck screen`")
    names = {row[0] for row in pyogrio.list_layers(path)}
    missing = {"verdicts", "metadata"} - names
    if missing:
        raise InputError(f"{path}: no layer {', '.join(sorted(missing))}; is it a GeoPackage "
                         "written by `landcheck screen`?")
    meta = pyogrio.read_dataframe(path, layer="metadata")
    metadata = {k: _json(v) for k, v in zip(meta["key"], meta["value"], strict=True)}
    verdicts = pyogrio.read_dataframe(path, layer="verdicts")
    fragments = (pyogrio.read_dataframe(path, layer="fragments") if "fragments" in names
                 else verdicts.iloc[:0][["geometry"]].assign(parent_id=pd.Series(dtype=str)))
    return {"verdicts": verdicts, "fragments": fragments, "metadata": metadata, "path": path}


def _json(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _select(verdicts, *, only, ids, where: str):
    """The patches asked for, in file order; unknown verdicts or ids are refused."""
    out = verdicts
    if only is not None:
        wanted = [only] if isinstance(only, str) else list(only)
        wanted = [w.strip() for item in wanted for w in str(item).split(",") if w.strip()]
        bad = sorted(set(wanted) - set(VERDICT_ZH))
        if bad:
            raise InputError(f"only={bad}: not a verdict; use one or more of "
                             f"{', '.join(VERDICT_ZH)}")
        out = out[out["verdict"].isin(wanted)]
    if ids is not None:
        wanted = ids.split(",") if isinstance(ids, str) else [str(i) for i in ids]
        wanted = [w.strip() for w in wanted if w.strip()]
        have = set(verdicts["id"].astype(str))
        unknown = [w for w in wanted if w not in have]
        if unknown:
            raise InputError(f"{where}: no patch with id {', '.join(unknown[:10])}"
                             f"{' …' if len(unknown) > 10 else ''}")
        out = out[out["id"].astype(str).isin(wanted)]
    return out


def _layerset(layers):
    if layers is None:
        return None
    from landcheck.layers import LayerSet

    return layers if isinstance(layers, LayerSet) else LayerSet.from_config(layers)


def _refuse_inputs(out_dir: Path, gpkg, layers, layerset) -> None:
    """The card folder must not be an input, lie inside one (a FileGDB) or hold one."""
    inputs = {"the GeoPackage": Path(os.fspath(gpkg))}
    if layers is not None and not hasattr(layers, "roles"):
        inputs["the layer config"] = Path(os.fspath(layers))
    for role in getattr(layerset, "roles", ()):
        inputs[f"the file of layer {role!r}"] = layerset.spec(role).path
    here = out_dir.resolve()
    for what, src in inputs.items():
        src = src.expanduser().resolve()
        if here == src or here.is_relative_to(src) or src.is_relative_to(here):
            raise InputError(f"-o {out_dir}: holds or is {what} ({src}), an input; write the "
                             "cards to a folder of their own")


def _targets(out_dir: Path, pid: str, png: bool) -> tuple[Path, ...]:
    stem = _BAD_NAME.sub("_", pid).strip("._") or "patch"
    pdf = out_dir / f"{stem}.pdf"
    return (pdf, pdf.with_suffix(".png")) if png else (pdf,)


def _refuse_existing(paths: list[Path], overwrite: bool) -> None:
    if overwrite:
        return
    there = [p for p in paths if p.exists()]
    if there:
        more = f" and {len(there) - 1} more" if len(there) > 1 else ""
        raise OutputExistsError(f"{there[0]}{more} exist; pass overwrite=True "
                                "(CLI: --overwrite) to replace them")


def _workers(workers: int | None, n: int) -> int:
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    if int(workers) < 1:
        raise InputError(f"workers={workers}: give 1 or more")
    return max(1, min(int(workers), n))


def _say(progress, line: str) -> None:
    log.info(line)
    if progress is not None:
        progress(line)


# --- what every card shares: round, rule pack, provenance --------------------------------

def _common(result: dict, layerset, gpkg) -> dict:
    from landcheck.report.ledger import round_name_of

    meta = result["metadata"]
    rules = meta.get("rules") if isinstance(meta.get("rules"), dict) else {}
    pack = _pack(rules)
    cites = {r.id: tuple(r.cites) for r in pack.rules} if pack is not None else {}
    return {
        "round": round_name_of(meta, getattr(layerset, "name", None)),
        "cites": cites,
        "pack_found": pack is not None,
        "provenance": _provenance_lines(meta, rules, result["path"]),
        "crs": str(meta.get("working_crs") or result["verdicts"].crs),
    }


def _pack(rules: dict):
    """The rule pack the run used, by name, else from its file; None when neither loads."""
    from landcheck.screen import load_rules

    for source in (rules.get("name"), rules.get("path")):
        if not source:
            continue
        try:
            return load_rules(source)
        except (LandcheckError, OSError, ValueError) as exc:  # the card says so
            log.info("rule pack %s: %s", source, exc)
    return None


def _provenance_lines(meta: dict, rules: dict, gpkg: Path) -> list[str]:
    digest = hashlib.sha256(gpkg.read_bytes()).hexdigest()[:12]
    lines = [f"结果文件 {gpkg.name} sha256 {digest}",
             f"规则包 {rules.get('name', '?')} {rules.get('version', '')} sha256 "
             f"{str(rules.get('sha256', ''))[:12]}",
             f"参考日期 {meta.get('reference_date', '')} · 运行编号 {meta.get('run_id', '')} · "
             f"运行时间 {str(meta.get('run_at', ''))[:19]} · landcheck {meta.get('landcheck', '')}"]
    inputs = meta.get("inputs") if isinstance(meta.get("inputs"), dict) else {}
    for role, info in inputs.items():
        if isinstance(info, dict):
            name = Path(str(info.get("path", ""))).name
            layer = f":{info['layer']}" if info.get("layer") else ""
            lines.append(f"{role} {name}{layer} {str(info.get('sha256', ''))[:12]}")
    return lines


# --- the reference layers, read once and cut per card --------------------------------------

def _read_context(layerset, crs) -> dict:
    """Each drawn role's geometries (a GeoSeries in ``crs``) with a spatial index."""
    out = {}
    if layerset is None:
        return out
    for name in CONTEXT:
        role = _LAYER_ROLES.get(name, name)
        if role not in layerset:
            continue
        gdf = layerset.read(role)
        if name == "farmland":
            gdf = gdf[gdf["class"].astype("string").str.startswith("01").fillna(False)]
        geoms = gdf.geometry
        if crs is not None and geoms.crs is not None and not geoms.crs.equals(crs):
            geoms = geoms.to_crs(crs)
        geoms = geoms[~(geoms.isna() | geoms.is_empty)].reset_index(drop=True)
        out[name] = geoms
    return out


def map_frame(bounds, map_mm=MAP_MM) -> tuple[tuple[float, float, float, float], int]:
    """The map frame (x0, y0, x1, y1) in metres and the scale 1:n of a patch's bounds.

    The box is padded by a quarter of its larger side (at least 20 m) each way; the scale
    is the smallest of :data:`SCALES` that shows it on a map of ``map_mm`` millimetres;
    the frame is that map's extent, centred on the patch.

    >>> map_frame((0, 0, 100, 50))
    ((-130.0, -65.0, 230.0, 115.0), 2000)
    """
    x0, y0, x1, y1 = (float(v) for v in bounds)
    pad = max(_PAD * max(x1 - x0, y1 - y0), _MIN_PAD_M)
    need = max((x1 - x0 + 2 * pad) / map_mm[0], (y1 - y0 + 2 * pad) / map_mm[1]) * 1000
    scale = next((s for s in SCALES if s >= need), None)
    if scale is None:
        scale = int(10 ** math.ceil(math.log10(need)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = map_mm[0] * scale / 2000, map_mm[1] * scale / 2000
    return (cx - hw, cy - hh, cx + hw, cy + hh), scale


def _frames(geoms) -> tuple[np.ndarray, list[int]]:
    bounds = shapely.bounds(np.asarray(geoms))
    frames, scales = [], []
    for b in bounds:
        if not np.isfinite(b).all():  # an empty patch: a 100 m frame at the origin
            b = np.array([0.0, 0.0, 100.0, 100.0])
        frame, scale = map_frame(b)
        frames.append(frame)
        scales.append(scale)
    return np.asarray(frames), scales


def _cut(context: dict, boxes: np.ndarray) -> dict[str, list[list]]:
    """Per role, per card: the role's geometries intersected with the card's frame (one
    index query and one vectorised intersection per role)."""
    out = {}
    for name, geoms in context.items():
        cards, feats = geoms.sindex.query(boxes, predicate="intersects")
        pieces = shapely.intersection(geoms.to_numpy()[feats], boxes[cards])
        per: list[list] = [[] for _ in range(len(boxes))]
        for c, g in zip(cards.tolist(), pieces.tolist(), strict=True):
            if g is not None and not g.is_empty:
                per[c].append(g)
        out[name] = per
    return out


# --- one card's content ---------------------------------------------------------------

def _payloads(verdicts, fragments, context: dict, common: dict,
              targets: list[tuple[Path, ...]]) -> Iterator[list[dict]]:
    """Batches of card payloads (plain data for a worker to draw)."""
    by_parent = ({k: g for k, g in fragments.groupby(fragments["parent_id"].astype(str))}
                 if len(fragments) and "parent_id" in fragments else {})
    for start in range(0, len(verdicts), _BATCH):
        part = verdicts.iloc[start:start + _BATCH]
        frames, scales = _frames(part.geometry)
        boxes = shapely.box(frames[:, 0], frames[:, 1], frames[:, 2], frames[:, 3])
        cut = _cut(context, boxes)
        batch = []
        for k, (_, row) in enumerate(part.iterrows()):
            pid = str(row["id"])
            batch.append({
                "id": pid, "round": common["round"], "crs": common["crs"],
                "frame": tuple(frames[k]), "scale": scales[k], "patch": row.geometry,
                "context": {name: cut[name][k] for name in cut},
                "children": _children(by_parent.get(pid)),
                "facts": _facts(row), "official": _official(row),
                "colour": _class_rgb(_text(row.get("verdict")), "verdict"),
                "rules": _rules(row, common["cites"], common["pack_found"]),
                "provenance": common["provenance"], "targets": targets[start + k],
            })
        yield batch


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def area_text(m2) -> str:
    """An area as "m² / 亩", both to 2 decimals.

    >>> area_text(5000.001)
    '5000.00 m² / 7.50 亩'
    """
    m2 = float(m2)
    return f"{m2:.2f} m² / {float(m2_to_mu(m2)):.2f} 亩"


def _facts(row) -> list[tuple[str, str]]:
    town = " ".join(x for x in (_text(row.get("township_name")), _text(row.get("township")))
                    if x)
    rows = [("监测编号", _text(row.get("id"))), ("乡镇", town),
            ("图斑类型", _text(row.get("type"))),
            ("前时相 / 后时相", f"{_text(row.get('before'))} / {_text(row.get('after'))}"),
            ("下发级别", _LEVEL_ZH.get(_text(row.get("level")), _text(row.get("level"))))]
    rows += _area_rows(row, _AREAS)
    geom = row.geometry
    if geom is not None and not geom.is_empty:
        c = geom.centroid
        rows.append(("中心坐标 X / Y", f"{c.x:.1f} / {c.y:.1f}"))
    return rows


def _area_rows(row, columns) -> list[tuple[str, str]]:
    return [(label, area_text(row[col])) for col, label in columns
            if col in row.index and not pd.isna(row[col])]


def _official(row) -> list[tuple[str, str]]:
    def coded(name, code):
        n, c = _text(row.get(name)), _text(row.get(code))
        return f"{n}（{c}）" if n and c else n or c

    verdict = _text(row.get("verdict"))
    return [("判定结果", f"{_text(row.get('verdict_zh')) or VERDICT_ZH.get(verdict, '')}"
                        f"（{verdict}）"),
            ("核实认定意见", coded("official_class", "official_class_code")),
            ("认定子类", coded("official_subclass", "official_subclass_code")),
            ("新增/存量", _text(row.get("build_period"))),
            ("批准文号", _text(row.get("approval_ids"))),
            ("合法依据文号", _text(row.get("doc_ids"))),
            ("整改期限", _text(row.get("due_date")) or "—"),
            *_area_rows(row, _SPLIT)]


def _rules(row, cites: dict, pack_found: bool) -> list[tuple[str, str, str]]:
    """(rule id, Chinese reason, citations) per fired rule; the reasons pair with the rules
    where their count matches, else the whole text goes with the first rule."""
    ids = [r for r in _text(row.get("rules")).split(";") if r]
    reasons = [r for r in _text(row.get("reasons_zh")).split("；") if r]
    if len(reasons) != len(ids):
        reasons = ["；".join(reasons)] + [""] * max(len(ids) - 1, 0)
    missing = "（规则包中无此规则）" if pack_found else "（未找到规则包，无法列出依据）"
    return [(rid, reason, "；".join(cites.get(rid, ())) or missing)
            for rid, reason in zip(ids, reasons, strict=False)]


def _children(df) -> list[dict]:
    if df is None:
        return []
    out = []
    for _, row in df.iterrows():
        cls = _text(row.get("official_class")) or _text(row.get("verdict_zh"))
        out.append({"id": _text(row.get("child_id")), "class": cls,
                    "subclass": _text(row.get("official_subclass")),
                    "area_m2": float(row.get("area_m2") or 0.0),
                    "share_pct": float(row.get("share_pct") or 0.0),
                    "rgb": _class_rgb(cls), "geometry": row.geometry})
    return out


def _class_rgb(value: str, column: str = "official_class") -> tuple[float, float, float]:
    """The fill colour of a category (as in the GeoPackage's QGIS styles), 0–1."""
    rgb = next((c.rgb for c in CATEGORIES[column] if c.value == value), (255, 0, 255))
    return tuple(v / 255 for v in rgb)


# --- drawing, here or in a pool -----------------------------------------------------------

def _draw_all(batches: Iterable[list[dict]], workers: int,
              font: str) -> Iterator[tuple[str, list[Path]]]:
    from landcheck.report import card_page

    if workers == 1:
        card_page.init_worker(font)
        for batch in batches:
            for payload in batch:
                yield payload["id"], card_page.draw_card(payload)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=card_page.init_worker,
                             initargs=(font,)) as pool:
        pending = None
        for batch in batches:  # one batch drawn while the next is cut
            futures = [pool.submit(card_page.draw_card, p) for p in batch]
            if pending is not None:
                yield from pending
            pending = [(p["id"], f) for p, f in zip(batch, futures, strict=True)]
            pending = _results(pending)
        if pending is not None:
            yield from pending


def _results(pending):
    for pid, future in pending:
        yield pid, future.result()
