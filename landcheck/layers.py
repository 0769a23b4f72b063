"""Layer roles, field mappings and layer sets read from a TOML config.

A *layer set* names one file per role (permanent farmland, land-use survey,
approvals, ...) and says how that file's fields map to the canonical names the
rest of landcheck uses. :meth:`LayerSet.from_config` checks the whole config —
keys, roles, files, layers, fields, encodings, CRSs — before any geometry is
read, and reports every problem at once in one :class:`~landcheck.errors.ConfigError`.

Example config::

    crs = "EPSG:4527"                      # optional working CRS

    [patches]
    path = "patches.gpkg"
    fields = { id = "JCBH", type = "TBLX", before = "QSX", after = "HSX" }

    [layers.approvals]
    path = "pz.shp"
    encoding = "GB18030"
    fields = { id = "PZWH", date = "PZRQ" }

Relative paths resolve against the config file's folder.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyproj

from landcheck.area import AREA_METHODS
from landcheck.dates import DATE_FIELDS, parse_dates
from landcheck.errors import ConfigError, DataWarning, GeometryError, InputError, format_ids
from landcheck.provenance import ATTRS_KEY
from landcheck.roles import BUILTIN, Role, RoleSet, custom_role
from landcheck.vocab import (
    landuse_classes,
    landuse_scheme,
    normalise_values,
    patch_dictionary,
    patch_types,
    resolve_landuse_classes,
    resolve_patch_types,
)

__all__ = ["DATE_FIELDS", "ROLES", "LayerSet", "LayerSpec", "RoleSpec", "apply_mapping"]


@dataclass(frozen=True)
class RoleSpec:
    """What a role means and which canonical fields it has."""

    name_zh: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


#: Every built-in role a layer set may name, with its canonical fields (derived from
#: :data:`landcheck.roles.BUILTIN`, where the roles are declared). ``defaults`` are the
#: national-standard field names used when the config gives no mapping for a field and the
#: file has a field of that name. Custom zone roles (``kind = "zone"``) are declared in the
#: config; :attr:`LayerSet.role_set` holds them.
ROLES: dict[str, RoleSpec] = {
    name: RoleSpec(r.label_zh, r.required, r.optional, dict(r.defaults))
    for name, r in BUILTIN.items()
}

#: Canonical fields holding codes; they must be text (``"0101"``, never ``101``).
CODE_FIELDS = frozenset({"class", "planting", "township", "type"})

_LAYER_KEYS = {
    "path",
    "layer",
    "encoding",
    "crs",
    "zone",
    "zone_width",
    "central_meridian",
    "on_invalid",
    "fields",
    "values",
    "helmert",
    "type_dictionary",
    "scheme",
}
#: Roles whose ``class`` field is a land-use code (DLBM): the patches (the class before the
#: change) and the land-use survey; their tables may name the ``scheme``.
LANDUSE_CLASS_ROLES = ("patches", "landuse")
#: Keys of a ``[layers.<name>]`` table that declare a custom role (see :mod:`landcheck.roles`).
_CUSTOM_KEYS = {"kind", "label_zh", "label_en", "remainder_share"}
_TOP_KEYS = {"name", "crs", "area_method", "patches", "layers"}
_ON_INVALID = ("raise", "warn", "fix")
_HELMERT_KEYS = {"tx", "ty", "tz", "rx", "ry", "rz", "s", "convention"}


def _defaults(spec: RoleSpec | Role) -> dict[str, str]:
    return {k.rstrip("_"): v for k, v in spec.defaults.items()}


@dataclass(frozen=True)
class LayerSpec:
    """One role's source: where the file is and how to read and map it."""

    role: str
    path: Path
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    zone: int | None = None
    zone_width: int = 3
    central_meridian: float | None = None
    on_invalid: str = "raise"
    fields: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    helmert: Mapping[str, Any] | None = None
    #: the role's declaration where the config declares it (``kind = "zone"``), else None
    custom: Role | None = None
    #: patches: the patch-type dictionaries (:func:`landcheck.vocab.patch_dictionary`);
    #: None: the official one
    type_dictionary: tuple[str, ...] | None = None
    #: patches and land use: the land-use scheme of ``class``
    #: (:func:`landcheck.vocab.landuse_scheme`); None: detected from the codes
    scheme: str | None = None

    @property
    def declared(self) -> Role:
        """The role's declaration: the custom one, else the built-in."""
        return self.custom if self.custom is not None else BUILTIN[self.role]

    def read(self, rows=None):
        """Read the file and return it with canonical column names (see :func:`apply_mapping`).

        ``rows``: only these features (keys from :func:`landcheck.io.read.layer_extent`).
        """
        from landcheck.io import read_layer

        gdf = read_layer(
            self.path,
            layer=self.layer,
            encoding=self.encoding,
            crs=self.crs,
            zone=self.zone,
            zone_width=self.zone_width,
            central_meridian=self.central_meridian,
            on_invalid=self.on_invalid,
            id_field=self.fields.get("id"),
            rows=rows,
        )
        check_geometry_types(gdf, self)
        return apply_mapping(gdf, self)


