"""Code vocabularies kept as data: patch types (TBLX), land-use classes (DLBM), and the
names bureaus write for the canonical values of other fields (``value_names.csv``).

The tables live in ``landcheck/data/*.csv`` so a bureau with another vocabulary
can pass its own table instead of editing code. Codes are always text.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from landcheck.errors import DataWarning, InputError, VocabularyWarning, format_ids

__all__ = [
    "DEFAULT_LANDUSE_SCHEME",
    "DEFAULT_TYPE_DICTIONARY",
    "LANDUSE_GROUPS",
    "LANDUSE_SCHEMES",
    "PATCH_TYPE_DICTIONARIES",
    "SCHEME_COLUMN",
    "SchemeGuess",
    "describe_patch_dictionary",
    "detect_landuse_scheme",
    "landuse_class_name",
    "landuse_classes",
    "landuse_group",
    "landuse_scheme",
    "normalise_frame",
    "normalise_values",
    "patch_category",
    "patch_dictionary",
    "patch_type_codes",
    "patch_type_name",
    "patch_types",
    "resolve_landuse_classes",
    "resolve_patch_types",
    "scheme_label",
    "scheme_of",
    "temporary_uses",
    "unknown_landuse_classes",
    "unknown_patch_types",
    "value_names",
]

#: Land-use groups used in facts (``lu_<group>_m2`` columns), in report order: the
#: first-level classes of both land-use schemes (``wetland`` is 湿地: work class 00 of the
#: third survey, class 05 of 用地用海).
LANDUSE_GROUPS = (
    "farmland",
    "garden",
    "forest",
    "grass",
    "wetland",
    "construction",
    "rural_road",
    "water",
    "pond",
    "facility",
    "unused",
    "other",
    "unknown",
)

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
def temporary_uses(path=None) -> dict[str, frozenset[str]]:
    """Approved temporary use → patch categories that use allows (``temporary_uses.csv``)."""
    table = _read_table("temporary_uses.csv", path)
    return {use: frozenset(row.split()) for use, row in table["allowed_categories"].items()}


# ---------------------------------------------------------------- patch types (TBLX)

#: Built-in patch-type dictionaries by name: (file in ``landcheck/data``, what it holds).
#: Codes and sources: docs/vocabularies.md, "Patch types".
PATCH_TYPE_DICTIONARIES = {
    "official": ("patch_types.csv",
                 "卫片执法图斑类型 (TBLX), the 33 types of recent ministry products"),
    "bureau": ("patch_types_bureau.csv",
               "bureau extension: SS 设施农用地, FG 拆除复耕, WHZJ 挖湖造景, MP 苗圃草皮, "
               "LH 绿化, 11 水域"),
}
#: The dictionaries a layer without ``type_dictionary`` is read with.
DEFAULT_TYPE_DICTIONARY = ("official",)
_PATCH_COLUMNS = ("name_zh", "name_en", "category", "variants", "note")


def _spelling(value) -> str:
    """How spellings are compared: NFKC (full-width brackets and digits as ASCII), no
    spaces, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).casefold()


def patch_dictionary(dictionary=None, *, base=None) -> tuple[str, ...]:
    """The dictionaries a ``type_dictionary`` value names, in order: built-in names
    (:data:`PATCH_TYPE_DICTIONARIES`) as they are, paths of CSV tables made absolute
    (relative ones against ``base``, default the working folder). ``None``: the official
    dictionary. Later dictionaries add codes to earlier ones; they never redefine one.

    >>> patch_dictionary(["official", "bureau"])
    ('official', 'bureau')
    """
    if dictionary is None:
        return DEFAULT_TYPE_DICTIONARY
    entries = [dictionary] if isinstance(dictionary, str | Path) else list(dictionary)
    if not entries:
        raise InputError("type_dictionary: name at least one dictionary, e.g. \"official\"")
    out = []
    for entry in entries:
        if not isinstance(entry, str | Path):
            raise InputError(f"type_dictionary: {entry!r} is neither a dictionary name nor a "
                             "path")
        if isinstance(entry, str) and entry in PATCH_TYPE_DICTIONARIES:
            out.append(entry)
            continue
        path = (Path(base or ".") / Path(entry).expanduser()).resolve()
        if not path.is_file():
            known = ", ".join(map(repr, PATCH_TYPE_DICTIONARIES))
            raise InputError(f"type_dictionary: {entry!r} is not a built-in dictionary ({known}) "
                             f"and no file {path} exists; a dictionary of your own is a CSV "
                             "with columns code, name_zh, category (optional variants, note)")
        out.append(str(path))
    return tuple(out)


