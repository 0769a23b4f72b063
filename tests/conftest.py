"""Shared pytest configuration: versions of the geospatial stack in the report header."""

from __future__ import annotations


def pytest_report_header(config):
    import pyogrio
    import pyproj
    import shapely

    return (
        f"GEOS {shapely.geos_version_string}, PROJ {pyproj.proj_version_str}, "
        f"GDAL {pyogrio.__gdal_version_string__}"
    )
