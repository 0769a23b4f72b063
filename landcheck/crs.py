"""Coordinate reference systems: decide a layer's CRS, check it, pick a working CRS, transform.

CGCS2000 is the home datum: geographic EPSG:4490 and Gauss–Krüger (GK) zones — 3° zones 25–45
(central meridian 3·zone) as EPSG 4488+zone with zone-prefixed eastings (false easting
zone·10⁶ + 500 000) or 4509+zone without; 6° zones 13–23 (CM 6·zone − 3) as 4478+zone / 4489+zone.
Any other CRS PROJ knows works too (WGS 84 / UTM, SIRGAS 2000, ETRS89, ...).

Notes
-----
Policies, chosen once for every caller:

* **Deciding a layer's CRS** (:func:`resolve_crs`): a declared CRS wins over the file's (with a
  :class:`~landcheck.errors.CRSWarning` when they differ); then the file's; then a ``zone`` /
  ``central_meridian`` hint; then detection from the coordinates, which always warns. Eastings
  without a zone prefix are never guessed: :class:`~landcheck.errors.AmbiguousCRSError`.
* **Area of use** (:func:`check_bounds`): the data's lon/lat extent must lie within the CRS's
  EPSG area of use widened by ``AREA_TOLERANCE_DEG`` (1.5°) on every side. EPSG areas are
  drawn tightly round land (a 3° zone is 3° wide) and real zone data spills over its edges
  (a county straddling a zone boundary, a UTM scene); the errors worth catching — a wrong zone
  prefix, a Chinese CRS on Brazilian data — are off by many degrees.
* **Swapped axes**: reported only when the data do *not* fit the CRS as given but *do* fit it
  with x and y exchanged (or, for degrees, when |x| ≤ 90 and 90 < |y| ≤ 180). Data that fit as
  given are never called swapped, so the check cannot reject a correct layer.
* **Transformations** (:func:`make_transformer`): always ``always_xy=True``. Conversions within
  one datum are exact. A datum shift PROJ knows with a stated accuracy is used (ETRS89 → WGS 84,
  SIRGAS 2000 → WGS 84, JGD2011 → WGS 84 are 1 m in PROJ 9.5). A shift PROJ only knows as a
  *ballpark* (no parameters, accuracy unknown) is refused with
  :class:`~landcheck.errors.TransformationError` — Xian 1980 and Beijing 1954 → CGCS2000 are
  ballparks and are tens of metres off — unless the caller supplies a 7-parameter ``helmert``
  set. One exception: WGS 84 ↔ CGCS2000 is also a ballpark in PROJ, but both frames are
  aligned to ITRF and agree to about 1 m (plate motion since CGCS2000's epoch 2000.0), far below
  what satellite-patrol screening resolves; it is allowed with a CRSWarning so GPS/KML data keep
  working.
* **Working CRS** (:func:`choose_working_crs`): one projected CRS in metres per run; see there.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Real

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyproj.exceptions import CRSError as ProjCRSError
from pyproj.exceptions import ProjError
from pyproj.transformer import TransformerGroup

from landcheck.errors import (
    AmbiguousCRSError,
    CRSError,
    CRSWarning,
    InputError,
    TransformationError,
    format_ids,
)

__all__ = ["AREA_TOLERANCE_DEG", "CRSDecision", "check_bounds", "choose_working_crs", "gk_crs",
           "make_transformer", "resolve_crs", "to_crs", "zone_for_lon"]

AREA_TOLERANCE_DEG = 1.5
"""Degrees by which data may spill over a CRS's EPSG area of use on each side."""

_ZONES = {3: range(25, 46), 6: range(13, 24)}
_EPSG_BASE = {(3, True): 4488, (3, False): 4509, (6, True): 4478, (6, False): 4489}
_CGCS2000 = 4490
_ITRF_ALIGNED = ("worldgeodeticsystem1984", "china2000")
_LEGACY = ("xian1980", "beijing1954")
_CN_NORTHINGS = (1.9e6, 6.0e6)  # ~17°N (Hainan) to ~54°N (Mohe) on a GK/UTM grid
_HELMERT_KEYS = ("tx", "ty", "tz", "rx", "ry", "rz", "s")
_HELMERT_HELP = (
    "supply a 7-parameter Helmert set from your surveying authority (config key `helmert = "
    '{ tx=…, ty=…, tz=…, rx=…, ry=…, rz=…, s=…, convention="position_vector" }`; translations '
    "in metres, rotations in arc-seconds, scale in ppm, convention 'position_vector' or "
    "'coordinate_frame'), or convert the data to CGCS2000 before screening"
)


