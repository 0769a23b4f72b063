"""Geometry policy applied while reading: 2D, DXF polygons, empty and invalid geometries.

Everything here is vectorised over the whole column (one GEOS call per step);
what changes is recorded in :class:`~landcheck.io.findings.Findings`.

Policy
------
* Z and M are dropped (:func:`shapely.force_2d`); the count goes into a
  :class:`~landcheck.errors.GeometryWarning`.
* Null and empty geometries are always reported (warning with ids) and kept,
  never dropped and never an error, so that screening can report such a patch
  as ``needs_review`` instead of losing it.
* Invalid geometries follow ``on_invalid``: ``"raise"`` (GeometryError with ids
  and reasons), ``"warn"`` (kept as they are) or ``"fix"``
  (:func:`shapely.make_valid` with ``method="structure"``; only parts of the
  original dimension are kept, so a polygon stays polygonal; a repair that leaves
  nothing becomes an empty geometry and is reported).
* Curved geometries (CircularString, CompoundCurve, CurvePolygon, MultiCurve,
  MultiSurface: FileGDB and GeoPackage layers drawn with arcs) are linearised by
  GDAL while reading, each arc cut into chords that span at most ``arc_step``
  degrees (:data:`ARC_STEP_DEGREES`, GDAL's ``OGR_ARC_STEPSIZE``); the count, the
  step and its area consequence go into a :class:`~landcheck.errors.GeometryWarning`
  (:func:`note_linearised`).
* A polygon that a reprojection makes invalid (a near-degenerate spike or sliver whose
  edges cross once transformed, or coordinates rounded in another CRS) is repaired
  after the transformation (:func:`repair_reprojected`, called by
  :func:`landcheck.crs.to_crs`), never left invalid (which would make its area 0); a
  GeometryWarning names the ids, and those whose area changed by more than
  :data:`REPROJECTION_AREA_TOLERANCE` for checking by hand.
* Geometry types are not restricted: points, lines and polygons all pass.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from landcheck.errors import GeometryError, GeometryWarning, format_ids
from landcheck.io.findings import MAX_FEATURE_NOTES, FeatureLabels, Findings

__all__ = ["ARC_STEP_DEGREES", "ON_INVALID", "apply_geometry_policy", "arc_area_error",
           "check_arc_step", "check_on_invalid", "drop_z", "dxf_polygons", "note_linearised",
           "repair_polygonal", "repair_reprojected"]

ON_INVALID = ("raise", "warn", "fix")
#: Largest angle, in degrees, that one chord of a linearised arc spans. A full circle
#: becomes at least 360 chords; its area is smaller than the circle's by at most
#: :func:`arc_area_error` (5.1e-5 of it at 1°, 0.0051 %).
ARC_STEP_DEGREES = 1.0
#: Relative area change beyond which a repair after reprojection is called out by id
#: for checking by hand (0.1 %).
REPROJECTION_AREA_TOLERANCE = 1e-3
_MULTI = {2: shapely.multipolygons, 1: shapely.multilinestrings, 0: shapely.multipoints}
_EMPTY = {2: "POLYGON EMPTY", 1: "LINESTRING EMPTY", 0: "POINT EMPTY"}


def check_on_invalid(on_invalid: str) -> None:
    """Raise ValueError unless ``on_invalid`` is one of :data:`ON_INVALID`."""
    if on_invalid not in ON_INVALID:
        allowed = ", ".join(repr(v) for v in ON_INVALID)
        raise ValueError(f"on_invalid must be one of {allowed}, not {on_invalid!r}")


def check_arc_step(arc_step) -> float:
    """``arc_step`` as a float; ValueError unless it is a number of degrees in (0, 90]."""
    try:
        step = float(arc_step)
    except (TypeError, ValueError):
        raise ValueError(f"arc_step must be a number of degrees, not {arc_step!r}") from None
    if not 0 < step <= 90:
        raise ValueError(f"arc_step must be in (0, 90] degrees, not {arc_step!r}")
    return step


def arc_area_error(arc_step: float) -> float:
    """Largest relative area difference between an arc's sector and its chords.

    An arc cut into chords of at most ``arc_step`` degrees (angle θ in radians) loses, between
    arc and chords, at most ``1 - sin θ / θ`` (≈ θ²/6) of the sector area the arc sweeps;
    for a full circle that is the relative area of the whole disc.

    >>> round(arc_area_error(1.0), 7)
    5.08e-05
    """
    theta = math.radians(arc_step)
    return 1 - math.sin(theta) / theta


def note_linearised(kinds: dict[str, int], arc_step: float, where: str,
                    findings: Findings) -> None:
    """Warn that curved geometries were linearised: how many, of which types, and the area cost.

    ``kinds``: OGR geometry type name → number of features of that type.
    """
    n = sum(kinds.values())
    listed = ", ".join(f"{c} {k}" for k, c in sorted(kinds.items()))
    gap = 1 - math.cos(math.radians(arc_step) / 2)
    findings.warn(
        GeometryWarning,
        f"{where}: {n} feature(s) with curved geometry ({listed}) linearised with arcs cut "
        f"into chords of at most {arc_step:g}° (arc_step={arc_step:g}): each chord lies within "
        f"{gap:.2g} × the radius of its arc ({gap * 100_000:.3g} mm at 100 m); areas differ "
        f"from the curved shapes' by at most {arc_area_error(arc_step):.2g} of each arc's "
        f"sector (smaller where a boundary bulges out, larger where it bulges in). Pass a "
        f"smaller arc_step for closer areas.")


def drop_z(geoms: np.ndarray, where: str, findings: Findings) -> np.ndarray:
    """Return 2D geometries; note how many had Z or M coordinates.

    A GeometryWarning is emitted unless the only extra coordinate is a Z that is 0
    everywhere (as KML writers add), which carries no information.
    """
    has_z = shapely.has_z(geoms)
    has_m = shapely.has_m(geoms) if hasattr(shapely, "has_m") else np.zeros_like(has_z)
    has_zm = has_z | has_m
    n = int(has_zm.sum())
    if n == 0:
        return geoms
    out = geoms.copy()
    out[has_zm] = shapely.force_2d(geoms[has_zm])
    z = shapely.get_coordinates(geoms[has_z], include_z=True)[:, 2]
    note = f"Z/M coordinates dropped to 2D on {n} feature(s)"
    if not has_m.any() and np.all((z == 0) | np.isnan(z)):
        findings.note(note + " (all Z were 0)")
        return out
    findings.warn(GeometryWarning,
                  f"{where}: {n} geometr{'y' if n == 1 else 'ies'} had Z/M coordinates; "
                  f"dropped to 2D (areas and overlays are planar)", note)
    return out


def dxf_polygons(geoms: np.ndarray, handles: np.ndarray | None, where: str,
                 findings: Findings) -> tuple[np.ndarray, np.ndarray]:
    """(geometries, mask of entities to keep) with closed polylines turned into polygons.

    Closed LWPOLYLINE/POLYLINE entities (closed flag, or last vertex equal to the
    first) become polygons; HATCH polygons stay. Open lines, points, text and
    other entities are dropped with a warning naming their DXF entity handles.
    """
    type_ids = shapely.get_type_id(geoms)
    lines = type_ids == 1
    closed = lines & shapely.is_closed(geoms) & (shapely.get_num_coordinates(geoms) >= 4)
    geoms = geoms.copy()
    if closed.any():
        coords, idx = shapely.get_coordinates(geoms[closed], return_index=True)
        rings = shapely.linearrings(coords, indices=idx)
        geoms[closed] = shapely.polygons(rings)
    keep = closed | (type_ids == 3) | (type_ids == 6)
    dropped = ~keep
    if dropped.any():
        _note_dxf_dropped(type_ids, dropped, lines & ~closed, handles, where, findings)
    return geoms, keep


def _note_dxf_dropped(type_ids, dropped, open_lines, handles, where, findings) -> None:
    names = {-1: "null", 0: "point/text", 1: "open line", 2: "ring", 4: "multipoint",
             5: "multiline", 7: "collection"}
    kinds, counts = np.unique(type_ids[dropped], return_counts=True)
    summary = ", ".join(f"{c} {names.get(int(k), str(k))}" for k, c in zip(kinds, counts,
                                                                             strict=True))
    detail = ""
    if open_lines.any() and handles is not None:
        detail = f"; open lines have entity handles {format_ids(handles[open_lines].tolist())}"
    findings.warn(GeometryWarning,
                  f"{where}: kept {int((~dropped).sum())} closed polylines/hatches as polygons; "
                  f"dropped {int(dropped.sum())} other entities ({summary}){detail}. Close the "
                  f"open polylines in CAD if they are parcel boundaries.")


def apply_geometry_policy(geoms: np.ndarray, on_invalid: str, labels: FeatureLabels,
                          where: str, findings: Findings) -> np.ndarray:
    """Report null/empty geometries, then raise, warn about or repair invalid ones."""
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    _report_missing(missing, labels, where, findings, "null or empty")
    invalid = ~missing & ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms
    reasons = shapely.is_valid_reason(geoms[invalid])
    if on_invalid == "raise":
        raise GeometryError(_invalid_message(invalid, reasons, labels, where) +
                            " Use on_invalid='fix' to repair them with make_valid, "
                            "or fix the source.")
    if on_invalid == "warn":
        findings.warn(GeometryWarning, _invalid_message(invalid, reasons, labels, where) +
                      " Kept as they are (on_invalid='warn'); overlays may fail or be wrong.")
        return geoms
    return _repair(geoms, invalid, labels, where, findings)


def _report_missing(mask, labels, where, findings, what) -> None:
    n = int(mask.sum())
    if n:
        findings.warn(GeometryWarning,
                      f"{where}: {n} feature(s) with {what} geometry, {labels.describe(mask)}; "
                      f"kept (not dropped) so that they can be reported; fix the source.")


def _invalid_message(invalid, reasons, labels, where) -> str:
    n = int(invalid.sum())
    shown = labels.select(invalid)[:5]
    why = "; ".join(f"{label!r}: {reason}" for label, reason in zip(shown, reasons[:5],
                                                                      strict=False))
    return (f"{where}: {n} invalid geometr{'y' if n == 1 else 'ies'}, "
            f"{labels.describe(invalid)} (reasons: {why}{' …' if n > 5 else ''}).")


def repair_polygonal(geoms: np.ndarray) -> np.ndarray:
    """:func:`shapely.make_valid` (``method="structure"``) keeping the original dimension.

    A polygon stays polygonal (slivers that collapse to lines are dropped); a repair that
    leaves nothing of that dimension gives an empty geometry of it.
    """
    return _same_dimension(geoms, shapely.make_valid(geoms, method="structure",
                                                     keep_collapsed=False))


def repair_reprojected(before: np.ndarray, after: np.ndarray, labels: FeatureLabels, where: str,
                       findings: Findings, *,
                       tolerance: float = REPROJECTION_AREA_TOLERANCE,
                       changes: np.ndarray | None = None) -> np.ndarray:
    """Repair the polygons that are valid in ``before`` but invalid in ``after`` (reprojected).

    Repairs use :func:`repair_polygonal`. Polygons already invalid before are left as the
    read policy (``on_invalid``) left them. Each repair is noted with its area change against
    the invalid polygon's own (shoelace) area; a GeometryWarning names the repaired ids and,
    apart, those whose area changed by more than ``tolerance`` (relative), or that became
    empty. ``changes``, if given (a float array as long as ``after``), receives each repaired
    polygon's relative area change (1 where the repair left nothing) and keeps its other
    values.
    """
    candidates = np.flatnonzero(np.isin(shapely.get_type_id(after), [3, 6]) &
                                ~shapely.is_valid(after))
    bad = np.zeros(len(after), dtype=bool)
    bad[candidates[shapely.is_valid(before[candidates])]] = True
    if not bad.any():
        return after
    fixed = repair_polygonal(after[bad])
    out = after.copy()
    out[bad] = fixed
    a0, a1 = shapely.area(after[bad]), shapely.area(fixed)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(a0 > 0, np.abs(a1 - a0) / a0, np.inf)
    if changes is not None:
        changes[bad] = np.where(shapely.is_empty(fixed) | np.isinf(change), 1.0, change)
    _note_repairs(after[bad], fixed, labels.select(bad), findings, "after reprojection")
    n = int(bad.sum())
    message = (f"{where}: {n} polygon(s) valid before reprojection are invalid after it and "
               f"were repaired with make_valid, {labels.describe(bad)}; largest area change "
               f"{np.nanmax(np.where(np.isinf(change), np.nan, change), initial=0):.3g} "
               f"(relative)")
    over = np.zeros(len(after), dtype=bool)
    over[np.flatnonzero(bad)[(change > tolerance) | shapely.is_empty(fixed)]] = True
    if over.any():
        message += (f"; {int(over.sum())} changed area by more than {tolerance:g} or became "
                    f"empty, {labels.describe(over)}: check them against the source by hand")
    findings.warn(GeometryWarning, message + ".")
    return out


def _repair(geoms, invalid, labels, where, findings) -> np.ndarray:
    before = geoms[invalid]
    fixed = repair_polygonal(before)
    out = geoms.copy()
    out[invalid] = fixed
    became_empty = np.zeros(len(geoms), dtype=bool)
    became_empty[invalid] = shapely.is_empty(fixed)
    _note_repairs(before, fixed, labels.select(invalid), findings)
    n, k = int(invalid.sum()), int(became_empty.sum())
    message = (f"{where}: {n} invalid geometr{'y' if n == 1 else 'ies'} repaired with "
               f"make_valid, {labels.describe(invalid)}")
    if k:
        message += f"; {k} became empty, {labels.describe(became_empty)}"
    findings.warn(GeometryWarning, message + ". Check the repaired features against the source.")
    return out


def _same_dimension(before: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Keep only the parts of each repaired geometry that have the original's dimension."""
    dims = shapely.get_dimensions(before)
    out = fixed.copy()
    fixed_dims = shapely.get_dimensions(fixed)
    collection = shapely.get_type_id(fixed) == 7
    for dim, ctor in _MULTI.items():
        coll = collection & (dims == dim)
        if coll.any():
            parts, idx = shapely.get_parts(fixed[coll], return_index=True)
            keep = shapely.get_dimensions(parts) == dim
            gathered = np.empty(int(coll.sum()), dtype=object)
            ctor(parts[keep], indices=idx[keep], out=gathered)
            out[coll] = gathered
        lost = (dims == dim) & (((fixed_dims < dim) & ~collection) | shapely.is_missing(out))
        out[lost] = shapely.from_wkt(_EMPTY[dim])
    return out


def _note_repairs(before, fixed, ids, findings, when="") -> None:
    area_before, area_after = shapely.area(before), shapely.area(fixed)
    for i, (label, a, b) in enumerate(zip(ids, area_before, area_after, strict=True)):
        if i == MAX_FEATURE_NOTES:
            findings.note(f"... {len(ids) - i} more repaired features not listed")
            break
        findings.note(f"feature {label!r}: invalid geometry repaired with make_valid"
                      f"{' ' + when if when else ''}; area {a:.6g} -> {b:.6g}")
