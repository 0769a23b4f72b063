"""The remainder (patch minus legal cover, later approvals and existing construction land,
slivers removed), the length of the line it was cut along, and its shares on protected
zones and farmland."""

from __future__ import annotations

import numpy as np
import shapely

from landcheck.geometry.pairs import outline_points, sum_by
from landcheck.geometry.parts import or_empty, polygonal, same

__all__ = ["CUT_SNAP_M", "cut_length", "cut_remainder", "remainder_on"]


#: Distance (m) within which a remainder edge counts as lying on the patch boundary.
CUT_SNAP_M = 1e-6


def cut_length(work, remainder) -> np.ndarray:
    """Length of the remainder's boundary that is not the patch's boundary: the line along
    which the remainder was cut from the rest of the patch (0 for an uncut patch).

    Overlay noding splits the remainder's boundary wherever it leaves the patch's, so each
    edge of the remainder lies either on the patch boundary or inside the patch. An edge
    counts as on the boundary when the points at a third and two thirds of its length are
    both within :data:`CUT_SNAP_M` of the patch boundary (the overlay moves vertices by
    ~1e-9 m, so exact tests fail); the rest is the cut.
    """
    has = ~shapely.is_missing(work) & ~shapely.is_missing(remainder)
    has &= ~same(remainder, work)
    out = np.zeros(len(work))
    if not has.any():
        return out
    from landcheck.geometry.outline_kernel import cut_lengths

    rows = np.flatnonzero(has)
    rx, ry, r_ring, r_off = outline_points(remainder[rows])
    px, py, p_ring, p_off = outline_points(work[rows])
    out[rows] = cut_lengths(rx, ry, r_ring, r_off, px, py, p_ring, p_off, CUT_SNAP_M)
    return out


def cut_remainder(work, cut_pi, cutters, tolerance_m) -> tuple[np.ndarray, np.ndarray]:
    """Each patch minus the union of its cutters (``cutters[k]`` cuts patch ``cut_pi[k]``),
    with parts thinner than the tolerance removed (opening).

    A patch without cutters is its own remainder (the same object); a patch one of whose
    cutters is the patch itself has none. Also returns the bare differences (None where
    none was needed).
    """
    n = len(work)
    has = ~shapely.is_missing(work)
    rem = np.asarray(work, dtype=object).copy()
    raw = np.full(n, None, dtype=object)
    gone = np.zeros(n, dtype=bool)
    gone[cut_pi[same(cutters, work[cut_pi])]] = True
    both = has & (np.bincount(cut_pi, minlength=n) > 0) & ~gone
    rem[gone] = None
    if both.any():
        # one cutter after the other (round k: every patch with a k-th cutter), rather than
        # a union of the cutters first: each difference is a small remainder against one
        # feature (whose edges away from the remainder's box are skipped), while a union of
        # whole features (approvals, parcels) costs more than all the differences together
        sel = both[cut_pi]
        cpi, cut = cut_pi[sel], cutters[sel]
        order = np.argsort(cpi, kind="stable")
        cpi, cut = cpi[order], cut[order]
        first = np.flatnonzero(np.r_[True, cpi[1:] != cpi[:-1]])
        rank = np.arange(len(cpi)) - np.repeat(first, np.diff(np.r_[first, len(cpi)]))
        from landcheck.geometry.pairclip import clip_pairs

        left = work.copy()
        for k in range(int(rank.max()) + 1):
            at = rank == k
            left[cpi[at]] = clip_pairs(left[cpi[at]], cut[at], difference=True)
        raw[both] = rem[both] = left[both]
    rem = polygonal(rem)
    if tolerance_m > 0:
        from landcheck.geometry.outline_kernel import opening_keeps, same_rings
        from landcheck.geometry.pairarea import flatten, overlap_areas

        cut = ~shapely.is_missing(rem) & both  # only a cut remainder can have slivers
        d = tolerance_m / 2.0
        # a remainder with no part thinner than the tolerance, no corner sharper than the
        # mitre limit allows and no vertex GEOS would simplify away is its own opening
        # (checked from its outline, without GEOS)
        if cut.any():
            cut[np.flatnonzero(cut)[opening_keeps(*flatten(rem[cut]), d)]] = False
        opened = polygonal(
            shapely.buffer(shapely.buffer(rem[cut], -d, join_style="mitre"), d, join_style="mitre")
        )
        # keep the exact difference where the opening removed nothing: the opening moves
        # edges by ~1e-9 m, which must not turn into phantom cuts or areas. (The opening
        # alone is not enough to tell: mitre joins can bulge out of the remainder.) What is
        # left of the remainder inside its opening is measured from the outlines (planar);
        # the opening mostly repeats the remainder's vertices exactly, which the measure
        # decides without GEOS. Only remainders that lost something are trimmed.
        cut_rem = rem[cut]
        after = np.zeros(len(cut_rem))
        changed = np.zeros(len(cut_rem), dtype=bool)
        # an opening that repeats the remainder's rings bit for bit removed nothing: no need
        # to measure it
        todo = ~same_rings(*outline_points(cut_rem), *outline_points(or_empty(opened)))
        if todo.any():
            before = shapely.area(cut_rem[todo])
            after[todo], _ = overlap_areas(cut_rem[todo], opened[todo], crs=None)
            lost = after[todo] < before - 1e-9 * np.maximum(before, 1.0)
            # a zero-width spike (a ring running out along a line and back) has no area, but
            # the opening removes it, and it would count twice in the cut length
            perimeter = shapely.length(cut_rem[todo])
            lost |= shapely.length(or_empty(opened[todo])) < perimeter - 1e-6 * np.maximum(
                perimeter, 1.0
            )
            changed[todo] = lost
        rows = np.flatnonzero(cut)[changed]
        # an opening whose area is what the measure found of it inside the remainder (up to
        # the ~1e-9 m its edges moved: 1e-9 relative) lies in the remainder and is the
        # trimmed remainder itself; only where a mitre join bulged out of the remainder is it
        # cut back by GEOS
        opened = opened[changed]
        kept = after[changed]
        fits = shapely.area(or_empty(opened)) <= kept + 1e-9 * np.maximum(kept, 1.0)
        trimmed = np.where(fits, opened, None)
        if (~fits).any():
            trimmed[~fits] = polygonal(shapely.intersection(rem[rows[~fits]], opened[~fits]))
        rem[rows] = trimmed
    return rem, raw


