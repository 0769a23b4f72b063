"""Build the synthetic demo county 示范县 (county code 349901) in data/samples/county/.

    python data/samples/make_county.py [--out data/samples/county]

Deterministic: a fixed seed, no clock in the content; two runs give byte-identical files.
Writes the layers into --out and CASES.csv / PATCH_FACTS.csv next to it, after checking that
the land use is a valid coverage and that every designed area equals its geometry's area.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from countygen import (  # noqa: E402
    background,
    cases_farmland,
    cases_legality,
    cases_official,
    cases_review,
    cases_roads,
    fill,
    layout,
    patches,
    verify,
    write,
)
from countygen.world import FIELD_S, SlotAllocator, World  # noqa: E402

SEED = 349901


def build() -> World:
    w = World(SEED)
    layout.build_townships(w)
    corridors = layout.build_corridors(w)
    layout.build_town(w)
    layout.build_villages(w)
    layout.build_hills(w)
    w.slots = SlotAllocator(FIELD_S, layout.corridor_union(w))
    cases_legality.build(w)
    cases_farmland.build(w)
    cases_roads.build(w, corridors)
    cases_review.build(w)
    cases_review.deadlines(w)
    cases_official.build(w)
    fill.background_approvals(w)
    layout.scatter(w)
    fill.build_landuse(w, layout.base_parcels(w))
    fill.fill_permanent_farmland(w)
    fill.fill_general_ag_zone(w)
    fill.fill_forest(w)
    background.build(w)
    patches.finish(w)
    return w


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "county",
                        help="output directory (default: data/samples/county)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    w = build()
    counts = verify.run(w)
    out = args.out.resolve()
    write.write_county(w, out)
    n_rows = write.write_cases(w, out.parent / "CASES.csv")
    write.write_patch_facts(w, out.parent / "PATCH_FACTS.csv")
    print(f"{len(w.features['patches'])} patches, {len(w.landuse)} land-use parcels, "
          f"{n_rows} case rows ({sum(v for (_, e), v in counts.items() if e == 'fires')} firing) "
          f"-> {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
