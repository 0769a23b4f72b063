"""Geometry machinery: everything in landcheck that builds or measures shapes.

Internal API (used by the facts, the checks and the site query; not part of
``landcheck.__all__``):

=============================  =====================================================
module                         what it gives
=============================  =====================================================
:mod:`.pairs`                  patch–feature pairs, pieces, per-patch unions, sums,
                               lists and ids over the pairs; :class:`.pairs.Measure`
:mod:`.parts`                  polygonal parts, object identity, row-wise unions
:mod:`.pairarea`               area of ``a[i] ∩ b[i]`` measured from the two outlines
:mod:`.pairclip`               ``a[i] ∩ b[i]`` and ``a[i] − b[i]`` linked from the
                               outlines' chains
:mod:`.measure`                shape measures the rules need: strip widths, corridor
                               land, allowed zones, excess beyond a limit
:mod:`.area_kernel`            compiled terms of the official ellipsoidal area
:mod:`.outline_kernel`         compiled outline tests: cut lengths, equal rings,
                               whether an opening keeps a polygon
:mod:`.objects`                identities of the objects in an array
=============================  =====================================================

Every function takes arrays with one element per patch or per pair and returns arrays of
the same length. The package imports nothing from the rest of landcheck except
:mod:`landcheck.area`.
"""