def remainder_on(remainder, rem_area, unions, shares, farm_pieces, facts, cols, m) -> None:
    """The remainder on each zone of ``shares`` — (role, column) pairs, such as
    (``permanent_farmland``, ``remainder_pf_m2``) — and on farmland.

    An uncut patch (its remainder is the patch) takes the patch's own figures; a union that
    is the whole patch holds the whole remainder. Only cut remainders are intersected: with
    the zone unions, and for farmland with the farmland parcels the land-use step found
    under the patch (the land-use layer is a coverage, so their areas add up).
    """
    n = len(remainder)
    has = ~shapely.is_missing(remainder)
    uncut = m.whole(remainder)
    cut = has & ~uncut
    for role, col in shares:
        if role not in unions:
            continue
        u = unions[role]
        out = np.zeros(n)
        out[uncut] = facts[f"{role}_m2"].to_numpy()[uncut]
        inside = cut & m.whole(u)
        out[inside] = rem_area[inside]
        todo = cut & ~inside & ~shapely.is_missing(u)
        if todo.any():
            out[todo] = m.overlap(remainder[todo], u[todo])[0]
        cols[col] = out
    if farm_pieces is not None:
        pi_all, pi, parcels, in_parcel, lu_total = farm_pieces
        out = np.zeros(n)
        out[uncut] = facts["lu_farmland_m2"].to_numpy()[uncut]
        # a patch whose land-use pieces are all farmland and fill it (a coverage without a
        # gap under the patch) has its whole remainder on farmland
        n_all = np.bincount(pi_all, minlength=n)
        n_farm = np.bincount(pi, minlength=n)
        filled = lu_total >= facts["area_m2"].to_numpy() * (1 - 1e-6)
        all_farm = cut & (n_farm == n_all) & (n_farm > 0) & filled
        out[all_farm] = rem_area[all_farm]
        sel = (cut & ~all_farm)[pi]
        whole = sel & in_parcel  # the patch lies in one farmland parcel
        rest = sel & ~whole
        on = np.zeros(len(pi))
        on[whole] = rem_area[pi[whole]]
        if rest.any():  # with the parcels, not the pieces: two derived outlines sharing
            # edges to ~1e-9 m make overlays unstable
            on[rest] = m.overlap(remainder[pi[rest]], parcels[rest])[0]
        out += sum_by(np.where(sel, on, 0.0), pi, n)
        cols["remainder_farmland_m2"] = out