class LayerSet:
    """The layers of one screening run, by role.

    Build it with :meth:`from_config` (a TOML file) or :meth:`from_dict`.
    Nothing is read until :meth:`read` is called.
    """

    #: a ``[patches]`` table without ``path``, checked: applied to the patch file given to
    #: :meth:`patch_spec`
    _patch_template: dict[str, Any] | None = None

    def __init__(
        self,
        layers: Mapping[str, LayerSpec],
        *,
        patches: LayerSpec | None = None,
        crs: str | None = None,
        name: str | None = None,
        source: str | None = None,
        area_method: str | None = None,
    ):
        self.layers = dict(layers)
        self.patches = patches
        self.crs = crs
        self.name = name
        self.source = source
        #: the official area method the config names (:data:`landcheck.area.AREA_METHODS`);
        #: None: the rule pack's
        self.area_method = area_method

    def __repr__(self) -> str:
        roles = ", ".join(self.layers)
        label = self.name or self.source or ""
        return f"<LayerSet {label}: patches={self.patches is not None}, layers=[{roles}]>"

    def __contains__(self, role: str) -> bool:
        return role in self.layers

    @property
    def roles(self) -> list[str]:
        return list(self.layers)

    @property
    def role_set(self) -> RoleSet:
        """The built-in roles and the custom roles this layer set declares."""
        return RoleSet(tuple(s.custom for s in self.layers.values() if s.custom is not None))

    def spec(self, role: str) -> LayerSpec:
        if role == "patches" and self.patches is not None:
            return self.patches
        try:
            return self.layers[role]
        except KeyError:
            raise InputError(
                f"{self.source or 'layer set'}: no layer for role {role!r}; "
                f"configured roles: {', '.join(self.layers) or 'none'}"
            ) from None

    def read(self, role: str):
        """Read one role's layer with canonical field names."""
        return self.spec(role).read()

    def patch_spec(self, path=None, *, layer=None) -> LayerSpec:
        """The patches spec, or one for another patch file read the same way (same field
        mapping and options), checked against that file's fields."""
        if path is None:
            if self.patches is None:
                what = ("[patches] has no `path`" if self._patch_template is not None
                        else "no [patches] table")
                raise InputError(
                    f"{self.source or 'layer set'}: {what}; give the patch file explicitly"
                )
            return self.patches
        table: dict[str, Any] = {"path": str(path)}
        if self.patches is None and self._patch_template is not None:
            table.update(self._patch_template)
        elif self.patches is not None:
            base = self.patches
            table.update(
                fields=dict(base.fields),
                values={k: dict(v) for k, v in base.values.items()},
                on_invalid=base.on_invalid,
                zone_width=base.zone_width,
            )
            for key in ("encoding", "crs", "zone", "central_meridian", "scheme"):
                if getattr(base, key) is not None:
                    table[key] = getattr(base, key)
            if base.type_dictionary is not None:
                table["type_dictionary"] = list(base.type_dictionary)
        if layer is not None:
            table["layer"] = layer
        problems: list[str] = []
        spec = _layer_spec("patches", table, Path.cwd(), problems)
        if problems:
            raise ConfigError(str(path), problems)
        return spec

    @classmethod
    def from_config(cls, path) -> LayerSet:
        """Read and validate a TOML layer config; every problem is reported at once.

        Examples
        --------
        >>> from landcheck import LayerSet
        >>> from landcheck.testing import SAMPLES
        >>> layers = LayerSet.from_config(SAMPLES / "county.toml")
        >>> layers.roles[:3]
        ['landuse', 'permanent_farmland', 'town_boundary']
        >>> layers.spec("approvals").fields["id"]
        'PZWH'
        """
        try:
            path = Path(path).expanduser().resolve()
        except (RuntimeError, OSError) as exc:  # a loop of symbolic links
            raise ConfigError(str(path), [f"config path cannot be resolved ({exc})"]) from None
        if not path.is_file():
            raise ConfigError(str(path), [f"config file not found: {path}"])
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM is allowed
        except UnicodeDecodeError as exc:
            raise ConfigError(
                str(path), [f"not UTF-8 text ({exc}); save the config as UTF-8"]
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
        return cls.from_dict(data, base_dir=path.parent, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir=".", source="<dict>") -> LayerSet:
        """Validate a config mapping (as parsed from TOML) and build the layer set."""
        problems: list[str] = []
        base = Path(base_dir).expanduser().resolve()
        for key in set(data) - _TOP_KEYS:
            problems.append(f"unknown top-level key {key!r}{_suggest(key, _TOP_KEYS)}")
        crs = data.get("crs")
        if crs is not None:
            _check_crs("crs", crs, problems, projected=True)
        area_method = data.get("area_method")
        if area_method is not None and area_method not in AREA_METHODS:
            problems.append(f"area_method: unknown method {area_method!r}; use one of "
                            f"{', '.join(map(repr, AREA_METHODS))}")
        patches = template = None
        if isinstance(data.get("patches"), Mapping) and "path" not in data["patches"]:
            template = _patch_template(data["patches"], base, problems)
        elif "patches" in data:
            patches = _layer_spec("patches", data["patches"], base, problems)
        layers = {}
        raw_layers = data.get("layers", {})
        if not isinstance(raw_layers, Mapping):
            problems.append("`layers` must be a table of [layers.<role>] tables")
            raw_layers = {}
        for role, table in raw_layers.items():
            custom = None
            if isinstance(table, Mapping) and "kind" in table:
                custom = custom_role(role, table, f"layers.{role}", problems)
                if custom is None:
                    continue
            elif role not in ROLES or role == "patches":
                problems.append(
                    f"layers.{role}: unknown role{_suggest(role, ROLES)}; "
                    f"known roles: {', '.join(r for r in ROLES if r != 'patches')}; "
                    f'or declare a zone layer of your own with kind = "zone" and label_zh'
                )
                continue
            spec = _layer_spec(role, table, base, problems, custom=custom)
            if spec is not None:
                layers[role] = spec
        if problems:
            raise ConfigError(source, problems)
        name = data.get("name")
        layerset = cls(layers, patches=patches, crs=crs, name=name, source=source,
                       area_method=area_method)
        layerset._patch_template = template
        return layerset


def _suggest(word: str, options) -> str:
    options = list(options)
    lower = {o.lower(): o for o in options}
    close = difflib.get_close_matches(word.lower(), list(lower), n=1)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def _check_crs(where: str, value, problems: list[str], *, projected: bool = False) -> None:
    try:
        crs = pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError) as exc:
        problems.append(
            f'{where}: not a CRS PROJ understands: {value!r} ({exc}); use e.g. "EPSG:4527"'
        )
        return
    if projected and not crs.is_projected:
        problems.append(
            f"{where}: the working CRS must be projected (metres), got {crs.name}; "
            'use a CGCS2000 Gauss-Kruger zone such as "EPSG:4527"'
        )