@dataclass(frozen=True, repr=False)
class CRSDecision:
    """A CRS and why it was chosen.

    Attributes
    ----------
    crs : pyproj.CRS
    how : str
        ``"file"`` (the file's own CRS), ``"argument"`` (declared by the user or from a
        zone hint) or ``"detected"`` (inferred from coordinates or the data's position).
    detail : str
        One sentence for logs and reports.

    Examples
    --------
    >>> CRSDecision(CRS.from_epsg(4527), "argument", "declared crs").label()
    'EPSG:4527'
    """

    crs: CRS
    how: str
    detail: str

    def label(self) -> str:
        """``"AUTHORITY:CODE"`` when the CRS has one, else its name."""
        return _label(self.crs)

    def __repr__(self) -> str:
        return f"CRSDecision(crs={self.label()}, how={self.how!r}, detail={self.detail!r})"


def zone_for_lon(lon: float, *, zone_width: int = 3) -> int:
    """Gauss–Krüger zone number of a longitude.

    3° zones: ``floor((lon + 1.5) / 3)``; 6° zones: ``floor(lon / 6) + 1``.

    Examples
    --------
    >>> zone_for_lon(117.2), zone_for_lon(118.5), zone_for_lon(117.2, zone_width=6)
    (39, 40, 20)
    """
    _check_width(zone_width)
    if zone_width == 3:
        return math.floor((lon + 1.5) / 3)
    return math.floor(lon / 6) + 1


def gk_crs(
    *, zone: int | None = None, central_meridian: float | None = None,
    zone_width: int = 3, prefixed: bool = False,
) -> CRS:
    """CGCS2000 Gauss–Krüger CRS (by EPSG code) for a zone or central meridian.

    Parameters
    ----------
    zone, central_meridian : int, float, optional
        At least one; when both are given they must agree.
    zone_width : {3, 6}
    prefixed : bool
        Whether eastings carry the zone number (false easting zone·10⁶ + 500 000).

    Examples
    --------
    >>> gk_crs(zone=39, prefixed=True).to_epsg(), gk_crs(central_meridian=117).to_epsg()
    (4527, 4548)
    >>> gk_crs(zone=20, zone_width=6).name
    'CGCS2000 / Gauss-Kruger CM 117E'
    """
    zone = _zone_from_hint(zone, central_meridian, zone_width, "gk_crs")
    return CRS.from_epsg(_EPSG_BASE[(zone_width, bool(prefixed))] + zone)


def resolve_crs(
    file_crs, bounds, *, declared=None, zone: int | None = None, zone_width: int = 3,
    central_meridian: float | None = None, source: str = "",
) -> CRSDecision:
    """Decide the CRS of one layer and check that its coordinates fit it.

    Parameters
    ----------
    file_crs : pyproj.CRS or None
        The CRS the file carries; None when it has none (no .prj).
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` of the data; NaN for an empty layer (checks skipped).
    declared : CRS-like, optional
        The user's CRS (anything ``pyproj.CRS.from_user_input`` takes); wins over the file's.
    zone, central_meridian, zone_width : optional
        Hint for files without a CRS whose eastings lack the zone prefix.
    source : str
        File path or layer name, used in messages.

    Raises
    ------
    AmbiguousCRSError
        No CRS, and unprefixed eastings without a zone hint.
    CRSError
        Unrecognisable coordinates, contradictory hints, swapped axes, data outside the CRS.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     d = resolve_crs(None, (39_512_000, 3_480_000, 39_515_000, 3_482_000),
    ...                     source="patches.shp")
    >>> d.label(), d.how, caught[0].category.__name__
    ('EPSG:4527', 'detected', 'CRSWarning')
    >>> resolve_crs(None, (512_000, 3_480_000, 515_000, 3_482_000), zone=39).label()
    'EPSG:4548'
    """
    bounds = _as_bounds(bounds)
    file_crs = None if file_crs is None else _as_crs(file_crs, source, "the file's CRS")
    note = None
    if declared is not None:
        decision = _from_declared(_as_crs(declared, source, "declared crs"), file_crs, source)
    elif file_crs is not None:
        decision = CRSDecision(file_crs, "file", f"the file's CRS {_label(file_crs)}")
    else:
        decision, note = _from_coordinates(bounds, zone, central_meridian, zone_width, source)
    _check_bounds(decision.crs, bounds, source, decision.detail)
    if note:
        warnings.warn(note, CRSWarning, stacklevel=2)
    return decision


