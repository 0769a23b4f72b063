"""Facts of the covering roles (approvals, facility-agriculture filings, temporary land):
the legal cover of each patch, the parts that do not count as cover, and the remainder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.facts.remainder import cut_length, cut_remainder, remainder_on
from landcheck.facts.schema import FACILITY_KINDS, FACILITY_NOT_ON_PF
from landcheck.geometry.pairs import feature_ids, hits, lists_by, union_by
from landcheck.geometry.parts import or_empty, polygonal, union_rows
from landcheck.vocab import temporary_uses

__all__ = ["cover_facts"]


def dated_pieces(work, ref, after, date_ok, m):
    """Clip pairs and split them by a date condition ``date_ok(pairs) -> bool mask``."""
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri, pieces, _ = hits(work, ref_geoms, m)
    return pi, ri, pieces, date_ok(pi, ri)


def cover_facts(
    work, patches, category, layers, unions, shares, built, farm_pieces, facts, m, tolerance_m
):
    """Legal cover, the parts excluded from the remainder, and the remainder itself.

    remainder = patch − cover − later approvals − existing construction land, with parts
    thinner than ``tolerance_m`` removed. ``cut_m`` is the length of the line between the
    remainder and the rest of the patch. ``shares``: (zone role, column) of the remainder
    shares measured on the zones' unions (see :func:`remainder_on`).

    The remainder is cut with the features themselves (approvals, construction parcels),
    not with their pieces inside the patch: a piece's edges along the patch outline are the
    patch's edges split at rounded crossing points, and cutting the patch with them leaves
    hairline slivers and spikes along the outline, and costs more. Facility and temporary
    covers, which are not whole features, cut as pieces.
    """
    n = len(work)
    found: list[pd.DataFrame] = []  # the covering pieces, one per (patch, feature)
    after = (
        pd.to_datetime(patches["after"], errors="coerce").to_numpy()
        if "after" in patches.columns
        else np.full(n, np.datetime64("NaT"))
    )
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    covers: list[np.ndarray] = []
    # what the remainder is cut with, in this order: (patch row, geometry) pairs
    cut_pi, cutters = [], []
    n_valid = np.zeros(n, dtype=np.int64)  # cutters that are approvals in force
    if "approvals" in layers:
        ok_union, a_pi, a_cutters, a_valid = approval_cover(
            work, layers["approvals"], after, cols, m, found
        )
        covers.append(ok_union)
        cut_pi.append(a_pi)
        cutters.append(a_cutters)
        n_valid = np.bincount(a_pi[a_valid], minlength=n)
    pieced, held = [], []
    if "facility_ag" in layers:
        facility, unknown = facility_cover(work, layers["facility_ag"], after, unions, cols, m,
                                           found)
        pieced.append(facility)
        held.append(unknown)
    if "temporary_land" in layers:
        temporary, unknown_use = temporary_cover(work, layers["temporary_land"], after,
                                                 category, cols, m, found)
        pieced.append(temporary)
        held.append(unknown_use)
    covers.extend(pieced)
    cover = union_rows(covers, n, work)
    for extra in pieced + held:  # what is held for review is not left to the remainder
        rows = np.flatnonzero(~shapely.is_missing(extra))
        cut_pi.append(rows)
        cutters.append(extra[rows])
    cut_pi.append(built[0])
    cutters.append(built[1])
    cut_pi = np.concatenate(cut_pi).astype(np.int64)
    cutters = np.concatenate([np.asarray(c, dtype=object) for c in cutters])
    remainder, raw = cut_remainder(work, cut_pi, cutters, tolerance_m)
    # where a patch is cut by its approvals in force alone, the bare difference is
    # patch − cover, which the fragments reuse
    n_cut = np.bincount(cut_pi, minlength=n)
    uncovered = np.where((n_cut == n_valid) & (n_valid > 0), raw, None)
    cols["cover_m2"] = m.area(cover)
    cols["built_m2"] = (  # the construction parcels' share of the patch (a coverage)
        facts["lu_construction_m2"].to_numpy() if "lu_construction_m2" in facts else np.nan
    )
    cols["remainder_m2"] = m.area(remainder)
    cols["cut_m"] = cut_length(work, remainder)
    remainder_on(remainder, cols["remainder_m2"].to_numpy(), unions, shares, farm_pieces, facts,
                 cols, m)
    return cover, remainder, uncovered, cols, cover_pieces(found)


#: Columns of the covering pieces :func:`cover_facts` returns (one row per patch and
#: covering feature): the patch row, the covering role, the feature's id and kind, the
#: piece of the patch it covers.
COVER_PIECE_COLUMNS = ("row", "source", "ref_id", "kind", "geometry")


def cover_pieces(found) -> pd.DataFrame:
    """The pieces of :func:`cover_facts` as one frame (:data:`COVER_PIECE_COLUMNS`)."""
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "row" else np.int64)
                             for c in COVER_PIECE_COLUMNS})
    return pd.concat(found, ignore_index=True)


def _pieces(source, pi, ref, ri, geoms, kind_field="kind") -> pd.DataFrame:
    kind = (ref[kind_field].astype("string").to_numpy(dtype=object)[ri]
            if kind_field in ref.columns else np.full(len(ri), None, dtype=object))
    return pd.DataFrame({"row": np.asarray(pi, dtype=np.int64), "source": source,
                         "ref_id": feature_ids(ref, ri), "kind": kind,
                         "geometry": np.asarray(geoms, dtype=object)})


def approval_cover(work, ref, after, cols, m, found):
    """Approvals dated on or before the after-date cover; later ones are 先建后批."""
    n = len(work)
    date = pd.to_datetime(ref["date"], errors="coerce").to_numpy()
    pi, ri, pieces, valid = dated_pieces(work, ref, after, lambda pi, ri: date[ri] <= after[pi], m)
    late = ~valid & (date[ri] > after[pi])
    # the remainder is cut with the approvals themselves (or the patch, where it lies in one)
    dated = valid | late
    whole = m.whole_of(pieces, pi)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    cutters = np.where(whole, pieces, ref_geoms[ri])[dated]
    ok_union = union_by(pieces[valid], pi[valid], n, work)
    late_union = union_by(pieces[late], pi[late], n, work)
    both = ~shapely.is_missing(ok_union) & ~shapely.is_missing(late_union)
    late_only = np.where(shapely.is_missing(ok_union), late_union, None)
    diff = both & ~m.whole(ok_union)  # a whole-patch approval leaves nothing late-only
    if diff.any():
        late_only[diff] = shapely.difference(late_union[diff], ok_union[diff])
    late_only = polygonal(late_only)
    ok_union = polygonal(ok_union)
    cols["approved_m2"] = m.area(ok_union)
    cols["approved_late_m2"] = m.area(late_only)
    ids = feature_ids(ref, ri)
    cols["approval_ids"] = lists_by(ids[valid], pi[valid], n)
    cols["approval_late_ids"] = lists_by(ids[late], pi[late], n)
    found.append(_pieces("approvals", pi[valid], ref, ri[valid], pieces[valid]))
    return ok_union, pi[dated], cutters, valid[dated]


def facility_cover(work, ref, after, unions, cols, m, found):
    """Filings dated no later than the after-date cover a patch, livestock and aquaculture
    ones not on permanent farmland; a filing of an unknown or missing kind covers nothing and
    is returned apart (its area is for review, named in ``facility_unknown_kinds``)."""
    n = len(work)
    date = (
        pd.to_datetime(ref["date"], errors="coerce").to_numpy()
        if "date" in ref.columns
        else np.full(len(ref), np.datetime64("NaT"))
    )
    kind = (
        ref["kind"].astype("string").fillna("").to_numpy(dtype=object)
        if "kind" in ref.columns
        else np.full(len(ref), "", dtype=object)
    )
    pi, ri, pieces, ok = dated_pieces(
        work, ref, after, lambda pi, ri: pd.isna(date[ri]) | (date[ri] <= after[pi]), m
    )
    restricted = np.isin(kind[ri], FACILITY_NOT_ON_PF)
    unknown = ok & ~np.isin(kind[ri], FACILITY_KINDS)
    ok = ok & ~unknown
    held = polygonal(union_by(pieces[unknown], pi[unknown], n, work))
    cols["facility_unknown_m2"] = m.area(held)
    written = np.where(kind[ri][unknown] == "", "（空）", kind[ri][unknown])
    cols["facility_unknown_kinds"] = lists_by(written, pi[unknown], n)
    free = union_by(pieces[ok & ~restricted], pi[ok & ~restricted], n, work)
    limited = union_by(pieces[ok & restricted], pi[ok & restricted], n, work)
    pf = unions.get("permanent_farmland", np.full(n, None, dtype=object))
    on_pf = np.where(
        shapely.is_missing(limited) | shapely.is_missing(pf),
        None,
        shapely.intersection(or_empty(limited), or_empty(pf)),
    )
    limited_ok = np.where(
        shapely.is_missing(on_pf), limited, shapely.difference(or_empty(limited), or_empty(on_pf))
    )
    cover = union_rows([free, limited_ok], n, work)
    cols["facility_m2"] = m.area(polygonal(cover))
    cols["facility_on_pf_m2"] = m.area(polygonal(on_pf))
    cols["facility_ids"] = lists_by(feature_ids(ref, ri)[ok], pi[ok], n)
    own = pieces[ok].copy()  # each filing's piece, less permanent farmland where restricted
    cut = restricted[ok] & ~shapely.is_missing(pf[pi[ok]])
    if cut.any():
        own[cut] = shapely.difference(own[cut], or_empty(pf[pi[ok]][cut]))
    found.append(_pieces("facility_ag", pi[ok], ref, ri[ok], polygonal(own)))
    return cover, held


def temporary_cover(work, ref, after, category, cols, m, found):
    """Temporary approvals in force at the after-date cover a patch whose category their
    approved use allows (``temporary_uses.csv``); in force but another use → use changed.
    An approval in force whose use is missing or not in that table neither covers nor counts
    as use changed: it is returned apart (its area is for review, the uses as written in
    ``temporary_use_unknown``). A layer without a ``use`` field is not checked for use."""
    n = len(work)
    start = pd.to_datetime(ref["start"], errors="coerce").to_numpy()
    end = pd.to_datetime(ref["end"], errors="coerce").to_numpy()
    pi, ri, pieces, in_force = dated_pieces(
        work, ref, after, lambda pi, ri: (start[ri] <= after[pi]) & (after[pi] <= end[ri]), m
    )
    use = (ref["use"].astype("string").fillna("").str.strip().to_numpy(dtype=object)
           if "use" in ref.columns else None)
    if use is not None:
        allowed = temporary_uses()
        known = np.isin(use[ri], list(allowed))
        fits = np.array(
            [
                category[p] in allowed.get(use[r], ())
                for p, r in zip(pi.tolist(), ri.tolist(), strict=True)
            ],
            dtype=bool,
        )
    else:
        known = fits = np.ones(len(pi), dtype=bool)
    unknown = in_force & ~known
    ok = in_force & known & fits
    expired = ~in_force & (end[ri] < after[pi])
    cover = polygonal(union_by(pieces[ok], pi[ok], n, work))
    held = polygonal(union_by(pieces[unknown], pi[unknown], n, work))
    cols["temporary_use_unknown_m2"] = m.area(held)
    written = (np.where(use[ri][unknown] == "", "（空）", use[ri][unknown]) if use is not None
               else np.zeros(0, dtype=object))
    cols["temporary_use_unknown"] = lists_by(written, pi[unknown], n)
    bad = union_by(pieces[in_force & known & ~fits], pi[in_force & known & ~fits], n, work)
    exp_union = union_by(pieces[expired], pi[expired], n, work)
    cols["temporary_m2"] = m.area(cover)
    cols["temporary_use_bad_m2"] = m.area(polygonal(bad))
    cols["temporary_expired_m2"] = m.area(polygonal(exp_union))
    cols["temporary_ids"] = lists_by(feature_ids(ref, ri)[in_force], pi[in_force], n)
    found.append(_pieces("temporary_land", pi[ok], ref, ri[ok], pieces[ok], "use"))
    return cover, held