def _layer_spec(role: str, table, base: Path, problems: list[str], *,
                custom: Role | None = None) -> LayerSpec | None:
    where = role if role == "patches" else f"layers.{role}"
    if not isinstance(table, Mapping):
        problems.append(f"{where}: must be a table with at least `path`")
        return None
    n_before = len(problems)
    keys = _LAYER_KEYS | _CUSTOM_KEYS if custom is not None else _LAYER_KEYS
    for key in set(table) - keys:
        hint = (f" ({key} declares a custom role, with kind = \"zone\")"
                if key in _CUSTOM_KEYS else _suggest(key, keys))
        problems.append(f"{where}: unknown key {key!r}{hint}")
    declared = custom if custom is not None else BUILTIN[role]
    opts = _layer_options(where, table, problems)
    path = _resolve_path(where, table.get("path"), base, problems)
    fields = _field_mapping(where, declared, table.get("fields", {}), problems)
    values = _value_mapping(where, declared, table.get("values", {}), problems)
    vocab = _vocabulary_options(where, role, table, base, problems)
    if path is not None and len(problems) == n_before:
        fields = _check_file(where, declared, path, opts, fields, problems)
    if len(problems) > n_before:
        return None
    return LayerSpec(role=role, path=path, fields=fields, values=values, custom=custom, **opts,
                     **vocab)


