"""Reports: GeoPackage results, Excel ledgers and summary tables."""
