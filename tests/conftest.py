"""Shared pytest configuration: versions of the geospatial stack in the report header, and
the demo county screened once per session (:data:`landcheck.testing.SAMPLES` and ``AS_OF``
are the shared paths and date)."""

from __future__ import annotations

import warnings

import pytest


def pytest_report_header(config):
    import pyogrio
    import pyproj
    import shapely

    return (
        f"GEOS {shapely.geos_version_string}, PROJ {pyproj.proj_version_str}, "
        f"GDAL {pyogrio.__gdal_version_string__}"
    )


@pytest.fixture(scope="session")
def demo_result():
    """The demo county screened with city2023 at its as-of date (treat as read-only)."""
    import landcheck
    from landcheck.testing import AS_OF, SAMPLES

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return landcheck.screen(None, SAMPLES / "county.toml", reference_date=AS_OF)