def _read_vocab(entry: str, builtin: dict, required=("code", "name_zh")) -> pd.DataFrame:
    """One vocabulary CSV (a built-in name or a path), codes as text, no duplicates."""
    if entry in builtin:
        with resources.files("landcheck.data").joinpath(builtin[entry][0]).open("rb") as f:
            table = pd.read_csv(f, dtype=str, keep_default_na=False)
    else:
        try:
            table = pd.read_csv(Path(entry), dtype=str, keep_default_na=False,
                                encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError(f"{entry}: cannot read the vocabulary table ({exc}); save it as "
                             "UTF-8 CSV") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(f"{entry}: vocabulary table needs the columns {', '.join(required)}; "
                         f"missing {', '.join(missing)}")
    table["code"] = table["code"].str.strip()
    dup = table["code"][table["code"].duplicated()]
    if len(dup):
        raise InputError(f"{entry}: duplicate codes {format_ids(dup.unique())}")
    return table


def _spellings(table: pd.DataFrame, where: str) -> dict[str, str]:
    """Every spelling (code, Chinese name, variants) → its code; one spelling, one code."""
    out: dict[str, str] = {}
    variants = table["variants"] if "variants" in table.columns else pd.Series("", table.index)
    for code, name, more in zip(table.index, table["name_zh"], variants, strict=True):
        for word in [code, name, *filter(None, str(more).split("|"))]:
            key = _spelling(word)
            if key and out.get(key, code) != code:
                raise InputError(f"{where}: {word!r} means both {out[key]!r} and {code!r}")
            if key:
                out[key] = code
    return out


@lru_cache(maxsize=16)
def _patch_table(entries: tuple[str, ...]) -> tuple[pd.DataFrame, dict[str, str]]:
    frames = []
    for entry in entries:
        table = _read_vocab(entry, PATCH_TYPE_DICTIONARIES, ("code", "name_zh", "category"))
        for col in _PATCH_COLUMNS:
            if col not in table.columns:
                table[col] = ""
        table["dictionary"] = entry if entry in PATCH_TYPE_DICTIONARIES else Path(entry).name
        frames.append(table[["code", *_PATCH_COLUMNS, "dictionary"]])
    table = pd.concat(frames, ignore_index=True)
    dup = table[table["code"].duplicated(keep=False)]
    if len(dup):
        pairs = "; ".join(f"{c} ({', '.join(g['dictionary'])})" for c, g in dup.groupby("code"))
        raise InputError(f"type_dictionary: codes defined twice: {pairs}. An extension adds "
                         "codes; to give a code another meaning, use a dictionary of your own "
                         "instead of the official one")
    table = table.set_index("code")
    return table, _spellings(table, "type_dictionary " + " + ".join(entries))


def patch_types(dictionary=None) -> pd.DataFrame:
    """The patch-type table of ``dictionary`` (see :func:`patch_dictionary`; default the
    official one): index ``code``; columns ``name_zh``, ``name_en``, ``category`` (what the
    rules judge), ``variants``, ``note`` and ``dictionary`` (where the row comes from).

    >>> t = patch_types()
    >>> len(t), t.loc["WH", "name_zh"], t.loc["20", "category"]
    (33, '围海项目', 'construction')
    >>> patch_types(("official", "bureau")).loc["WHZJ", "category"]
    'landscape_lake'
    """
    if isinstance(dictionary, list):
        dictionary = tuple(dictionary)
    return _patch_table(patch_dictionary(dictionary))[0]


def _patch_index(table) -> tuple[pd.DataFrame, dict[str, str]]:
    if table is None:
        return _patch_table(DEFAULT_TYPE_DICTIONARY)
    return table, _spellings(table, "patch-type table")


def _lookup(values: pd.Series, spellings: dict[str, str]) -> pd.Series:
    text = values.astype("string")
    found = {v: spellings.get(_spelling(v)) for v in text.dropna().unique()}
    return text.map(found).astype("string")


def patch_type_codes(values: pd.Series, *, table: pd.DataFrame | None = None) -> pd.Series:
    """The code of each patch type given by code, Chinese name or variant (null where the
    table does not know it; default: the official dictionary).

    >>> patch_type_codes(pd.Series(["建(构)筑物", "硬化", " yh ", "GF", "挖湖造景"])).tolist()
    ['20', 'YH', 'YH', 'GF', <NA>]
    """
    table, spellings = _patch_index(table)
    return _lookup(values, spellings)


def patch_category(codes: pd.Series, *, table: pd.DataFrame | None = None) -> pd.Series:
    """Category of each patch type (by code, Chinese name or variant); ``"unknown"`` if
    the table does not know it, null for nulls."""
    table, spellings = _patch_index(table)
    text = codes.astype("string").str.strip()
    cat = _lookup(text, spellings).map(table["category"].to_dict())
    return cat.where(text.isna() | cat.notna(), "unknown").astype("string")


def patch_type_name(codes: pd.Series, *, table: pd.DataFrame | None = None) -> pd.Series:
    """Chinese name of each patch type (the value itself where the table does not know it)."""
    table, spellings = _patch_index(table)
    text = codes.astype("string").str.strip()
    return _lookup(text, spellings).map(table["name_zh"].to_dict()).fillna(text).astype("string")


def describe_patch_dictionary(dictionary=None) -> str:
    """One line for provenance: the dictionaries and how many types each gives."""
    table = patch_types(patch_dictionary(dictionary))
    counts = table["dictionary"].value_counts(sort=False)
    return "patch types (TBLX) read with " + " + ".join(
        f"{name} ({n} types)" for name, n in counts.items())


def resolve_patch_types(frame: pd.DataFrame, *, dictionary=None, where: str = "patches",
                        source_field: str | None = None, notes: list | None = None):
    """``frame`` with its ``type`` given as the dictionary's codes and the columns
    ``type_category`` and ``type_name`` added (a copy; ``frame`` itself when it has no
    ``type``). The facts take category and name from these columns.

    Types written as code, Chinese name or variant are recognised (``建(构)筑物`` is ``20``).
    Values the dictionary does not know stay as written, with category ``unknown`` (the
    rule ``legality.unknown_type`` sends their patches to review), and are reported in one
    :class:`~landcheck.errors.VocabularyWarning` naming the layer, the field, each value and
    its count. ``notes`` (a list) receives the provenance line of the dictionary.
    """
    if "type" not in frame.columns:
        return frame
    entries = patch_dictionary(dictionary)
    table, spellings = _patch_table(entries)
    text = frame["type"].astype("string").str.strip()
    codes = _lookup(text, spellings)
    unknown = text.notna() & (text != "") & codes.isna()
    if unknown.any():
        listing = ", ".join(f"{v!r} × {int(n)}" for v, n in text[unknown].value_counts().items())
        warnings.warn(
            f"{where}: field {source_field or 'type'!r} (patches `type`) has values the "
            f"patch-type dictionary {' + '.join(map(_entry_label, entries))} does not know: "
            f"{listing}. Those patches go to review (legality.unknown_type). If they are a "
            "bureau's own types, add a CSV of them (code, name_zh, category) to [patches] "
            'type_dictionary, e.g. ["official", "my_types.csv"]; codes: '
            f"{', '.join(table.index)}.",
            VocabularyWarning,
            stacklevel=3,
        )
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is left as it is
    out["type"] = _like(frame["type"], codes.where(codes.notna(), text))
    cat = codes.map(table["category"].to_dict()).astype("string")
    out["type_category"] = cat.where(text.isna(), cat.fillna("unknown")).to_numpy()
    out["type_name"] = codes.map(table["name_zh"].to_dict()).fillna(text).to_numpy()
    if notes is not None:
        notes.append(describe_patch_dictionary(entries))
    return out


def _like(column: pd.Series, values: pd.Series):
    """``values`` in the text dtype of ``column`` (objects where it holds anything else)."""
    if column.dtype != object and pd.api.types.is_string_dtype(column.dtype):
        return values.astype(column.dtype).to_numpy()
    return values.to_numpy(dtype=object, na_value=None)


def _entry_label(entry: str) -> str:
    return entry if entry in PATCH_TYPE_DICTIONARIES else Path(entry).name


# ---------------------------------------------------------------- land-use classes (DLBM)

#: Land-use schemes (the classification a layer's ``DLBM`` follows) by canonical name:
#: (file in ``landcheck/data``, Chinese name, what it is). Sources: docs/vocabularies.md,
#: "Land-use schemes".
LANDUSE_SCHEMES = {
    "survey3": ("landuse_classes.csv", "三调",
                "第三次全国国土调查工作分类 (GB/T 21010-2017 with the survey's work codes): "
                "survey layers up to the 2023 change survey"),
    "land_sea_2023": ("landuse_classes_land_sea_2023.csv", "用地用海",
                      "《国土空间调查、规划、用途管制用地用海分类指南》 (自然资发〔2023〕234号): "
                      "survey layers from the 2024 change survey"),
}
#: The scheme of a layer whose codes do not tell (every code means the same in both).
DEFAULT_LANDUSE_SCHEME = "survey3"
#: Column a land-use layer read through a layer config carries: its scheme.
SCHEME_COLUMN = "class_scheme"
_SCHEME_ALIASES = {
    "survey3": ("三调", "三调工作分类", "第三次全国国土调查", "第三次全国国土调查工作分类",
                "GB/T 21010-2017", "GB/T21010-2017", "sandiao"),
    "land_sea_2023": ("land_sea", "用地用海", "用地用海分类", "用地用海分类指南",
                      "国土空间调查、规划、用途管制用地用海分类指南", "自然资发〔2023〕234号"),
}
_SCHEME_NAMES = {_spelling(a): name for name, aliases in _SCHEME_ALIASES.items()
                 for a in (name, *aliases)}
_OLD_CODE = re.compile(r"^\d{3}$")  # 二调 work codes such as 011, 104


def landuse_scheme(scheme=None, *, base=None) -> str:
    """The canonical name of a land-use scheme (``"三调"`` → ``"survey3"``, ``"用地用海"`` →
    ``"land_sea_2023"``), or the absolute path of a class table of one's own (a CSV with
    columns code, name_zh, group; relative paths against ``base``). ``None``: the default.

    >>> landuse_scheme("用地用海"), landuse_scheme("三调")
    ('land_sea_2023', 'survey3')
    """
    if scheme is None:
        return DEFAULT_LANDUSE_SCHEME
    if not isinstance(scheme, str | Path):
        raise InputError(f"scheme: must be text, got {scheme!r}")
    name = _SCHEME_NAMES.get(_spelling(scheme))
    if name is not None:
        return name
    path = (Path(base or ".") / Path(scheme).expanduser()).resolve()
    if path.suffix.lower() == ".csv" and path.is_file():
        return str(path)
    raise InputError(f"scheme: unknown land-use scheme {str(scheme)!r}; use \"三调\" (survey3, "
                     "the third survey's classification) or \"用地用海\" (land_sea_2023, "
                     "自然资发〔2023〕234号), or the path of a CSV table with columns code, "
                     "name_zh, group")


def scheme_label(scheme) -> str:
    """``"三调 (survey3)"``, ``"用地用海 (land_sea_2023)"`` or a table's file name."""
    name = landuse_scheme(scheme)
    if name in LANDUSE_SCHEMES:
        return f"{LANDUSE_SCHEMES[name][1]} ({name})"
    return Path(name).name


@lru_cache(maxsize=8)
def _class_table(scheme: str) -> tuple[pd.DataFrame, dict[str, str]]:
    table = _read_vocab(scheme, LANDUSE_SCHEMES, ("code", "name_zh", "group"))
    table["code"] = table["code"].str.upper()
    bad = sorted(set(table["group"]) - set(LANDUSE_GROUPS))
    if bad:
        raise InputError(f"{scheme}: unknown land-use groups {', '.join(map(repr, bad))}; "
                         f"groups are {', '.join(LANDUSE_GROUPS)}")
    table = table.set_index("code")
    return table, _spellings(table, f"land-use scheme {scheme}")


def landuse_classes(scheme=None) -> pd.DataFrame:
    """The land-use class table of a scheme (:func:`landuse_scheme`; default 三调): index
    ``code``; columns ``name_zh``, ``group``, ``is_farmland``, ``is_construction``,
    ``adjustable``, ``variants``, ``note``.

    >>> survey3, land_sea = landuse_classes("三调"), landuse_classes("用地用海")
    >>> survey3.loc["0601", "name_zh"], land_sea.loc["0601", "name_zh"]
    ('工业用地', '农村道路')
    """
    return _class_table(landuse_scheme(scheme))[0]


def _class_index(table, scheme):
    if table is not None:
        return table, _spellings(table, "land-use table")
    return _class_table(landuse_scheme(scheme))


def _class_codes(text: pd.Series, table, spellings) -> pd.Series:
    """Canonical code of each value (upper-case, stripped): a code of the table, a ``K``
    code whose base the table lists, or the code of a Chinese name or variant; null else."""
    known = set(table.index)
    found = {}
    for v in text.dropna().unique():
        if v in known or (v.endswith("K") and v.rstrip("K") in known):
            found[v] = v
        else:
            found[v] = spellings.get(_spelling(v))
    return text.map(found).astype("string")


def landuse_group(
    codes: pd.Series, *, table: pd.DataFrame | None = None, scheme=None, source: str = "",
    counts=None, warn: bool = True,
) -> pd.Series:
    """Group of each land-use code (``farmland``, ``garden`` …) under ``scheme`` (default
    三调; see :func:`landuse_scheme`) or ``table``; a Chinese name or variant of a class is
    recognised too. Codes the table does not know are ``unknown``; nulls stay null.

    A ``K`` code (``0201K``: adjustable land) takes the row of its own code when the
    table lists it, else the group of its base code; whether K land counts as
    farmland is a rule-pack policy, decided on the separate ``is_k`` fact.
    Old three-digit codes (二调 numbering) are reported (``warn``), never silently mapped.
    ``counts``: how many features each code stands for (when ``codes`` are the distinct
    codes of a layer), for the count in that report.

    >>> codes = pd.Series(["0303", "0601", "0602", "0702"])
    >>> landuse_group(codes, scheme="三调").tolist()
    ['wetland', 'construction', 'construction', 'construction']
    >>> landuse_group(codes, scheme="用地用海").tolist()
    ['forest', 'rural_road', 'facility', 'construction']
    """
    table, spellings = _class_index(table, scheme)
    text = codes.astype("string").str.strip().str.upper()
    canonical = _class_codes(text, table, spellings)
    groups = table["group"].to_dict()
    group = canonical.map(groups)
    group = group.fillna(canonical.str.rstrip("K").map(groups))
    old = text.str.match(_OLD_CODE).fillna(False)
    if warn and old.any():
        n_old = int(old.sum()) if counts is None else int(np.asarray(counts)[old.to_numpy()].sum())
        warnings.warn(
            f"{source}: {n_old} land-use code(s) use the old three-digit numbering "
            f"(e.g. {format_ids(text[old].unique(), limit=5)}); they are grouped as 'unknown'. "
            "Convert the layer to GB/T 21010-2017 codes (rural road is 1006 there).",
            DataWarning,
            stacklevel=2,
        )
    return group.where(text.isna() | group.notna(), "unknown").astype("string")


#: The three main classes (三大类) of land-use codes, by their ``land3`` column.
LAND3 = {"农用地": "agricultural", "建设用地": "construction", "未利用地": "unused"}


def landuse_land3(codes: pd.Series, *, scheme=None) -> pd.Series:
    """The main class (三大类: ``agricultural``, ``construction``, ``unused``) of each
    land-use code under ``scheme``, from the table's ``land3`` column (GB/T 21010-2017's
    correspondence of the classes to the three main classes); null where the code or its
    scheme's table has none (the 用地用海 table carries no correspondence)."""
    table, spellings = _class_index(None, scheme)
    text = codes.astype("string").str.strip().str.upper()
    canonical = _class_codes(text, table, spellings)
    if "land3" not in table.columns:
        return pd.Series(pd.NA, index=codes.index, dtype="string")
    land3 = table["land3"].map(LAND3).to_dict()
    out = canonical.map(land3)
    return out.fillna(canonical.str.rstrip("K").map(land3)).astype("string")


def landuse_class_name(codes: pd.Series, *, scheme=None) -> pd.Series:
    """Chinese name of each land-use code under ``scheme`` (a ``K`` code the table does not
    list: its base's name); null where the scheme does not know the code."""
    table, spellings = _class_index(None, scheme)
    canonical = _class_codes(codes.astype("string").str.strip().str.upper(), table, spellings)
    names = table["name_zh"].to_dict()
    return canonical.map(names).fillna(canonical.str.rstrip("K").map(names)).astype("string")


@dataclass(frozen=True)
class SchemeGuess:
    """What a layer's codes say about its scheme (:func:`detect_landuse_scheme`).

    ``how``: ``"detected"`` (codes or names found in one scheme only), ``"mixed"`` (both
    schemes have codes found in them only; the one with more features is taken),
    ``"ambiguous"`` (codes that mean different classes in the two schemes and nothing else
    that tells: the default is taken) or ``"same"`` (every code means the same in both: the
    default, and it makes no difference). ``evidence``: one sentence saying why.
    """

    scheme: str
    how: str
    evidence: str


def detect_landuse_scheme(values: pd.Series, *, names: pd.Series | None = None) -> SchemeGuess:
    """The scheme of a land-use layer from its class values (and, where given, its class
    names such as ``DLMC``, aligned with ``values``): codes or names that only one scheme
    has decide; a code both schemes have but with other names (0601 工业用地 / 农村道路)
    decides by the name written beside it.

    >>> detect_landuse_scheme(pd.Series(["0101", "1104A", "05H1"])).scheme
    'survey3'
    >>> detect_landuse_scheme(pd.Series(["0101", "1704", "0601"])).scheme
    'land_sea_2023'
    >>> detect_landuse_scheme(pd.Series(["0101", "0601"])).how
    'ambiguous'
    """
    a, b = "survey3", "land_sea_2023"
    ta, sa = _class_table(a)
    tb, sb = _class_table(b)
    text = values.astype("string").str.strip().str.upper()
    counts = text.value_counts()
    ca, cb = _class_codes(pd.Series(counts.index, dtype="string"), ta, sa), \
        _class_codes(pd.Series(counts.index, dtype="string"), tb, sb)
    only = {a: [], b: []}
    differ = []
    for v, n, x, y in zip(counts.index, counts.to_numpy(), ca, cb, strict=True):
        if pd.notna(x) and pd.isna(y):
            only[a].append((v, int(n)))
        elif pd.isna(x) and pd.notna(y):
            only[b].append((v, int(n)))
        elif pd.notna(x) and v in (x, y) and not _same_class((ta, sa), x, (tb, sb), y):
            differ.append((v, int(n), _name(ta, x), _name(tb, y)))
    if names is not None and differ:
        _by_name(text, names, differ, (ta, sa), (tb, sb), only)
    label = {a: scheme_label(a), b: scheme_label(b)}
    if only[a] and only[b]:
        na, nb = (sum(n for _, n in only[s]) for s in (a, b))
        pick = a if na >= nb else b
        return SchemeGuess(pick, "mixed", f"codes of both schemes: in {label[a]} only "
                           f"{_listing(only[a])}; in {label[b]} only {_listing(only[b])}; "
                           f"read as {label[pick]} (more features)")
    for s in (a, b):
        if only[s]:
            return SchemeGuess(s, "detected", f"values found in {label[s]} only: "
                               f"{_listing(only[s])}")
    if differ:
        listing = ", ".join(f"{v} × {n} ({x} / {y})" for v, n, x, y in differ[:5])
        return SchemeGuess(DEFAULT_LANDUSE_SCHEME, "ambiguous",
                           f"codes that mean different classes in {label[a]} and {label[b]}: "
                           f"{listing}; nothing else tells the scheme")
    return SchemeGuess(DEFAULT_LANDUSE_SCHEME, "same",
                       "every code means the same class in both schemes")


def _base(table, code: str) -> str:
    """The row of ``code``: itself, or for a ``K`` code the table does not list its base."""
    return code if code in table.index else code.rstrip("K")


def _name(table, code) -> str:
    return str(table.loc[_base(table, code), "name_zh"])


def _same_class(a, x, b, y) -> bool:
    """Whether code ``x`` of table ``a`` and ``y`` of ``b`` (each ``(table, spellings)``)
    name the same class: the name of one is a spelling of the other (K codes: their base)."""
    (ta, sa), (tb, sb) = a, b
    xa, yb = x.rstrip("K"), y.rstrip("K")
    xa, yb = (xa if xa in ta.index else x), (yb if yb in tb.index else y)
    return (sa.get(_spelling(_name(tb, yb))) == xa) or (sb.get(_spelling(_name(ta, xa))) == yb)


def _by_name(text, names, differ, ia, ib, only):
    """Rows of an ambiguous code whose name (``DLMC``) is that code's name in one scheme
    only count as evidence for that scheme."""
    pairs = pd.DataFrame({"code": text.to_numpy(), "name": names.astype("string").to_numpy()})
    counted = pairs.dropna().value_counts()  # (code, name) → features
    for v, *_ in differ:
        for (table, spellings), s in ((ia, "survey3"), (ib, "land_sea_2023")):
            hits = sum(int(n) for (code, name), n in counted.items()
                       if code == v and spellings.get(_spelling(name)) == v)
            if hits:
                only[s].append((f"{v} {_name(table, v)}", hits))


def _listing(pairs, limit=5) -> str:
    shown = ", ".join(f"{v} × {n}" for v, n in pairs[:limit])
    return shown + (f" … ({len(pairs)} values)" if len(pairs) > limit else "")


def resolve_landuse_classes(frame: pd.DataFrame, *, scheme=None, where: str = "landuse",
                            source_field: str | None = None, role: str = "landuse",
                            notes: list | None = None):
    """``frame`` with its ``class`` given as codes of its land-use scheme and the column
    :data:`SCHEME_COLUMN` saying which (a copy; ``frame`` itself when it has no ``class``).

    ``scheme`` (:func:`landuse_scheme`): as configured; ``None``: detected from the codes
    (:func:`detect_landuse_scheme`, with the ``name`` column as further evidence), said in
    a :class:`~landcheck.errors.DataWarning` with how to set it. Classes written as Chinese
    names or variants become codes (``水田`` → ``0101``); values the scheme does not know
    stay as written (upper-case), are grouped ``unknown`` by the facts, and are reported in
    one :class:`~landcheck.errors.VocabularyWarning` naming the layer, the field, each value
    and its count. ``notes`` (a list) receives the provenance line of the scheme.
    """
    if "class" not in frame.columns:
        return frame
    text = frame["class"].astype("string").str.strip().str.upper()
    if scheme is None:
        guess = detect_landuse_scheme(text, names=frame["name"] if "name" in frame else None)
        name, how = guess.scheme, f"not configured; {guess.how}: {guess.evidence}"
        if guess.how != "same":
            _warn_scheme(where, role, guess)
    else:
        name, how = landuse_scheme(scheme), "configured"
    table, spellings = _class_table(name)
    codes = _class_codes(text, table, spellings)
    unknown = text.notna() & (text != "") & codes.isna()
    if unknown.any():
        _warn_unknown_classes(where, role, source_field, name, text[unknown])
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is left as it is
    out["class"] = _like(frame["class"], codes.where(codes.notna(), text))
    out[SCHEME_COLUMN] = pd.Categorical.from_codes(np.zeros(len(out), dtype=np.int8), [name])
    if notes is not None:
        notes.append(f"land-use classes ({source_field or 'class'}) read as "
                     f"{scheme_label(name)}: {how}")
    return out


def _warn_scheme(where, role, guess: SchemeGuess) -> None:
    setting = (f'set scheme = "三调" or "用地用海" in its [layers.{role}] table'
               if role != "patches" else 'set scheme = "三调" or "用地用海" in [patches]')
    if guess.how == "detected":
        head = f"land-use scheme not configured; read as {scheme_label(guess.scheme)}"
    elif guess.how == "mixed":
        head = "land-use scheme not configured and the codes are of both schemes"
    else:
        head = (f"land-use scheme not configured and not told by the codes; read as "
                f"{scheme_label(guess.scheme)}, which may be wrong")
    warnings.warn(f"{where}: {head} ({guess.evidence}); {setting}.", DataWarning, stacklevel=4)


def _warn_unknown_classes(where, role, source_field, scheme, values: pd.Series) -> None:
    listing = ", ".join(f"{v!r} × {int(n)}" for v, n in values.value_counts().items())
    old = values[values.str.match(_OLD_CODE).fillna(False)]
    hint = (" Three-digit codes are the old 二调 numbering: convert the layer to GB/T "
            "21010-2017 codes (rural road is 1006 there)." if len(old) else "")
    warnings.warn(
        f"{where}: field {source_field or 'class'!r} ({role} `class`) has values the land-use "
        f"scheme {scheme_label(scheme)} does not know: {listing}; the facts group them as "
        f"'unknown' (lu_unknown_m2).{hint} If the layer follows the other scheme, set "
        "scheme = \"三调\" or \"用地用海\".",
        VocabularyWarning,
        stacklevel=4,
    )


def unknown_patch_types(values: pd.Series, *, dictionary=None) -> pd.Series:
    """How often each non-empty value occurs that ``dictionary`` does not know (most
    frequent first): what :func:`resolve_patch_types` warns about.

    >>> unknown_patch_types(pd.Series(["20", "SS", "SS", ""])).to_dict()
    {'SS': 2}
    """
    spellings = _patch_table(patch_dictionary(dictionary))[1]
    text = values.astype("string").str.strip()
    return text[text.notna() & (text != "") & _lookup(text, spellings).isna()].value_counts()


def unknown_landuse_classes(values: pd.Series, *, scheme=None) -> pd.Series:
    """How often each non-empty class value occurs that the scheme (``None``: detected as
    :func:`resolve_landuse_classes` does, without its warning) does not know.

    >>> unknown_landuse_classes(pd.Series(["0101", "1704", "1704"]), scheme="三调").to_dict()
    {'1704': 2}
    """
    text = values.astype("string").str.strip().str.upper()
    name = landuse_scheme(scheme) if scheme is not None else detect_landuse_scheme(text).scheme
    table, spellings = _class_table(name)
    return text[text.notna() & (text != "") & _class_codes(text, table, spellings).isna()
                ].value_counts()


def scheme_of(frame: pd.DataFrame, *, where: str = "landuse") -> str:
    """The land-use scheme of a layer: its :data:`SCHEME_COLUMN` (set by
    :func:`resolve_landuse_classes`, which a layer config applies), else detected from its
    ``class`` values as there (warned unless every code means the same in both schemes)."""
    if SCHEME_COLUMN in frame.columns and len(frame):
        return str(frame[SCHEME_COLUMN].iloc[0])
    if "class" not in frame.columns or not len(frame):
        return DEFAULT_LANDUSE_SCHEME
    guess = detect_landuse_scheme(frame["class"],
                                  names=frame["name"] if "name" in frame.columns else None)
    if guess.how != "same":
        _warn_scheme(where, "landuse", guess)
    return guess.scheme


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
