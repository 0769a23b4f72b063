"""What a user runs first on their own data: per layer, what landcheck sees.

:func:`inspect_file` and :func:`inspect_layerset` read each layer with the
``"warn"`` geometry policy and summarise it — driver, features, CRS and how it
was decided, encoding and how, bounds, invalid/empty geometries, duplicate ids,
and every warning raised while reading. A layer that cannot be read is reported
with its error; the others are still inspected. For the layers of a config it also
lists, per field, the values that no vocabulary knows (``value_names.csv``, after the
config's ``values`` table), with their counts: what a run would warn about and send
for review.

:func:`preflight` then does what a run of ``screen`` does before it judges anything — it
loads the rule pack, names the layers its rules read that the config lacks, reads every
layer as a run reads it (field mapping, values, dates, codes, geometry types), decides the
working CRS and checks each layer's extent against the patches' — and returns every error
and warning on the way as :class:`Problem` rows: the problems a run would hit.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from landcheck.errors import (
    DuplicateIdError,
    InputError,
    LandcheckError,
    LandcheckWarning,
    LayerReadError,
    format_ids,
)
from landcheck.provenance import source_info

__all__ = ["FieldInfo", "LayerReport", "Problem", "UnknownValue", "inspect_file",
           "inspect_layerset", "preflight", "unknown_values"]

#: distinct sample values listed per field
SAMPLES = 3


@dataclass
class UnknownValue:
    """Features of a layer whose value of a field no vocabulary knows."""

    field: str  #: the field in the file
    canonical: str  #: the role's canonical field it is mapped to
    value: str  #: the value as written
    count: int  #: how many features have it


@dataclass
class FieldInfo:
    """One field of a layer as read: its type, how many features have a value, a few
    distinct values, and the canonical field of the role it is mapped to (if any)."""

    name: str
    dtype: str
    non_null: int
    samples: list[str] = field(default_factory=list)
    mapped_to: str | None = None


@dataclass
class Problem:
    """Something a run would hit: ``level`` ``"error"`` (the run stops) or ``"warning"``
    (the run goes on, and says it); ``where`` is the role, ``"rules"`` or ``"crs"``."""

    level: str
    where: str
    message: str

    def line(self) -> str:
        return f"{self.level}: [{self.where}] {self.message}"


@dataclass
class LayerReport:
    """Summary of one layer as read by landcheck."""

    role: str | None
    path: str
    layer: str | None = None
    driver: str | None = None
    features: int | None = None
    crs: str | None = None
    crs_how: str | None = None
    crs_detail: str | None = None
    encoding: str | None = None
    encoding_how: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    geometry_types: dict[str, int] = field(default_factory=dict)
    invalid: int | None = None
    empty: int | None = None
    id_field: str | None = None
    duplicate_ids: list[str] = field(default_factory=list)
    unknown_values: list[UnknownValue] = field(default_factory=list)
    fields: list[FieldInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """Human-readable lines for the terminal."""
        head = f"[{self.role}] " if self.role else ""
        out = [f"{head}{self.path}" + (f" (layer {self.layer})" if self.layer else "")]
        if self.error:
            return [*out, f"  ERROR: {self.error}"]
        b = self.bounds
        out += [
            f"  driver     {self.driver}",
            f"  features   {self.features}   "
            + ", ".join(f"{k} {v}" for k, v in self.geometry_types.items()),
            f"  crs        {self.crs}  ({self.crs_how}: {self.crs_detail})",
            f"  encoding   {self.encoding or '-'}  ({self.encoding_how})",
            "  bounds     " + (f"{b[0]:.3f} {b[1]:.3f} {b[2]:.3f} {b[3]:.3f}" if b else "-"),
            f"  invalid    {self.invalid}   empty {self.empty}",
        ]
        if self.id_field:
            dup = format_ids(self.duplicate_ids) if self.duplicate_ids else "none"
            out.append(f"  id field   {self.id_field}, duplicates: {dup}")
        by_field: dict[tuple[str, str], list[UnknownValue]] = {}
        for u in self.unknown_values:
            by_field.setdefault((u.field, u.canonical), []).append(u)
        for (fld, canonical), values in by_field.items():
            listing = ", ".join(f"{u.value!r} × {u.count}" for u in values)
            out.append(f"  unknown    {fld} ({self.role} `{canonical}`): {listing}")
        for f in self.fields:
            mapped = f" → `{f.mapped_to}`" if f.mapped_to else ""
            values = ", ".join(repr(v) for v in f.samples) or "-"
            out.append(f"  field      {f.name} ({f.dtype}{mapped}) {f.non_null}/"
                       f"{self.features} set, e.g. {values}")
        out += [f"  warning    {w}" for w in self.warnings]
        return out


def inspect_file(path, /, *, layer=None, encoding=None, crs=None, zone=None,
                 central_meridian=None, id_field=None, role=None) -> LayerReport:
    """Inspect one file (one layer of it)."""
    return _inspect(path, layer=layer, encoding=encoding, crs=crs, zone=zone,
                    central_meridian=central_meridian, id_field=id_field, role=role)[0]


def _inspect(path, *, layer, encoding, crs, zone, central_meridian, id_field, role):
    """The report of one file and the frame read (None where it could not be read)."""
    from landcheck.io import read_layer

    report = LayerReport(role=role, path=str(path), layer=layer, id_field=id_field)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opts = dict(layer=layer, encoding=encoding, crs=crs, zone=zone,
                    central_meridian=central_meridian, on_invalid="warn")
        try:
            try:  # name features by id in the warnings when the ids allow it
                gdf = read_layer(path, **opts, id_field=id_field)
            except (DuplicateIdError, InputError) as exc:
                if id_field is None or isinstance(exc, LayerReadError):
                    raise
                caught.clear()
                gdf = read_layer(path, **opts)
        except (LandcheckError, OSError, ValueError) as exc:
            report.error = str(exc)
            gdf = None
    report.warnings = [str(w.message) for w in caught]
    if gdf is not None:
        _fill(report, gdf, id_field)
    return report, gdf


def _fill(report: LayerReport, gdf, id_field: str | None) -> None:
    info = source_info(gdf)
    if info is not None:
        report.layer = info.layer
        report.driver = info.driver
        report.crs, report.crs_how, report.crs_detail = info.crs, info.crs_how, info.crs_detail
        report.encoding, report.encoding_how = info.encoding, info.encoding_how
    geoms = gdf.geometry.values
    report.features = len(gdf)
    types, counts = np.unique(np.asarray(gdf.geometry.geom_type.fillna("None")), return_counts=True)
    report.geometry_types = {str(t): int(c) for t, c in zip(types, counts, strict=True)}
    missing = shapely.is_missing(geoms)
    report.empty = int((missing | shapely.is_empty(geoms)).sum())
    report.invalid = int((~missing & ~shapely.is_valid(geoms)).sum())
    if len(gdf) and not np.all(missing):
        report.bounds = tuple(float(v) for v in gdf.total_bounds)
    report.fields = field_infos(gdf)
    if id_field is not None:
        if id_field not in gdf.columns:
            report.warnings.append(f"id field {id_field!r} not found")
        else:
            ids = gdf[id_field]
            report.duplicate_ids = [str(v) for v in ids[ids.duplicated(keep=False)].unique()]


def inspect_layerset(layerset) -> list[LayerReport]:
    """Inspect every layer of a :class:`~landcheck.layers.LayerSet` (patches first), with
    the values of each mapped field that no vocabulary knows (:func:`unknown_values`)."""
    specs = ([layerset.patches] if layerset.patches is not None else []) + list(
        layerset.layers.values())
    reports = []
    for s in specs:
        report, gdf = _inspect(Path(s.path), layer=s.layer, encoding=s.encoding, crs=s.crs,
                               zone=s.zone, central_meridian=s.central_meridian,
                               id_field=s.fields.get("id"), role=s.role)
        if gdf is not None:
            report.unknown_values = unknown_values(gdf, s)
            mapped = {source: canonical for canonical, source in s.fields.items()}
            for f in report.fields:
                f.mapped_to = mapped.get(f.name)
        reports.append(report)
    return reports


def field_infos(gdf) -> list[FieldInfo]:
    """Every attribute field of ``gdf`` in file order with its type, count of values and
    up to :data:`SAMPLES` distinct values (most frequent first, text cut at 30 characters)."""
    out = []
    for name in gdf.columns:
        if name == gdf.geometry.name:
            continue
        col = gdf[name]
        present = col.dropna()
        try:
            common = present.value_counts().index[:SAMPLES]
        except TypeError:  # unhashable values (lists)
            common = present.iloc[:SAMPLES]
        samples = [str(v)[:30] for v in common]
        out.append(FieldInfo(str(name), str(col.dtype), len(present), samples))
    return out


def preflight(layerset, rules="city2023", *, overrides=None) -> list[Problem]:
    """The problems a run of :func:`landcheck.screen` on ``layerset`` would hit, without
    judging anything: every warning it would give and the error it would stop at, in order.

    Steps: the rule pack is loaded (``rules``, ``overrides`` as for ``screen``) and the
    layers its rules read that the layer set lacks are named; each layer is read as a run
    reads it (mapping, values, dates, codes, geometry types); the working CRS is decided and
    every layer's extent compared with the patches'. A step that fails is an ``"error"``
    problem and the steps that need its result are skipped; the others still run. The same
    message given twice (two layers from one file) is listed once.
    """
    from landcheck.chain import absent_layers, decide_working_crs, roles_of, to_working_all
    from landcheck.screen import load_rules

    problems: list[Problem] = []

    def attempt(where, step):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = step()
            except (LandcheckError, OSError, ValueError) as exc:
                problems.append(Problem("error", where, str(exc)))
                out = None
        problems.extend(Problem("warning", where, str(w.message)) for w in caught
                        if issubclass(w.category, LandcheckWarning))
        return out

    roles = roles_of(layerset)
    full = attempt("rules", lambda: load_rules(rules, overrides=overrides, roles=roles))
    if full is not None:
        attempt("rules", lambda: absent_layers(full.for_subject("patches"), layerset, roles))
    patches = attempt("patches", lambda: layerset.patch_spec(None).read())
    ref = {}
    for role in layerset.roles:
        gdf = attempt(role, lambda r=role: layerset.read(r))
        if gdf is not None:
            ref[role] = gdf
    if patches is not None and ref:
        decision = attempt("crs", lambda: decide_working_crs(patches, ref, layerset, None))
        if decision is not None:
            attempt("crs", lambda: to_working_all(patches, ref, layerset, decision.crs))
    seen: set[tuple[str, str]] = set()
    unique = []
    for p in problems:
        if (p.level, p.message) not in seen:
            seen.add((p.level, p.message))
            unique.append(p)
    return unique


def unknown_values(gdf, spec) -> list[UnknownValue]:
    """Values of ``gdf`` (as read, with the file's field names) that no vocabulary of
    ``spec``'s role knows, per mapped field, after the config's ``values`` table: the
    values :func:`landcheck.vocab.normalise_values` warns about in a run, most frequent
    first. Empty values are not listed (they are missing, not unknown)."""
    from landcheck.errors import VocabularyWarning
    from landcheck.vocab import normalise_values, value_names

    names = value_names()
    out: list[UnknownValue] = []
    for canonical, source in spec.fields.items():
        spellings = names.get((spec.role, canonical))
        if spellings is None or source not in gdf.columns:
            continue
        raw = gdf[source]
        table = spec.values.get(canonical)
        mapped = raw if not table else raw.map(
            lambda v, m=table: m.get(v, v) if isinstance(v, str) else v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VocabularyWarning)
            coded = normalise_values(mapped, spec.role, canonical, where=str(spec.path))
        text = pd.Series(coded, index=raw.index).astype("string")
        known = sorted(set(spellings.values()))
        unknown = text.notna() & (text.str.strip() != "") & ~text.isin(known)
        for value, count in text[unknown].value_counts().items():
            out.append(UnknownValue(source, canonical, str(value), int(count)))
    return out + _unknown_codes(gdf, spec)


def _unknown_codes(gdf, spec) -> list[UnknownValue]:
    """Patch types the layer's dictionary and land-use classes its scheme do not know (what
    :func:`landcheck.vocab.resolve_patch_types` / ``resolve_landuse_classes`` warn about)."""
    from landcheck.layers import LANDUSE_CLASS_ROLES
    from landcheck.vocab import unknown_landuse_classes, unknown_patch_types

    out: list[UnknownValue] = []
    checks = []
    if spec.role == "patches" and "type" in spec.fields:
        checks.append(("type", lambda v: unknown_patch_types(v, dictionary=spec.type_dictionary)))
    if spec.role in LANDUSE_CLASS_ROLES and "class" in spec.fields:
        checks.append(("class", lambda v: unknown_landuse_classes(v, scheme=spec.scheme)))
    for canonical, count_unknown in checks:
        source = spec.fields[canonical]
        if source in gdf.columns:
            for value, count in count_unknown(gdf[source]).items():
                out.append(UnknownValue(source, canonical, str(value), int(count)))
    return out
