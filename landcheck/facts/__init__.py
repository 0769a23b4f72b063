"""Patches × reference layers → facts: the only stage that touches geometry.

For each patch and each reference role the facts are the intersection area (official
ellipsoidal area, m²), the fraction of the patch, the ids hit and how many. Overlapping
features inside one role are never double counted: the area of a patch on a role is the
area of the union of its pieces. For the land-use layer they are the areas per land-class
group and per planting attribute. For the covering roles (approvals, facility agriculture,
temporary land) the overlay builds the legal cover of the patch and the **remainder**
(patch minus cover), with slivers thinner than the positional tolerance removed, and
measures the remainder on permanent farmland, farmland and the red line.

The computation is split by role kind:

==========================  ==========================================================
:mod:`.base`                the patch itself (fields, geometry checks, area, type, width)
:mod:`.zones`               zones and classed zones
:mod:`.landuse`             the land-use survey layer
:mod:`.covers`              covering roles and the legal cover
:mod:`.remainder`           the remainder, its cut length and its shares
:mod:`.providers`           the registered patch fact providers of the check families
:mod:`.schema`              every fact column: name, type, documentation
:mod:`.compute`             :func:`compute_facts`, which runs them in that order
==========================  ==========================================================

Notes
-----
All geometries must already be in the run's working CRS (a projected CRS); areas are
computed on the ellipsoid of that CRS's datum (see :func:`landcheck.area.official_area`).
Fact columns are documented in :data:`FACT_DOCS`.
"""

from landcheck.facts.compute import OverlayResult, compute_facts
from landcheck.facts.schema import FACT_DOCS, ZONE_ROLES, fact_docs, fact_schema

__all__ = ["FACT_DOCS", "ZONE_ROLES", "OverlayResult", "compute_facts", "fact_docs", "fact_schema"]
