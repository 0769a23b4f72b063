"""Shape measures under their former module name: see :mod:`landcheck.geometry.measure`."""

from landcheck.geometry.measure import (
    allowed_zone,
    corridor_land,
    excess_beyond,
    strip_length,
    strip_width,
)

__all__ = ["allowed_zone", "corridor_land", "excess_beyond", "strip_length", "strip_width"]
