"""The facts stage under its former module name: see :mod:`landcheck.facts`.

``landcheck.overlay.compute_facts`` and the other names of this module's ``__all__`` are
:mod:`landcheck.facts`'s.
"""

from landcheck.facts import FACT_DOCS, ZONE_ROLES, OverlayResult, compute_facts, fact_schema
from landcheck.geometry.pairs import MEASURE_MAX_VERTICES

__all__ = [
    "FACT_DOCS",
    "MEASURE_MAX_VERTICES",
    "ZONE_ROLES",
    "OverlayResult",
    "compute_facts",
    "fact_schema",
]