def check_bounds(crs, bounds, *, source: str = "") -> None:
    """Raise :class:`~landcheck.errors.CRSError` if ``bounds`` cannot be data in ``crs``.

    Checks swapped axes and that the data's lon/lat extent lies in the CRS's area of use
    (± ``AREA_TOLERANCE_DEG``). NaN bounds (empty layer) pass.

    Examples
    --------
    >>> check_bounds("EPSG:4527", (39_512_000, 3_480_000, 39_515_000, 3_482_000))
    >>> check_bounds("EPSG:4490", (31.4, 117.1, 31.5, 117.2), source="a.shp")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    landcheck.errors.CRSError: a.shp: axes appear swapped (lat, lon): ...
    """
    _check_bounds(_as_crs(crs, source, "crs"), _as_bounds(bounds), source, "")


def choose_working_crs(crss_and_bounds: Iterable[tuple], *, declared=None) -> CRSDecision:
    """Choose the one projected CRS (in metres) that a run overlays and measures in.

    1. ``declared``, if given: it must be projected with metre units.
    2. Else the first input CRS that is projected, in metres and not Web Mercator — so list
       the patches first: their CRS becomes the working CRS. Legacy Xian 1980 / Beijing 1954
       CRSs are passed over when another candidate exists.
    3. Else (geographic inputs only) from the centre of the data's lon/lat extent: when any
       input is on CGCS2000, the CGCS2000 3° GK zone with zone-prefixed eastings
       (EPSG 4513–4533, as Chinese survey data are delivered); otherwise the UTM zone on the
       first input's datum when EPSG has one (e.g. SIRGAS 2000 / UTM zone 21S), else WGS 84 / UTM.

    Parameters
    ----------
    crss_and_bounds : iterable of (CRS-like, bounds)
        Resolved CRS and ``(minx, miny, maxx, maxy)`` of every input, patches first.
    declared : CRS-like, optional

    Examples
    --------
    >>> choose_working_crs([("EPSG:4490", (117.1, 31.4, 117.3, 31.5))]).label()
    'EPSG:4527'
    >>> choose_working_crs([("EPSG:4674", (-55.2, -10.1, -54.9, -9.8))]).crs.name
    'SIRGAS 2000 / UTM zone 21S'
    """
    items = [(_as_crs(c, f"input {i + 1}", "CRS"), _as_bounds(b))
             for i, (c, b) in enumerate(crss_and_bounds)]
    if declared is not None:
        return _declared_working(_as_crs(declared, "working CRS", "declared crs"))
    candidates = [(i, c) for i, (c, _) in enumerate(items)
                  if c.is_projected and _in_metres(c) and not _is_web_mercator(c)]
    modern = [(i, c) for i, c in candidates if not _datum_key(c).startswith(_LEGACY)]
    if modern or candidates:
        i, crs = (modern or candidates)[0]
        return CRSDecision(crs, "file", f"first projected input CRS (input {i + 1}, "
                           f"{_label(crs)})")
    return _working_from_centre(items)


def make_transformer(src, dst, *, helmert: Mapping | None = None,
                     source: str = "") -> Transformer:
    """Transformer from ``src`` to ``dst`` (x = easting/longitude), refusing ballpark shifts.

    Parameters
    ----------
    src, dst : CRS-like
    helmert : mapping, optional
        ``{tx, ty, tz, rx, ry, rz, s, convention}`` from ``src``'s datum to ``dst``'s:
        metres, arc-seconds, ppm; ``convention`` is ``"position_vector"`` or
        ``"coordinate_frame"`` (required when a rotation is non-zero). Used for any datum
        change; not applied when both CRSs share a datum.
    source : str
        File path or layer name, used in messages.

    Raises
    ------
    TransformationError
        PROJ knows the datum shift only as a ballpark and no ``helmert`` was given.

    Examples
    --------
    >>> t = make_transformer("EPSG:4527", "EPSG:4490")
    >>> [round(v, 6) for v in t.transform(39_500_000, 3_480_000)][0]
    117.0
    """
    src, dst = _as_crs(src, source, "source CRS"), _as_crs(dst, source, "target CRS")
    group = TransformerGroup(src, dst, always_xy=True)
    if not group.transformers:
        raise TransformationError(f"{_where(source)}PROJ has no transformation from "
                                  f"{_label(src)} to {_label(dst)}; {_HELMERT_HELP}.")
    best = group.transformers[0]
    if best.accuracy == 0 and not _is_ballpark(best):
        return best
    if helmert is not None:
        return _helmert_transformer(src, dst, _helmert_params(helmert, source), source)
    if best.accuracy > 0 and not _is_ballpark(best):
        if not group.best_available:
            warnings.warn(f"{_where(source)}a more accurate {_label(src)} → {_label(dst)} "
                          "transformation needs a PROJ grid that is not installed; using one "
                          f"accurate to {best.accuracy} m (install grids with `projsync`).",
                          CRSWarning, stacklevel=2)
        return best
    if _itrf_aligned(src, dst):
        warnings.warn(f"{_where(source)}{_label(src)} → {_label(dst)}: WGS 84 and CGCS2000 are "
                      "treated as identical (both follow ITRF and agree to about 1 m).",
                      CRSWarning, stacklevel=2)
        return best
    raise TransformationError(_ballpark_message(src, dst, source))


