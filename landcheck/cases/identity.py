"""Which case a patch of a new round belongs to: content hashes of patches and the overlap
match of a re-issued patch against the open cases (spatial-index pairs, then one vectorised
intersection)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import shapely

__all__ = ["ATTACH_DISTANCE_M", "ATTACH_OVERLAP", "overlap_matches", "patch_records"]

#: Attach a new clue id to an open case when the overlap over the smaller of the two areas
#: is at least this … (a documented default, not from a source: tune it per province)
ATTACH_OVERLAP = 0.5
#: … and their centroids lie at most this many metres apart (same caveat).
ATTACH_DISTANCE_M = 50.0


def patch_records(frame: pd.DataFrame, geometry) -> tuple[list[str], list[str]]:
    """(row JSON, content hash) per row: the JSON holds every attribute (dates ISO, NaN as
    null), the hash covers that JSON and the geometry's WKB."""
    attrs = pd.DataFrame(frame.drop(columns=[frame.geometry.name]))
    records = json.loads(attrs.to_json(orient="records", date_format="iso",
                                       force_ascii=False))
    texts = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records]
    wkb = shapely.to_wkb(np.asarray(geometry, dtype=object), hex=True)
    hashes = [hashlib.sha256(f"{t}\n{w}".encode()).hexdigest()
              for t, w in zip(texts, wkb, strict=True)]
    return texts, hashes


def overlap_matches(new, cases, *, attach_overlap: float = ATTACH_OVERLAP,
                    attach_distance_m: float = ATTACH_DISTANCE_M):
    """For each geometry of ``new``: the index into ``cases`` it attaches to (−1: none), the
    overlap ratio and the centroid distance of that match.

    A pair matches when ``area(new ∩ case) / min(area(new), area(case)) >= attach_overlap``
    and the centroids are at most ``attach_distance_m`` apart (planar, in the ledger's
    projected CRS); of several matches the highest ratio wins, then the nearest.
    """
    new = np.asarray(new, dtype=object)
    cases = np.asarray(cases, dtype=object)
    best = np.full(len(new), -1)
    ratio = np.full(len(new), np.nan)
    dist = np.full(len(new), np.nan)
    if not len(new) or not len(cases):
        return best, ratio, dist
    left, right = shapely.STRtree(cases).query(new, predicate="intersects")
    if not len(left):
        return best, ratio, dist
    a, b = new[left], cases[right]
    inter = shapely.area(shapely.intersection(a, b))
    smaller = np.minimum(shapely.area(a), shapely.area(b))
    r = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    d = shapely.distance(shapely.centroid(a), shapely.centroid(b))
    ok = (r >= attach_overlap) & (d <= attach_distance_m)
    pairs = pd.DataFrame({"new": left[ok], "case": right[ok], "r": r[ok], "d": d[ok]})
    pairs = pairs.sort_values(["new", "r", "d"], ascending=[True, False, True])
    pairs = pairs.drop_duplicates("new")
    best[pairs["new"].to_numpy()] = pairs["case"].to_numpy()
    ratio[pairs["new"].to_numpy()] = pairs["r"].to_numpy()
    dist[pairs["new"].to_numpy()] = pairs["d"].to_numpy()
    return best, ratio, dist