def _patch_template(table, base: Path, problems: list[str]) -> dict[str, Any] | None:
    """A ``[patches]`` table without ``path``: its keys, options, fields and vocabularies
    checked now, for the patch file given at run time (:meth:`LayerSet.patch_spec`); the
    vocabularies are resolved against the config's folder."""
    n_before = len(problems)
    for key in set(table) - _LAYER_KEYS:
        problems.append(f"patches: unknown key {key!r}{_suggest(key, _LAYER_KEYS)}")
    _layer_options("patches", table, problems)
    _field_mapping("patches", BUILTIN["patches"], table.get("fields", {}), problems)
    _value_mapping("patches", BUILTIN["patches"], table.get("values", {}), problems)
    vocab = _vocabulary_options("patches", "patches", table, base, problems)
    if len(problems) > n_before:
        return None
    template = dict(table)
    if "type_dictionary" in vocab:
        template["type_dictionary"] = list(vocab["type_dictionary"])
    if "scheme" in vocab:
        template["scheme"] = vocab["scheme"]
    return template


def _vocabulary_options(where: str, role: str, table, base: Path, problems: list[str]) -> dict:
    """``type_dictionary`` ([patches] only) and ``scheme`` (roles with land-use classes),
    checked by loading the tables they name."""
    out: dict[str, Any] = {}
    if "type_dictionary" in table:
        if role != "patches":
            problems.append(f"{where}.type_dictionary: only the [patches] table has a "
                            "patch-type dictionary")
        else:
            try:
                out["type_dictionary"] = patch_dictionary(table["type_dictionary"], base=base)
                patch_types(out["type_dictionary"])
            except InputError as exc:
                reason = str(exc).removeprefix("type_dictionary: ")
                problems.append(f"{where}.type_dictionary: {reason}")
    if "scheme" in table:
        if role not in LANDUSE_CLASS_ROLES:
            problems.append(f"{where}.scheme: a land-use scheme applies to the land-use classes "
                            f"of {', '.join(LANDUSE_CLASS_ROLES)} only")
        else:
            try:
                out["scheme"] = landuse_scheme(table["scheme"], base=base)
                landuse_classes(out["scheme"])
            except InputError as exc:
                problems.append(f"{where}.scheme: {str(exc).removeprefix('scheme: ')}")
    return out


def _layer_options(where: str, table, problems: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for key in ("layer", "encoding", "crs"):
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"{where}.{key}: must be text, got {type(value).__name__} {value!r}")
        else:
            opts[key] = value
    if opts.get("encoding"):
        try:
            codecs.lookup(opts["encoding"])
        except LookupError:
            problems.append(
                f"{where}.encoding: unknown encoding {opts['encoding']!r}; "
                'use e.g. "GB18030" or "UTF-8"'
            )
    if opts.get("crs"):
        _check_crs(f"{where}.crs", opts["crs"], problems)
    zone = table.get("zone")
    if zone is not None and (
        not isinstance(zone, int) or isinstance(zone, bool) or not 1 <= zone <= 60
    ):
        problems.append(f"{where}.zone: must be a zone number such as 39, got {zone!r}")
    opts["zone"] = zone
    width = table.get("zone_width", 3)
    if width not in (3, 6):
        problems.append(f"{where}.zone_width: must be 3 or 6, got {width!r}")
    opts["zone_width"] = width
    cm = table.get("central_meridian")
    if cm is not None and (
        not isinstance(cm, int | float) or isinstance(cm, bool) or not 70 <= cm <= 140
    ):
        problems.append(f"{where}.central_meridian: must be degrees east such as 117, got {cm!r}")
    opts["central_meridian"] = cm
    on_invalid = table.get("on_invalid", "warn" if where == "patches" else "raise")
    if on_invalid not in _ON_INVALID:
        problems.append(
            f"{where}.on_invalid: must be one of {', '.join(_ON_INVALID)}, got {on_invalid!r}"
        )
    opts["on_invalid"] = on_invalid
    opts["helmert"] = _helmert(where, table.get("helmert"), problems)
    return opts


