"""Facts of the land-use survey layer (a coverage): area per land-use group and planting
attribute, farmland on permanent farmland, and the construction land and farmland under each
patch that the remainder needs. Groups follow the layer's land-use scheme (三调 or 用地用海,
:func:`landcheck.vocab.scheme_of`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.facts.schema import PLANTING_CODES
from landcheck.geometry.pairs import Distinct, lists_by, pairs, sum_by, sums_by_code
from landcheck.geometry.parts import same
from landcheck.vocab import (
    LAND3,
    LANDUSE_GROUPS,
    SCHEME_COLUMN,
    landuse_class_name,
    landuse_group,
    landuse_land3,
    scheme_of,
)

__all__ = ["landuse_facts"]


def landuse_facts(work, ref, pf_union, pf_area, m):
    """Area per land-use group and planting attribute, farmland on permanent farmland, the
    existing construction land under each patch (geometry, for the remainder) and the
    farmland pairs (for the remainder on farmland). The layer must be a coverage (no
    overlaps), so pieces are summed without a union.

    Only the construction land is needed as geometry: every other figure is the area of a
    patch–parcel intersection, measured from the two outlines
    (:func:`landcheck.geometry.pairarea.overlap_areas`) without building the piece.
    """
    n = len(work)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri = pairs(work, ref_geoms, predicate=None, tree=m.tree)
    piece_area, inside = m.overlap_patches(pi, ref_geoms[ri])
    hit = piece_area > 0  # a parcel that only touches the patch (or its box) is not hit
    pi, ri, piece_area, inside = pi[hit], ri[hit], piece_area[hit], inside[hit]
    codes = Distinct(ref["class"], ri)
    text = codes.text.astype(object).to_numpy()
    # the layer's scheme (三调 or 用地用海); a layer read through a config was checked and
    # warned about when read, a frame of one's own is checked here
    resolved = SCHEME_COLUMN in ref.columns
    groups = landuse_group(codes.text, scheme=scheme_of(ref), source="landuse",
                           counts=codes.counts, warn=not resolved).fillna("unknown")
    groups = groups.astype(object).to_numpy()
    group = codes.per_pair(groups, "unknown")
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    k = codes.position(groups, "unknown", LANDUSE_GROUPS)
    for g, total in zip(
        LANDUSE_GROUPS, sums_by_code(k, LANDUSE_GROUPS, piece_area, pi, n), strict=True
    ):
        cols[f"lu_{g}_m2"] = total
    is_k = codes.per_pair(codes.text.str.endswith("K").fillna(False).to_numpy(bool), False)
    cols["lu_k_m2"] = sum_by(np.where(is_k, piece_area, 0.0), pi, n)
    cols["lu_classes"] = lists_by(codes.per_pair(text, ""), pi, n)
    unknown = group == "unknown"
    cols["lu_unknown_classes"] = [sorted(set(v)) for v in
                                  lists_by(codes.per_pair(text, "")[unknown], pi[unknown], n)]
    scheme = scheme_of(ref)
    paddy = codes.per_pair((landuse_class_name(codes.text, scheme=scheme) == "水田")
                           .fillna(False).to_numpy(bool), False)
    cols["lu_paddy_m2"] = sum_by(np.where(paddy, piece_area, 0.0), pi, n)
    land3 = landuse_land3(codes.text, scheme=scheme).fillna("").astype(object).to_numpy()
    has_land3 = bool((land3 != "").any())  # the 用地用海 table has no correspondence
    land3 = codes.per_pair(land3, "")
    for name in LAND3.values():
        cols[f"land3_{name}_m2"] = (sum_by(np.where(land3 == name, piece_area, 0.0), pi, n)
                                    if has_land3 else np.nan)
    # agricultural land other than farmland (非耕农用地); farmland is agricultural land
    cols["land3_nonfarm_agricultural_m2"] = (cols["land3_agricultural_m2"]
                                             - cols["lu_farmland_m2"]).clip(lower=0.0)
    if "planting" in ref.columns:
        kinds = Distinct(ref["planting"], ri)
        values = kinds.text.astype(object).to_numpy()
        planting_k = kinds.position(values, "", PLANTING_CODES)
        planting = kinds.per_pair(values, "")
    else:
        planting_k = np.full(len(ri), -1, dtype=np.int64)
        planting = np.full(len(ri), None, dtype=object)
    for code, total in zip(
        PLANTING_CODES, sums_by_code(planting_k, PLANTING_CODES, piece_area, pi, n), strict=True
    ):
        cols[f"planting_{code}_m2"] = total
    farm = group == "farmland"
    on_pf = np.zeros(len(pi))
    if pf_union is not None:
        on_pf[farm] = on_union(
            ref_geoms[ri[farm]], inside[farm], piece_area[farm], pf_union, pf_area, pi[farm], m
        )
    cols["lu_farmland_pf_m2"] = sum_by(np.where(farm, on_pf, 0.0), pi, n)
    cols["planting_FLS_pf_m2"] = sum_by(np.where(farm & (planting == "FLS"), on_pf, 0.0), pi, n)
    cols["general_farmland_m2"] = cols["lu_farmland_m2"] - cols["lu_farmland_pf_m2"]
    # the construction land under each patch, as the parcels themselves (the remainder is
    # the patch minus them, so they need no clipping), or the patch where it lies in one
    on_built = group == "construction"
    parcels = np.where(inside[on_built], work[pi[on_built]], ref_geoms[ri[on_built]])
    lu_total = sum_by(piece_area, pi, n)
    return (
        cols,
        (pi[on_built], parcels),
        (pi, pi[farm], ref_geoms[ri[farm]], inside[farm], lu_total),
    )


def on_union(parcels, inside, piece_area, union, union_area, pi, m) -> np.ndarray:
    """Area of each patch–parcel piece (patch ``pi``) inside that patch's ``union``.

    ``union`` lies inside its patch, so the piece's part in it is the parcel's part in it.
    A union that is the whole patch holds the piece (its area); a patch inside the parcel
    (``inside``) has the union's area; the rest are measured from the outlines.
    """
    target = union[pi]
    out = np.zeros(len(pi))
    has = ~shapely.is_missing(target)
    whole_t = has & same(target, m.work[pi])
    out[whole_t] = piece_area[whole_t]
    whole_p = has & ~whole_t & inside
    out[whole_p] = union_area[pi[whole_p]]
    rest = has & ~whole_t & ~whole_p
    if rest.any():
        out[rest] = m.overlap(target[rest], parcels[rest])[0]
    return out