def to_crs(gdf: gpd.GeoDataFrame, dst, *, helmert: Mapping | None = None,
           source: str = "", repair_column: str | None = None) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in ``dst``; the input is not modified.

    Polygons the transformation makes invalid are repaired
    (:func:`landcheck.io.geometry.repair_reprojected`); with ``repair_column`` the copy also
    gets that float column: each repaired polygon's relative area change, null elsewhere
    (also when no transformation is needed).

    Vectorised (one ``shapely.transform`` call); columns, index and ``attrs`` are kept, Z is
    kept where present. An equivalent CRS gives a plain copy. See :func:`make_transformer`
    for ``helmert`` and refused transformations.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(39_512_345.5, 3_480_000)],
    ...                      crs="EPSG:4527")
    >>> to_crs(g, "EPSG:4548").geometry.iloc[0].x
    512345.5
    """
    if not source:
        info = gdf.attrs.get("landcheck_source")
        source = getattr(info, "path", "") or ""
    if gdf.crs is None:
        raise CRSError(f"{_where(source)}the frame has no CRS; decide one with resolve_crs() "
                       "before transforming.")
    dst = _as_crs(dst, source, "target CRS")
    out = gdf.copy()
    if repair_column is not None:
        out[repair_column] = np.full(len(out), np.nan)
    if _same_crs(gdf.crs, dst):
        out.set_crs(dst, allow_override=True, inplace=True)
        return out
    transformer = make_transformer(gdf.crs, dst, helmert=helmert, source=source)
    geoms = shapely.transform(np.asarray(gdf.geometry.array), transformer.transform,
                              include_z=None, interleaved=False)
    _check_finite(geoms, gdf.index, gdf.crs, dst, source)
    changes = np.full(len(out), np.nan) if repair_column is not None else None
    geoms = _repair_transformed(np.asarray(gdf.geometry.array), geoms, out, dst, source, changes)
    out[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=dst)
    if repair_column is not None:
        out[repair_column] = changes
    return out


def _repair_transformed(before, after, out: gpd.GeoDataFrame, dst: CRS, source: str,
                        changes=None):
    """Polygons the transformation made invalid, repaired; the notes go into ``out.attrs``."""
    import dataclasses

    from landcheck.io.findings import FeatureLabels, Findings
    from landcheck.io.geometry import repair_reprojected

    findings = Findings()
    labels = FeatureLabels.of(out, "id" if "id" in out.columns else None)
    where = f"{_where(source)}reprojected to {_label(dst)}".strip()
    after = repair_reprojected(before, after, labels, where, findings, changes=changes)
    info = out.attrs.get("landcheck_source")
    if findings.notes and dataclasses.is_dataclass(info):
        out.attrs["landcheck_source"] = dataclasses.replace(
            info, notes=(*info.notes, *findings.notes))
    findings.emit(stacklevel=4)
    return after


# --- deciding a layer's CRS -------------------------------------------------------------------

def _from_declared(declared: CRS, file_crs: CRS | None, source: str) -> CRSDecision:
    if file_crs is None or _same_crs(declared, file_crs):
        return CRSDecision(declared, "argument", f"declared crs {_label(declared)}")
    warnings.warn(f"{_where(source)}the file says {_label(file_crs)} ({file_crs.name}) but "
                  f"{_label(declared)} ({declared.name}) was declared; using the declared CRS. "
                  "Remove the declaration if the file is right.", CRSWarning, stacklevel=3)
    return CRSDecision(declared, "argument",
                       f"declared crs {_label(declared)} overrides the file's {_label(file_crs)}")


def _from_coordinates(bounds, zone, central_meridian, zone_width, source):
    """Decision for a file without CRS, and the warning to emit (None when hinted)."""
    minx, miny, maxx, maxy = bounds
    hinted = zone is not None or central_meridian is not None
    empty = not _has_extent(bounds)
    prefix = None if empty else _prefix_zone(minx, maxx, source)
    if hinted and (empty or prefix or not _looks_like_degrees(bounds)):
        return _from_hint(zone, central_meridian, zone_width, prefix, source), None
    if empty:
        return _detected(CRS.from_epsg(_CGCS2000), "empty layer without a CRS → EPSG:4490 "
                         "assumed (there are no coordinates to place)", source)
    if prefix:
        crs = gk_crs(zone=prefix[0], zone_width=prefix[1], prefixed=True)
        return _detected(crs, f"zone-prefixed eastings {prefix[0]}xxxxxx → {crs.name} "
                         f"({_label(crs)})", source)
    if _looks_like_degrees(bounds):
        return _detected(CRS.from_epsg(_CGCS2000), "coordinates within lon/lat ranges → "
                         "CGCS2000 geographic (EPSG:4490) assumed; WGS 84 data would differ "
                         "by about 1 m", source)
    yprefix = _prefix_zone(miny, maxy, source) if 1e6 <= minx and maxx < 1e7 else None
    if yprefix:  # northings in x, prefixed eastings in y: check_bounds reports the swap
        crs = gk_crs(zone=yprefix[0], zone_width=yprefix[1], prefixed=True)
        return CRSDecision(crs, "detected", f"zone prefix {yprefix[0]} found in y"), None
    if 1e5 <= minx and maxx <= 9e5 and _CN_NORTHINGS[0] <= miny and maxy <= _CN_NORTHINGS[1]:
        raise AmbiguousCRSError(
            f"{_where(source)}the file has no CRS and its eastings ({minx:.0f}..{maxx:.0f}) "
            "have no zone prefix; the zone cannot be known from coordinates: pass the zone, e.g. "
            "zone=39 or central_meridian=117 (config key `zone` / `central_meridian`), or add a "
            ".prj.")
    raise CRSError(
        f"{_where(source)}the file has no CRS and its coordinates (x {minx:g}..{maxx:g}, y "
        f"{miny:g}..{maxy:g}) are neither lon/lat degrees nor zone-prefixed Gauss–Krüger "
        "eastings; declare the CRS (e.g. crs = \"EPSG:4527\") or add a .prj.")


def _from_hint(zone, central_meridian, zone_width, prefix, source) -> CRSDecision:
    pairs = (("zone", zone), ("central_meridian", central_meridian))
    hint = ", ".join(f"{k}={v}" for k, v in pairs if v is not None)
    hint_zone = _zone_from_hint(zone, central_meridian, zone_width, _where(source) + hint)
    if prefix is not None and prefix != (hint_zone, zone_width):
        raise CRSError(f"{_where(source)}{hint} ({zone_width}-degree zone {hint_zone}) "
                       "contradicts the eastings, "
                       f"whose prefix says {prefix[1]}-degree zone {prefix[0]} "
                       f"({prefix[0]}xxxxxx); correct the hint or remove it.")
    crs = gk_crs(zone=hint_zone, zone_width=zone_width, prefixed=prefix is not None)
    kind = "zone-prefixed" if prefix else "unprefixed"
    return CRSDecision(crs, "argument", f"{hint} with {kind} eastings → {crs.name} "
                       f"({_label(crs)})")


def _detected(crs: CRS, detail: str, source: str):
    note = (f"{_where(source)}no CRS in the file; {detail}. Add a .prj or declare the CRS to "
            "make this explicit.")
    return CRSDecision(crs, "detected", detail), note


def _prefix_zone(lo: float, hi: float, source: str) -> tuple[int, int] | None:
    """(zone, width) if both values are 8-digit zone-prefixed eastings of one zone."""
    zones = [int(v // 1e6) if 1e7 <= v < 1e8 else None for v in (lo, hi)]
    valid = [next((w for w, r in _ZONES.items() if z in r), None) for z in zones]
    if zones[0] != zones[1] and any(valid):
        raise CRSError(f"{_where(source)}the features span eastings {lo:.0f}..{hi:.0f}, i.e. zone "
                       f"prefixes {zones[0]} and {zones[1]}; one layer must use one zone: "
                       "split it by zone or reproject it to one CRS.")
    return (zones[0], valid[0]) if valid[0] else None


def _looks_like_degrees(bounds) -> bool:
    minx, miny, maxx, maxy = bounds
    x, y = max(abs(minx), abs(maxx)), max(abs(miny), abs(maxy))
    return (x <= 180 and y <= 90) or (x <= 90 and y <= 180)  # the latter: swapped lat/lon


def _zone_from_hint(zone, central_meridian, zone_width, what: str) -> int:
    _check_width(zone_width)
    zones = _ZONES[zone_width]
    if zone is None and central_meridian is None:
        raise CRSError(f"{what}: pass zone= or central_meridian=.")
    if central_meridian is not None:
        from_cm = (central_meridian + (3 if zone_width == 6 else 0)) / zone_width
        if from_cm != int(from_cm):
            raise CRSError(f"{what}: central_meridian={central_meridian} is not the central "
                           f"meridian of a {zone_width}-degree zone; check the value.")
        if zone is not None and zone != from_cm:
            raise CRSError(f"{what}: zone={zone} and central_meridian={central_meridian} "
                           f"disagree ({zone_width}-degree zone {int(from_cm)}); pass only one.")
        zone = int(from_cm)
    if zone not in zones:
        raise CRSError(f"{what}: {zone_width}-degree zone {zone} is not a CGCS2000 zone "
                       f"({zones.start}–{zones.stop - 1}); check zone / zone_width.")
    return int(zone)


def _check_width(zone_width) -> None:
    if zone_width not in _ZONES:
        raise CRSError(f"zone_width must be 3 or 6, got {zone_width!r}.")


# --- bounds checks ----------------------------------------------------------------------------

def _check_bounds(crs: CRS, bounds, source: str, context: str) -> None:
    if not _has_extent(bounds):
        return
    minx, miny, maxx, maxy = bounds
    seen = f"x {minx:g}..{maxx:g}, y {miny:g}..{maxy:g}"
    why = f" (CRS from {context})" if context else ""
    if crs.is_geographic:
        x, y = max(abs(minx), abs(maxx)), max(abs(miny), abs(maxy))
        if x <= 90 < y <= 180:
            raise CRSError(f"{_where(source)}axes appear swapped (lat, lon): {seen}, but in "
                           f"{_label(crs)}{why} x is longitude and y latitude; re-export the "
                           "layer with x = longitude.")
        if x > 180 or y > 90:
            raise CRSError(f"{_where(source)}{_label(crs)}{why} is in degrees but the data have "
                           f"{seen}, which look projected; declare the projected CRS.")
    area = _area_of_use(crs)
    if area is None:
        return
    extent = _lonlat_extent(crs, bounds)
    if _inside(extent, area):
        return
    if _inside(_lonlat_extent(crs, (miny, minx, maxy, maxx)), area):
        axes = "lat, lon" if crs.is_geographic else "northing/easting"
        raise CRSError(f"{_where(source)}axes appear swapped ({axes}): {seen} fit "
                       f"{_label(crs)}{why} only with x and y exchanged; re-export the layer "
                       "with x = easting/longitude.")
    raise CRSError(
        f"{_where(source)}the data ({seen}; {_describe(extent)}) lie outside the area of use "
        f"of {_label(crs)} {crs.name}{why}: {area.name} lon {area.west:g}..{area.east:g}, lat "
        f"{area.south:g}..{area.north:g} (±{AREA_TOLERANCE_DEG:g}° allowed). The CRS is "
        "probably wrong: check the .prj, declare the right CRS, or correct the zone.")


def _area_of_use(crs: CRS):
    if crs.area_of_use is not None:
        return crs.area_of_use
    code = crs.to_epsg()  # e.g. an ESRI .prj PROJ can identify
    return None if code is None else CRS.from_epsg(code).area_of_use


def _lonlat_extent(crs: CRS, bounds) -> tuple[float, float, float, float]:
    try:
        t = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        return t.transform_bounds(*bounds, densify_pts=21)
    except ProjError:
        return (math.nan,) * 4


def _inside(extent, area) -> bool:
    w, s, e, n = extent
    if not all(map(math.isfinite, extent)) or s < -90.01 or n > 90.01:
        return False
    aw, ae, tol = area.west, area.east, AREA_TOLERANCE_DEG
    if ae < aw:  # area crosses the antimeridian
        ae += 360
        w, e = (w + 360, e + 360) if w < aw - tol else (w, e)
    if e < w:
        e += 360
    return aw - tol <= w and e <= ae + tol and area.south - tol <= s and n <= area.north + tol


def _describe(extent) -> str:
    if not all(map(math.isfinite, extent)):
        return "not convertible to lon/lat"
    return "lon {:.3f}..{:.3f}, lat {:.3f}..{:.3f}".format(extent[0], extent[2], *extent[1::2])


# --- working CRS ------------------------------------------------------------------------------

def _declared_working(crs: CRS) -> CRSDecision:
    if not crs.is_projected or not _in_metres(crs):
        raise CRSError(f"working CRS: {_label(crs)} ({crs.name}) is not a projected CRS in "
                       "metres; declare one such as EPSG:4527 (CGCS2000 3° GK zone 39).")
    if _is_web_mercator(crs):
        warnings.warn(f"working CRS: {_label(crs)} is Web Mercator; buffer distances are "
                      "stretched by 1/cos(latitude). Prefer a Gauss–Krüger or UTM zone.",
                      CRSWarning, stacklevel=3)
    return CRSDecision(crs, "argument", f"declared working CRS {_label(crs)}")


def _working_from_centre(items) -> CRSDecision:
    extents = [e for c, b in items if _has_extent(b)
               for e in [_lonlat_extent(c, b)] if all(map(math.isfinite, e))]
    if not extents:
        raise CRSError("working CRS: no input is projected and none has coordinates to place; "
                       "declare the working CRS (e.g. EPSG:4527).")
    lon = (min(e[0] for e in extents) + max(e[2] for e in extents)) / 2
    lat = (min(e[1] for e in extents) + max(e[3] for e in extents)) / 2
    zone = zone_for_lon(lon)
    if any(_datum_key(c) == "china2000" for c, _ in items) and zone in _ZONES[3]:
        crs = gk_crs(zone=zone, prefixed=True)
        return CRSDecision(crs, "detected", f"data centred at {lon:.2f}°E → {crs.name} "
                           f"({_label(crs)}), zone-prefixed as in Chinese practice")
    crs = _utm_crs(items[0][0], lon, lat)
    return CRSDecision(crs, "detected", f"data centred at lon {lon:.2f}, lat {lat:.2f} → "
                       f"{crs.name} ({_label(crs)})")


def _utm_crs(like: CRS, lon: float, lat: float) -> CRS:
    number, hemi = min(max(math.floor((lon + 180) / 6) + 1, 1), 60), "N" if lat >= 0 else "S"
    datum = like.geodetic_crs.name if like.geodetic_crs else "WGS 84"
    wanted = f"{datum} / UTM zone {number}{hemi}"
    infos = query_utm_crs_info(datum_name=datum,
                               area_of_interest=AreaOfInterest(lon, lat, lon, lat))
    code = next((i.code for i in infos if i.name == wanted and i.auth_name == "EPSG"), None)
    return CRS.from_epsg(code or (32600 if hemi == "N" else 32700) + number)


def _in_metres(crs: CRS) -> bool:
    return crs.axis_info[0].unit_name in ("metre", "meter")


def _is_web_mercator(crs: CRS) -> bool:
    op = crs.coordinate_operation
    return op is not None and "pseudo" in op.method_name.lower()


# --- transformations --------------------------------------------------------------------------

def _is_ballpark(transformer: Transformer) -> bool:
    return "ballpark" in transformer.description.lower() or transformer.accuracy < 0


def _datum_key(crs: CRS) -> str:
    datum = crs.datum or (crs.geodetic_crs.datum if crs.geodetic_crs else None)
    return re.sub(r"[^a-z0-9]", "", datum.name.lower()) if datum else ""


def _itrf_aligned(src: CRS, dst: CRS) -> bool:
    keys = {next((k for k in _ITRF_ALIGNED if _datum_key(c).startswith(k)), None)
            for c in (src, dst)}
    return keys == set(_ITRF_ALIGNED)


def _ballpark_message(src: CRS, dst: CRS, source: str) -> str:
    a, b = (c.geodetic_crs.name if c.geodetic_crs else c.name for c in (src, dst))
    return (f"{_where(source)}cannot transform {_label(src)} ({src.name}) to {_label(dst)} "
            f"({dst.name}): PROJ has no parameters for the {a} → {b} datum shift, only a "
            "'ballpark' that ignores it or one of unknown accuracy, and such shifts are tens "
            "of metres or more (Xian 1980 and Beijing 1954 → CGCS2000 are). To proceed, "
            f"{_HELMERT_HELP}. If the file's CRS itself is wrong (e.g. a .prj without datum), "
            "declare the right CRS instead.")


def _helmert_params(helmert: Mapping, source: str) -> dict:
    where = f"{_where(source)}helmert"
    if not isinstance(helmert, Mapping):
        raise InputError(f"{where} must be a table of {', '.join(_HELMERT_KEYS)}, convention; "
                         f"got {type(helmert).__name__}.")
    unknown = sorted(set(helmert) - {*_HELMERT_KEYS, "convention"})
    missing = [k for k in ("tx", "ty", "tz") if k not in helmert]
    if unknown or missing:
        raise InputError(f"{where}: unknown keys {unknown} / missing keys {missing}; expected "
                         f"{', '.join(_HELMERT_KEYS)} and convention.")
    params = {k: helmert.get(k, 0.0) for k in _HELMERT_KEYS}
    bad = [k for k, v in params.items()
           if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v)]
    if bad:
        raise InputError(f"{where}: {', '.join(bad)} must be finite numbers.")
    convention = helmert.get("convention")
    if convention not in (None, "position_vector", "coordinate_frame") or (
            convention is None and any(params[k] for k in ("rx", "ry", "rz"))):
        raise InputError(f"{where}: convention must be 'position_vector' or 'coordinate_frame' "
                         f"(got {convention!r}); the sign of the rotations depends on it.")
    return {**{k: float(v) for k, v in params.items()}, "convention": convention}


def _helmert_transformer(src: CRS, dst: CRS, p: dict, source: str) -> Transformer:
    """inverse src projection → cartesian (src ellipsoid) → Helmert → geodetic (dst) → dst."""
    helmert = f"proj=helmert x={p['tx']!r} y={p['ty']!r} z={p['tz']!r}"
    if p["convention"]:
        helmert += (f" rx={p['rx']!r} ry={p['ry']!r} rz={p['rz']!r} s={p['s']!r}"
                    f" convention={p['convention']}")
    elif p["s"]:
        helmert += f" s={p['s']!r}"
    steps = [*_inverse(_from_lonlat_steps(src, source)), "proj=unitconvert xy_in=deg xy_out=rad",
             f"proj=cart {_ellps(src)}", helmert, f"inv proj=cart {_ellps(dst)}",
             "proj=unitconvert xy_in=rad xy_out=deg", *_from_lonlat_steps(dst, source)]
    return Transformer.from_pipeline("proj=pipeline " + " ".join(f"step {s}" for s in steps))


def _from_lonlat_steps(crs: CRS, source: str) -> list[str]:
    """PROJ steps from (lon, lat) degrees on the CRS's own datum to (x, y) of the CRS."""
    geod = crs.geodetic_crs
    if (geod is None or crs.prime_meridian.longitude != 0
            or geod.axis_info[0].unit_name != "degree"):
        raise TransformationError(f"{_where(source)}a helmert transformation needs a CRS with a "
                                  f"Greenwich prime meridian and degrees; {_label(crs)} is not.")
    definition = Transformer.from_crs(geod, crs, always_xy=True).definition.strip()
    head, *steps = re.split(r"\s+step\s+", definition)
    if head.startswith("proj=noop"):
        return []
    if head != "proj=pipeline":
        return [head]
    return steps


