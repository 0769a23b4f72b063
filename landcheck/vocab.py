"""Code vocabularies kept as data: patch types (TBLX), land-use classes (DLBM), and the
names bureaus write for the canonical values of other fields (``value_names.csv``).

The tables live in ``landcheck/data/*.csv`` so a bureau with another vocabulary
can pass its own table instead of editing code. Codes are always text.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from landcheck.errors import DataWarning, InputError, VocabularyWarning, format_ids

__all__ = [
    "LANDUSE_GROUPS",
    "landuse_classes",
    "landuse_group",
    "normalise_frame",
    "normalise_values",
    "patch_category",
    "patch_type_name",
    "patch_types",
    "temporary_uses",
    "value_names",
]

#: Land-use groups used in facts (``lu_<group>_m2`` columns), in report order.
LANDUSE_GROUPS = (
    "farmland",
    "garden",
    "forest",
    "grass",
    "construction",
    "rural_road",
    "water",
    "pond",
    "facility",
    "unused",
    "other",
    "unknown",
)

_OLD_CODE = re.compile(r"^\d{3}$")  # 二调 work codes such as 011, 104


def _read_table(name: str, path) -> pd.DataFrame:
    if path is None:
        with resources.files("landcheck.data").joinpath(name).open("rb") as f:
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
    else:
        df = pd.read_csv(Path(path), dtype=str, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    if "code" not in df.columns:
        raise InputError(f"{path or name}: vocabulary table needs a `code` column")
    df["code"] = df["code"].str.strip()
    dup = df["code"][df["code"].duplicated()]
    if len(dup):
        raise InputError(f"{path or name}: duplicate codes {format_ids(dup.unique())}")
    return df.set_index("code")


@lru_cache(maxsize=8)
def patch_types(path=None) -> pd.DataFrame:
    """The patch-type table (index ``code``; columns ``name_zh``, ``name_en``, ``category``)."""
    return _read_table("patch_types.csv", path)


@lru_cache(maxsize=8)
def temporary_uses(path=None) -> dict[str, frozenset[str]]:
    """Approved temporary use → patch categories that use allows (``temporary_uses.csv``)."""
    table = _read_table("temporary_uses.csv", path)
    return {use: frozenset(row.split()) for use, row in table["allowed_categories"].items()}


@lru_cache(maxsize=8)
def landuse_classes(path=None) -> pd.DataFrame:
    """The land-use class table (index ``code``; columns ``name_zh``, ``group`` ...)."""
    return _read_table("landuse_classes.csv", path)


def patch_category(codes: pd.Series, *, table: pd.DataFrame | None = None) -> pd.Series:
    """Category of each patch-type code; ``"unknown"`` if not in the table, null for nulls."""
    table = patch_types() if table is None else table
    text = codes.astype("string").str.strip()
    cat = text.map(table["category"].to_dict())
    return cat.where(text.isna() | cat.notna(), "unknown").astype("string")


def patch_type_name(codes: pd.Series, *, table: pd.DataFrame | None = None) -> pd.Series:
    """Chinese name of each patch-type code (the code itself where the table has none)."""
    table = patch_types() if table is None else table
    text = codes.astype("string").str.strip()
    return text.map(table["name_zh"].to_dict()).fillna(text).astype("string")


def landuse_group(
    codes: pd.Series, *, table: pd.DataFrame | None = None, source: str = "", counts=None
) -> pd.Series:
    """Group of each land-use code (``farmland``, ``garden`` …).

    A ``K`` code (``0201K``: adjustable land) takes the row of its own code when the
    table lists it, else the group of its base code; whether K land counts as
    farmland is a rule-pack policy, decided on the separate ``is_k`` fact.
    Old three-digit codes (二调 numbering) are reported, never silently mapped.
    ``counts``: how many features each code stands for (when ``codes`` are the distinct
    codes of a layer), for the count in that report.
    """
    table = landuse_classes() if table is None else table
    text = codes.astype("string").str.strip().str.upper()
    groups = table["group"].to_dict()
    group = text.map(groups)
    base = text.str.rstrip("K")
    group = group.fillna(base.map(groups))
    old = text.str.match(_OLD_CODE).fillna(False)
    if old.any():
        n_old = int(old.sum()) if counts is None else int(np.asarray(counts)[old.to_numpy()].sum())
        warnings.warn(
            f"{source}: {n_old} land-use code(s) use the old three-digit numbering "
            f"(e.g. {format_ids(text[old].unique(), limit=5)}); they are grouped as 'unknown'. "
            "Convert the layer to GB/T 21010-2017 codes (rural road is 1006 there).",
            DataWarning,
            stacklevel=2,
        )
    return group.where(text.isna() | group.notna(), "unknown").astype("string")


@lru_cache(maxsize=8)
def value_names(path=None) -> dict[tuple[str, str], dict[str, str]]:
    """Per (role, field), every accepted spelling → its canonical code.

    A value is recognised by its code, its Chinese name or a variant (``value_names.csv``,
    columns ``role, field, code, name_zh, variants`` with variants separated by ``|``);
    temporary-land uses come from ``temporary_uses.csv`` (code and ``name_zh``). Spellings
    are matched after stripping spaces, case-insensitively. Two codes claiming one spelling
    is an error in the table.
    """
    if path is None:
        with resources.files("landcheck.data").joinpath("value_names.csv").open("rb") as f:
            table = pd.read_csv(f, dtype=str, keep_default_na=False)
    else:
        table = pd.read_csv(Path(path), dtype=str, keep_default_na=False)
    rows = [(r.role, r.field, r.code, [r.name_zh, *filter(None, r.variants.split("|"))])
            for r in table.itertuples()]
    uses = _read_table("temporary_uses.csv", None)
    rows += [("temporary_land", "use", code, [row["name_zh"]]) for code, row in uses.iterrows()]
    out: dict[tuple[str, str], dict[str, str]] = {}
    for role, fld, code, names in rows:
        spellings = out.setdefault((role, fld), {})
        for name in [code, *names]:
            key = _key(name)
            if spellings.get(key, code) != code:
                raise InputError(f"value names: {name!r} of {role}.{fld} means both "
                                 f"{spellings[key]!r} and {code!r}")
            spellings[key] = code
    return out


def _key(value: str) -> str:
    return re.sub(r"\s+", "", str(value)).casefold()


def normalise_values(values: pd.Series, role: str, field: str, *, where: str,
                     source_field: str | None = None) -> pd.Series:
    """``values`` with every recognised spelling replaced by its canonical code
    (:func:`value_names`); a field without a vocabulary is returned unchanged.

    Unrecognised non-empty values stay as they are and are reported in one
    :class:`~landcheck.errors.VocabularyWarning` naming the layer, the field, each value
    with its count, and what to do.
    """
    spellings = value_names().get((role, field))
    if spellings is None:
        return values
    text = values.astype("string")
    keys = text.map(lambda v: _key(v) if isinstance(v, str) else v)
    mapped = keys.map(lambda k: spellings.get(k) if isinstance(k, str) else None)
    unknown = text.notna() & (text.str.strip() != "") & mapped.isna()
    if unknown.any():
        counts = text[unknown].value_counts()
        listing = ", ".join(f"{v!r} × {int(n)}" for v, n in counts.items())
        known = sorted(set(spellings.values()))
        warnings.warn(
            f"{where}: field {source_field or field!r} ({role} `{field}`) has values no "
            f"vocabulary knows: {listing}; known: {', '.join(known)}. Map them in the layer "
            f"config (values = {{ {field} = {{ \"raw\" = \"code\" }} }}); until then they are "
            "treated as unknown.",
            VocabularyWarning,
            stacklevel=4,
        )
    return values.where(~(mapped.notna()).to_numpy(), mapped.astype(object))


def normalise_frame(frame: pd.DataFrame, role: str, *, where: str) -> pd.DataFrame:
    """``frame`` with :func:`normalise_values` applied to every column that has a
    vocabulary for ``role`` (a copy where anything changes)."""
    cols = [f for (r, f) in value_names() if r == role and f in frame.columns]
    if not cols:
        return frame
    out = frame.copy()
    for col in cols:
        out[col] = normalise_values(out[col], role, col, where=where)
    return out
