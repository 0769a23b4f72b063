"""Generator of the synthetic demo county 示范县 (see ``data/samples/README.md``).

Modules:

- ``world``      local metric grid, feature store, land-use painting, case records
- ``layout``     the county itself: townships, corridors, town, villages, hills, base land use
- ``cases_*``    the designed cases, one function per case family
- ``background`` ordinary patches that fill the round
- ``fill``       county-wide reference layers derived from the land use (farmland, zones, forest)
- ``output``     verification, file writing, case table
"""