def _inverse(steps: list[str]) -> list[str]:
    swap = {"omit_fwd": "omit_inv", "omit_inv": "omit_fwd"}
    out = []
    for step in reversed(steps):
        tokens = [swap.get(t, t) for t in step.split()]
        out.append(" ".join(tokens[1:] if tokens[0] == "inv" else ["inv", *tokens]))
    return out


def _ellps(crs: CRS) -> str:
    e = crs.ellipsoid
    shape = f"rf={e.inverse_flattening!r}" if e.inverse_flattening else f"b={e.semi_minor_metre!r}"
    return f"a={e.semi_major_metre!r} {shape}"


def _check_finite(geoms, index, src, dst, source: str) -> None:
    coords, where = shapely.get_coordinates(geoms, return_index=True)
    bad = np.unique(where[~np.isfinite(coords).all(axis=1)])
    if bad.size:
        raise TransformationError(
            f"{_where(source)}{bad.size} feature(s) could not be transformed from {_label(src)} "
            f"to {_label(dst)} (ids {format_ids(index[bad])}): their coordinates lie outside "
            "what the CRS can represent; check the layer's CRS.")


# --- small helpers ----------------------------------------------------------------------------

def _as_crs(value, source: str, what: str) -> CRS:
    if isinstance(value, CRSDecision):
        return value.crs
    try:
        return CRS.from_user_input(value)
    except ProjCRSError as exc:
        raise CRSError(f"{_where(source)}{what} {value!r} is not a CRS PROJ understands ({exc}); "
                       "use an EPSG code such as 'EPSG:4527'.") from exc


def _as_bounds(bounds) -> tuple[float, float, float, float]:
    values = (math.nan,) * 4 if bounds is None else tuple(float(v) for v in bounds)
    if len(values) != 4:
        raise InputError(f"bounds must be (minx, miny, maxx, maxy), got {bounds!r}.")
    return values


def _has_extent(bounds) -> bool:
    return all(map(math.isfinite, bounds))


def _same_crs(a: CRS, b: CRS) -> bool:
    if a.equals(b, ignore_axis_order=True):
        return True
    auth = a.to_authority()
    return auth is not None and auth == b.to_authority()


def _label(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _where(source: str) -> str:
    return f"{source}: " if source else ""
