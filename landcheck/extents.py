"""Do the reference layers lie where the patches are? (a layer elsewhere contributes nothing)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyproj

from landcheck.errors import DataWarning, InputError
from landcheck.provenance import ATTRS_KEY

__all__ = ["box_in", "check_extents"]


def box_in(bounds, src, dst) -> tuple[float, float, float, float]:
    """The box ``bounds`` (minx, miny, maxx, maxy) in CRS ``src``, as a box in CRS ``dst``
    (its edges densified, so that the box holds the transformed one)."""
    src, dst = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
    if src == dst:
        return tuple(float(b) for b in bounds)
    t = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    return tuple(float(b) for b in t.transform_bounds(*bounds, densify_pts=21))


def check_extents(patch_bounds, layers: Mapping[str, Any], crs, *, what: str = "the patches",
                  stacklevel: int = 2) -> None:
    """Warn about reference layers whose extent does not meet the patches'; fail if none does.

    ``patch_bounds`` is the patches' ``(minx, miny, maxx, maxy)`` and ``layers`` the reference
    frames by role, all in the working CRS ``crs``. Extents meet when their boxes intersect
    or touch. A layer without features or geometries, or patches without a box, is not
    compared. Each layer that does not meet gives a :class:`DataWarning` naming it and both
    extents; when no compared layer meets, :class:`InputError` is raised instead.
    """
    patch_box = np.asarray(patch_bounds, dtype=float)
    if not np.isfinite(patch_box).all():
        return
    apart = {}
    for role, gdf in layers.items():
        box = np.asarray(gdf.total_bounds, dtype=float) if len(gdf) else np.full(4, np.nan)
        if np.isfinite(box).all() and not (box[0] <= patch_box[2] and patch_box[0] <= box[2]
                                           and box[1] <= patch_box[3] and patch_box[1] <= box[3]):
            apart[role] = box
    if not apart:
        return
    crs = pyproj.CRS.from_user_input(crs)
    label = crs.to_string() if crs.to_authority() else crs.name
    digits = 6 if crs.is_geographic else 0

    def fmt(b) -> str:
        return f"x {b[0]:.{digits}f}..{b[2]:.{digits}f}, y {b[1]:.{digits}f}..{b[3]:.{digits}f}"

    def name(role) -> str:
        info = layers[role].attrs.get(ATTRS_KEY)
        return f"{role} ({info.path})" if info is not None else role

    compared = sum(1 for g in layers.values()
                   if len(g) and np.isfinite(np.asarray(g.total_bounds, dtype=float)).all())
    if len(apart) == compared:
        listed = "; ".join(f"{name(r)}: {fmt(b)}" for r, b in apart.items())
        raise InputError(
            f"no reference layer meets {what} ({fmt(patch_box)} in {label}): {listed}. Every "
            f"layer lies elsewhere: check that the patch file and the layers cover the same area "
            f"and that their CRS (or zone) is right")
    for role, box in apart.items():
        warnings.warn(
            f"layer {name(role)} does not meet {what}: its extent is {fmt(box)}, theirs "
            f"{fmt(patch_box)} (in {label}); it contributes nothing. Check that it covers the "
            f"same area and that its CRS (or zone) is right", DataWarning, stacklevel=stacklevel)