def _helmert(where: str, value, problems: list[str]):
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.append(
            f"{where}.helmert: must be a table {{ tx, ty, tz, rx, ry, rz, s, convention }}"
        )
        return None
    missing = {"tx", "ty", "tz", "rx", "ry", "rz", "s"} - set(value)
    unknown = set(value) - _HELMERT_KEYS
    if missing:
        problems.append(
            f"{where}.helmert: missing {', '.join(sorted(missing))} "
            "(translations in m, rotations in arc-seconds, scale in ppm)"
        )
    if unknown:
        problems.append(f"{where}.helmert: unknown keys {', '.join(sorted(unknown))}")
    bad = [
        k
        for k in _HELMERT_KEYS - {"convention"} & set(value)
        if not isinstance(value[k], int | float) or isinstance(value[k], bool)
    ]
    if bad:
        problems.append(f"{where}.helmert: {', '.join(sorted(bad))} must be numbers")
    conv = value.get("convention", "position_vector")
    if conv not in ("position_vector", "coordinate_frame"):
        problems.append(f"{where}.helmert.convention: must be position_vector or coordinate_frame")
    return dict(value)


def _resolve_path(where: str, value, base: Path, problems: list[str]) -> Path | None:
    if value is None:
        problems.append(f"{where}: missing `path`")
        return None
    if not isinstance(value, str):
        problems.append(f"{where}.path: must be text, got {value!r}")
        return None
    try:
        path = (base / Path(value).expanduser()).resolve()
    except (RuntimeError, OSError) as exc:  # a loop of symbolic links
        problems.append(f"{where}.path: {value!r} cannot be resolved ({exc}); point it at "
                        f"the real file")
        return None
    if not path.exists():
        near = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
        hint = _suggest(path.name, near) or (
            f"; that folder has: {', '.join(near[:12])}"
            if near
            else f"; folder {path.parent} does not exist"
        )
        problems.append(f"{where}.path: file not found: {path}{hint}")
        return None
    return path


def _field_mapping(where: str, spec: Role, value, problems: list[str]) -> dict[str, str]:
    role = spec.name
    if not isinstance(value, Mapping):
        problems.append(f'{where}.fields: must be a table {{ canonical = "FILE_FIELD" }}')
        return {}
    out = {}
    for canonical, source in value.items():
        if canonical not in spec.fields:
            problems.append(
                f"{where}.fields: unknown canonical field {canonical!r}"
                f"{_suggest(canonical, spec.fields)}; {role} has: {', '.join(spec.fields)}"
            )
        elif not isinstance(source, str) or not source:
            problems.append(f"{where}.fields.{canonical}: must be the file's field name as text")
        else:
            out[canonical] = source
    return out


def _value_mapping(where: str, spec: Role, value, problems: list[str]) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping):
        problems.append(f'{where}.values: must be a table {{ field = {{ "raw" = "canonical" }} }}')
        return {}
    out = {}
    for canonical, table in value.items():
        if canonical not in spec.fields:
            problems.append(f"{where}.values: unknown canonical field {canonical!r}")
        elif not isinstance(table, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str | bool | int) for k, v in table.items()
        ):
            problems.append(
                f"{where}.values.{canonical}: must map raw text values to canonical values"
            )
        else:
            out[canonical] = dict(table)
    return out


def _check_file(where, spec: Role, path: Path, opts, fields, problems) -> dict[str, str]:
    """Check layer and field names against the file's metadata (no geometry is read)."""
    try:
        available = _layer_fields(path, opts.get("layer"), opts.get("encoding"))
    except InputError as exc:
        problems.append(f"{where}: {exc}")
        return fields
    fields = dict(fields)
    for canonical, default in _defaults(spec).items():
        if canonical not in fields and default in available:
            fields[canonical] = default
    for canonical, source in list(fields.items()):
        if source not in available and canonical not in spec.required:
            warnings.warn(
                f"{where}.fields.{canonical}: optional field {source!r} not in {path.name}"
                f"{_suggest(source, available)}; the layer is read without `{canonical}`; "
                f"fields there: {', '.join(available)}",
                DataWarning, stacklevel=2)
            del fields[canonical]
        elif source not in available:
            problems.append(
                f"{where}.fields.{canonical}: field {source!r} not in {path.name}"
                f"{_suggest(source, available)}; fields there: {', '.join(available)}"
            )
    for canonical in spec.required:
        if canonical not in fields:
            default = _defaults(spec).get(canonical)
            eg = f" (e.g. {default})" if default else ""
            problems.append(
                f"{where}.fields: required field `{canonical}`{eg} is not mapped; "
                f"fields in {path.name}: {', '.join(available)}"
            )
    return fields


