"""landcheck: satellite-patrol parcel screening (卫片图斑合法性筛查).

The public API is flat::

    import landcheck
    gdf = landcheck.read_layer("yjjbnt.shp", zone=39)
    landcheck.official_area(gdf.geometry, crs=gdf.crs)
    layers = landcheck.LayerSet.from_config("county.toml")
    result = landcheck.screen(None, layers, rules="city2023")
"""

from landcheck._version import __version__
from landcheck.area import (
    HA_M2,
    MU_M2,
    geodesic_area,
    ha_to_m2,
    m2_to_ha,
    m2_to_mu,
    mu_to_m2,
    official_area,
    planar_area,
)
from landcheck.cases import Ledger
from landcheck.checks.run import check
from landcheck.crs import CRSDecision, choose_working_crs, resolve_crs, to_crs
from landcheck.errors import LandcheckError, LandcheckWarning
from landcheck.inspection import LayerReport, inspect_file, inspect_layerset
from landcheck.io import list_layers, read_layer, write_layer, write_layers
from landcheck.layers import ROLES, LayerSet, LayerSpec
from landcheck.provenance import SourceInfo, source_info
from landcheck.screen import ScreenResult, load_rules, screen
from landcheck.site import SiteReport, site_query

__all__ = [
    "HA_M2",
    "MU_M2",
    "ROLES",
    "CRSDecision",
    "LandcheckError",
    "LandcheckWarning",
    "LayerReport",
    "LayerSet",
    "LayerSpec",
    "Ledger",
    "ScreenResult",
    "SiteReport",
    "SourceInfo",
    "__version__",
    "check",
    "choose_working_crs",
    "geodesic_area",
    "ha_to_m2",
    "inspect_file",
    "inspect_layerset",
    "list_layers",
    "load_rules",
    "m2_to_ha",
    "m2_to_mu",
    "mu_to_m2",
    "official_area",
    "planar_area",
    "read_layer",
    "resolve_crs",
    "screen",
    "site_query",
    "source_info",
    "to_crs",
    "write_layer",
    "write_layers",
]
