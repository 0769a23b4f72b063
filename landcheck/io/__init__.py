"""Reading and writing layers: formats, text encodings, CRS decision, geometry policy.

:func:`read_layer` returns a GeoDataFrame with a
:class:`~landcheck.provenance.SourceInfo` attached; :func:`write_layer` and
:func:`write_layers` write atomically and never overwrite without ``overwrite=True``.

Policies (details in the modules):

* formats are chosen by name (:mod:`landcheck.io.formats`); a ``.gdb.zip`` (or a
  ``.zip`` holding one FileGDB, at its root or in a folder) is opened through a
  ``/vsizip/`` path, never unpacked;
* shapefile text encodings are decided from the DBF bytes, the ``.cpg`` only
  believed when the bytes agree (:mod:`landcheck.io.encoding`); other formats are
  UTF-8, a DXF follows its ``$DWGCODEPAGE`` as GDAL does;
* null, empty, invalid and 3D geometries (:mod:`landcheck.io.geometry`): reported by
  feature id, never dropped silently; a DXF yields its closed polylines as polygons;
  curved geometries are linearised (``arc_step``) with a warning stating the area bound;
* zip-based sources are refused beyond :data:`~landcheck.io.formats.MAX_EXPANDED_BYTES`
  or :data:`~landcheck.io.formats.MAX_RATIO`; broken links and link loops are named;
* reads use pyogrio's Arrow path when pyarrow is installed (1.5–3× faster; text
  codes stay text, dates stay dates);
* writes go through a temporary directory beside the target (:mod:`landcheck.io.write`).
"""

from landcheck.io.read import layer_fields, list_layers, read_layer
from landcheck.io.write import write_layer, write_layers

__all__ = ["layer_fields", "list_layers", "read_layer", "write_layer", "write_layers"]