def _layer_fields(path: Path, layer: str | None, encoding: str | None) -> list[str]:
    """Field names of one layer, from metadata only, opened the way the reader opens it
    (``.gdb.zip``, GeoParquet, shapefile encodings); layer problems worded for the config."""
    from landcheck.io import layer_fields, list_layers

    layers = list_layers(path)
    names = [name for name, _ in layers]
    spatial = [name for name, gtype in layers if gtype != "None"] or names
    if layer is None and len(spatial) > 1:
        raise InputError(
            f"{path.name} has {len(spatial)} layers; set `layer` to one of: {', '.join(names)}"
        )
    if layer is not None and layer not in names:
        raise InputError(
            f"layer {layer!r} not in {path.name}{_suggest(layer, names)}; "
            f"layers there: {', '.join(names)}"
        )
    return layer_fields(path, layer=layer, encoding=encoding)


#: shapely geometry type ids of points and lines, and their names in messages
_POINT_IDS, _LINE_IDS = (0, 4), (1, 2, 5)
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 4: "MultiPoint",
               5: "MultiLineString"}


def check_geometry_types(gdf, spec: LayerSpec) -> None:
    """Raise GeometryError when a layer holds points or lines where its role expects polygons.

    Every role holds polygons (multi-polygons and collections too); a role declared with
    ``lines`` (:class:`landcheck.roles.Role`) also takes lines. Null and empty geometries
    are left to the geometry policy. The message names the role, the file, the types found
    and the first offending features (by the mapped id field, else by row).
    """
    where = f"{spec.path}" + (f" layer {spec.layer}" if spec.layer else "")
    check_frame_geometry_types(gdf, spec.declared, where, spec.fields.get("id"))


def check_frame_geometry_types(gdf, role, where: str, id_field: str | None = "id") -> None:
    """:func:`check_geometry_types` for a frame of ``role`` (a :class:`landcheck.roles.Role`)
    described by ``where`` (a file, or "layer 'x' (a frame)")."""
    import numpy as np
    import shapely

    geoms = np.asarray(gdf.geometry.array, dtype=object)
    kinds = shapely.get_type_id(geoms)
    refused = _POINT_IDS if role.lines else _POINT_IDS + _LINE_IDS
    bad = np.isin(kinds, refused) & ~shapely.is_empty(geoms)
    if not bad.any():
        return
    found = pd.Series(kinds[bad]).map(_TYPE_NAMES).value_counts()
    types = ", ".join(f"{n} {name}" for name, n in found.items())
    if id_field is not None and id_field in gdf.columns:
        which = f"ids {format_ids(gdf[id_field].to_numpy()[bad].tolist())}"
    else:
        which = f"rows (0-based) {format_ids(np.flatnonzero(bad).tolist())}"
    expected = "polygons or lines" if role.lines else "polygons"
    raise GeometryError(
        f"{where}: the {role.name} layer ({role.label_zh}) must hold {expected}, but "
        f"{int(bad.sum())} of its {len(geoms)} feature(s) are not ({types}; {which}); "
        f"give this role a file of {expected} (e.g. the parcels, not their boundary lines or "
        f"centre points)")


def apply_mapping(gdf, spec: LayerSpec):
    """Rename a layer's fields to canonical names, map values, and type dates and codes.

    Canonical columns come first; unmapped source columns are kept after them (a
    source column that clashes with a canonical name is kept as ``src_<name>``).
    Dates become ``datetime64`` by the date policy of :mod:`landcheck.dates`; codes must be
    text.
    """
    where = f"{spec.path}" + (f" layer {spec.layer}" if spec.layer else "")
    rename = {src: canonical for canonical, src in spec.fields.items()}
    clash = {c: f"src_{c}" for c in gdf.columns if c in spec.fields and c not in rename}
    out = gdf.rename(columns={**clash, **rename})
    for canonical in spec.fields:
        if canonical in CODE_FIELDS:
            _check_code_column(out, canonical, spec, where)
        if canonical in DATE_FIELDS:
            out[canonical] = _to_dates(out, canonical, spec, where)
        if canonical in spec.values:
            mapping = spec.values[canonical]
            out[canonical] = out[canonical].map(
                lambda v, m=mapping: m.get(v, v) if isinstance(v, str) else v
            )
        if canonical not in DATE_FIELDS and canonical in out.columns:
            # official codes, Chinese names and variants of the canonical values
            out[canonical] = normalise_values(out[canonical], spec.role, canonical, where=where,
                                              source_field=spec.fields[canonical])
    first = [c for c in spec.declared.fields if c in spec.fields]
    rest = [c for c in out.columns if c not in first]
    out = out[first + rest]
    out, notes = _resolve_vocabularies(out, spec, where)
    if spec.role == "patches":
        out = _with_source_fields(out, gdf, rename, clash)
    out.attrs = dict(gdf.attrs)
    if spec.role == "patches":
        geom = gdf.geometry.name if hasattr(gdf, "geometry") else None
        out.attrs[SOURCE_FIELDS_KEY] = [clash.get(c, c) for c in gdf.columns if c != geom]
    _add_notes(out, notes)
    return out


#: ``attrs`` key of a mapped patch layer: its source fields, by name, in the file's order.
SOURCE_FIELDS_KEY = "landcheck_source_fields"


def _resolve_vocabularies(out, spec: LayerSpec, where: str):
    """Patch types by the layer's dictionary, land-use classes by its scheme (both adding
    columns the facts read: ``type_category``/``type_name``, ``class_scheme``), and the
    provenance notes saying which."""
    notes: list[str] = []
    if spec.role == "patches" and "type" in spec.fields:
        out = resolve_patch_types(out, dictionary=spec.type_dictionary, where=where,
                                  source_field=spec.fields["type"], notes=notes)
    if spec.role in LANDUSE_CLASS_ROLES and "class" in spec.fields:
        out = resolve_landuse_classes(out, scheme=spec.scheme, where=where,
                                      source_field=spec.fields["class"], role=spec.role,
                                      notes=notes)
    return out, notes


def _add_notes(gdf, notes: list[str]) -> None:
    info = gdf.attrs.get(ATTRS_KEY)
    if notes and info is not None:
        gdf.attrs[ATTRS_KEY] = dataclasses.replace(info, notes=(*info.notes, *notes))


def _with_source_fields(out, gdf, rename, clash):
    """The patches with every source field kept as it was read, under its own name, after
    the canonical columns (in the file's order): the verdict and child-plot layers carry
    them (:func:`landcheck.chain.verdict_table`)."""
    geom = gdf.geometry.name if hasattr(gdf, "geometry") else None
    copies = {src: gdf[src] for src in gdf.columns
              if src in rename and src != geom and src not in out.columns}
    if not copies:
        return out
    order = [clash.get(c, c) for c in gdf.columns if c != geom]
    kept = out.assign(**copies)
    canon = [c for c in kept.columns if c not in order]
    return kept[canon + [c for c in order if c in kept.columns]]


def _check_code_column(df, canonical: str, spec: LayerSpec, where: str) -> None:
    col = df[canonical]
    if pd.api.types.is_numeric_dtype(col.dtype) and not col.isna().all():
        sample = col.dropna().iloc[0]
        raise InputError(
            f"{where}: field {spec.fields[canonical]!r} ({spec.role} `{canonical}`) is stored as "
            f"numbers (e.g. {sample!r}); codes must be text such as '0101' — a number loses its "
            "leading zeros. Re-export the layer with this field as text."
        )


def _to_dates(df, canonical: str, spec: LayerSpec, where: str) -> pd.Series:
    """The field by the date policy of :mod:`landcheck.dates`."""
    ids = df["id"] if "id" in df.columns else None
    return parse_dates(df[canonical], where=where, field=spec.fields[canonical],
                       canonical=canonical, role=spec.role, ids=ids)
