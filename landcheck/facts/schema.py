"""The fact columns: names, types for the rule checker, and their documentation."""

from __future__ import annotations

from dataclasses import dataclass

from landcheck.roles import BUILTIN, FOREST_CLASSES, PLANTING_CODES, RoleSet
from landcheck.vocab import LANDUSE_GROUPS

__all__ = [
    "COVER_ROLES",
    "FACILITY_KINDS",
    "FACILITY_NOT_ON_PF",
    "FACT_COLUMNS",
    "FACT_DOCS",
    "FOREST_CLASSES",
    "PLANTING_CODES",
    "UNION_ROLES",
    "ZONE_ROLES",
    "FactColumn",
    "builtin_columns",
    "fact_docs",
    "fact_schema",
]


#: Roles measured as plain zones: area, fraction, ids, count (declared in :mod:`landcheck.roles`).
ZONE_ROLES = BUILTIN.zone_roles


#: Roles that can make (part of) a patch legal.
COVER_ROLES = tuple(n for n, r in BUILTIN.items() if r.kind == "cover")


#: Facility kinds that do not cover permanent farmland (DOMAIN §6).
FACILITY_NOT_ON_PF = ("livestock", "aquaculture")
#: Every facility kind the legality rules know (``value_names.csv``): a filing of another or
#: no kind neither covers nor leaves its area to the remainder — it is for review.
FACILITY_KINDS = ("crop", *FACILITY_NOT_ON_PF)


#: Zone roles whose per-patch union is used as geometry after the zone facts (farmland on
#: permanent farmland, facility cover, the remainder's shares); the others need areas only.
UNION_ROLES = BUILTIN.union_roles


@dataclass(frozen=True)
class FactColumn:
    """One fact column: its name (a template such as ``<role>_m2`` is written out for every
    value of its holder), its type for the rule checker (``number``, ``text``, ``date``,
    ``bool``, ``list``), its unit and what it means."""

    name: str
    dtype: str
    unit: str
    doc: str


def _c(name, dtype, doc, unit=None) -> FactColumn:
    if unit is None:
        unit = "m²" if name.endswith("_m2") else "m" if name.endswith("_m") else ""
    return FactColumn(name, dtype, unit, doc)


#: The built-in fact columns in schema order (templates included); :data:`FACT_DOCS`,
#: :func:`fact_schema` and :func:`fact_docs` derive from it.
FACT_COLUMNS: tuple[FactColumn, ...] = (
    _c("id", "text", "the patch's clue id (监测编号, e.g. JCBH), as text"),
    _c("township", "text", "township code of the patch (XZQDM), as text"),
    _c("type", "text", "patch type code (TBLX), as the bureau gives it"),
    _c("class", "text", "land-use code the patch file carries (DLBM), as text"),
    _c("approval", "text", "approval number the patch file carries (PZWH), as text"),
    _c("level", "text",
       "issuing level (XFJB) by code, Chinese name or variant (ministry, province, city, "
       "county; value_names.csv)"),
    _c("note", "text", "the patch file's remark field, as text"),
    _c("type_category", "text",
       "category of the patch type code (patch_types.csv); 'unknown' if not listed"),
    _c("type_name", "text", "Chinese name of the patch type (patch_types.csv), for reasons"),
    _c("geom_problem", "text",
       "why the geometry cannot be judged (empty/invalid/not polygonal), else null"),
    _c("geom_problem_zh", "text", "geom_problem in Chinese (几何为空 / 几何无效 / 不是面要素)"),
    _c("before", "date", "date of the before-image (前时相)"),
    _c("after", "date", "date of the after-image (后时相)"),
    _c("issued", "date", "date the patch was issued (下发日期)"),
    _c("geom_ok", "bool", "patch geometry is a valid, non-empty polygon"),
    _c("reprojection_change_pct", "number",
       "area change (% of the patch) of the repair of a patch that the transformation into the "
       "working CRS made invalid (100: nothing left); null where no repair was needed"),
    _c("area_m2", "number", "official (ellipsoidal) area of the patch, m²"),
    _c("reported_area_m2", "number", "the area the patch file reports (JCMJ), m², as given"),
    _c("width_m", "number",
       "strip width of the patch (equivalent-rectangle width from area and perimeter), m"),
    _c("<role>_m2", "number", "area of the union of the role's features inside the patch, m²"),
    _c("<role>_frac", "number", "<role>_m2 / area_m2", ""),
    _c("<role>_n", "number", "number of the role's features hit", ""),
    _c("<role>_ids", "list", "ids of the role's features hit (list)"),
    _c("forest_<class>_m2", "number", "area on forest of that class, m²"),
    _c("lu_<group>_m2", "number", "area of the patch on land-use parcels of that group, m²"),
    _c("lu_<group>_frac", "number", "lu_<group>_m2 / area_m2", ""),
    _c("lu_k_m2", "number", "area on 'K' (adjustable) land-use codes, m²"),
    _c("lu_classes", "list", "land-use codes hit (list)"),
    _c("lu_unknown_classes", "list",
       "land-use codes hit that the layer's scheme does not know (list, each once)"),
    _c("lu_paddy_m2", "number", "area on paddy fields (水田, 0101), m²"),
    _c("land3_agricultural_m2", "number",
       "area on agricultural land (农用地, GB/T 21010-2017 three main classes), m²; null for a "
       "用地用海 layer (no correspondence in its table)"),
    _c("land3_construction_m2", "number", "area on construction land (建设用地, main class), m²"),
    _c("land3_unused_m2", "number", "area on unused land (未利用地, main class), m²"),
    _c("land3_nonfarm_agricultural_m2", "number",
       "agricultural land other than farmland (非耕农用地): land3_agricultural_m2 − "
       "lu_farmland_m2, m²"),
    _c("planting_<code>_m2", "number",
       "area on farmland with planting attribute <code> (LS, FLS …), m²"),
    _c("lu_farmland_pf_m2", "number", "farmland (land-use group) on permanent farmland, m²"),
    _c("planting_FLS_pf_m2", "number", "non-grain (FLS) farmland on permanent farmland, m²"),
    _c("general_farmland_m2", "number", "farmland not on permanent farmland, m²"),
    _c("farmland_or_pf_m2", "number", "area on farmland or permanent farmland (union), m²"),
    _c("approved_m2", "number",
       "area covered by approvals dated no later than the after-date, m²"),
    _c("approved_late_m2", "number",
       "area covered only by approvals dated after the after-date (先建后批), m²"),
    _c("facility_m2", "number",
       "area covered by facility-agriculture filings that count as cover, m²"),
    _c("facility_on_pf_m2", "number",
       "livestock/aquaculture facility area on permanent farmland (no cover)"),
    _c("facility_unknown_m2", "number",
       "area under facility-agriculture filings of an unknown or missing kind (not cover, "
       "not remainder: for review), m²"),
    _c("temporary_m2", "number",
       "area covered by temporary-land approvals in force at the after-date"),
    _c("temporary_use_bad_m2", "number",
       "area inside temporary land in force whose approved use differs"),
    _c("temporary_expired_m2", "number",
       "area covered only by temporary approvals expired at the after-date"),
    _c("temporary_use_unknown_m2", "number",
       "area inside temporary land in force whose approved use is missing or not in "
       "temporary_uses.csv (not cover, not remainder: for review), m²"),
    _c("cover_m2", "number", "union of all legal cover, m²"),
    _c("cover_frac", "number", "cover_m2 / area_m2", ""),
    _c("built_m2", "number",
       "area on land that is already construction land in the land-use layer, m²"),
    _c("remainder_m2", "number", "patch minus legal cover, slivers removed, m²"),
    _c("remainder_frac", "number", "remainder_m2 / area_m2", ""),
    _c("cut_m", "number", "length of the line between the remainder and the rest of the patch, m"),
    *(_c(s.remainder, "number", f"remainder {s.label_en}, m²") for s in BUILTIN.shares),
    _c("approval_ids", "list",
       "ids of the approvals dated no later than the after-date that the patch meets"),
    _c("approval_late_ids", "list", "ids of the approvals dated after the after-date (先建后批)"),
    _c("facility_ids", "list", "ids of the facility-agriculture filings that count as cover"),
    _c("facility_unknown_kinds", "list",
       "the kinds, as written, of the filings in facility_unknown_m2 (（空） where missing)"),
    _c("temporary_ids", "list", "ids of the temporary-land approvals in force at the after-date"),
    _c("temporary_use_unknown", "list",
       "the uses, as written, of the approvals in temporary_use_unknown_m2 (（空） where missing)"),
)

#: What each built-in fact column means (``<role>``, ``<group>``, ``<code>`` and ``<class>``
#: stand for every zone role, land-use group, planting code and forest class).
FACT_DOCS: dict[str, str] = {c.name: c.doc for c in FACT_COLUMNS}


def _fills() -> dict[str, tuple[str, ...]]:
    return {"<role>": ZONE_ROLES, "<group>": LANDUSE_GROUPS, "<code>": PLANTING_CODES,
            "<class>": FOREST_CLASSES}


def builtin_columns() -> list[FactColumn]:
    """:data:`FACT_COLUMNS` written out, in schema order: consecutive templates with the same
    holder are written out together per value (``a_m2, a_frac, a_n, a_ids, b_m2 …``)."""
    fills = _fills()
    out: list[FactColumn] = []
    i = 0
    while i < len(FACT_COLUMNS):
        col = FACT_COLUMNS[i]
        holder = next((h for h in fills if h in col.name), None)
        if holder is None:
            out.append(col)
            i += 1
            continue
        j = i
        while j < len(FACT_COLUMNS) and holder in FACT_COLUMNS[j].name:
            j += 1
        for value in fills[holder]:
            out += [FactColumn(t.name.replace(holder, value), t.dtype, t.unit,
                               t.doc.replace(holder, value)) for t in FACT_COLUMNS[i:j]]
        i = j
    return out


def fact_schema(roles: RoleSet | None = None) -> dict[str, str]:
    """Every fact column :func:`compute_facts` produces, with its type for the rule checker
    (``number``, ``text``, ``date``, ``bool`` or ``list``). It does not depend on the data, so a
    rule pack can be checked before anything is read; facts of roles that are not configured
    are null (and rules on them cannot fire). The facts of ``roles``' custom roles come after
    the built-in ones."""
    schema = {c.name: c.dtype for c in builtin_columns()}
    from landcheck.checks import PATCH_FACT_PROVIDERS, load_builtin_checks

    load_builtin_checks()
    for provider in PATCH_FACT_PROVIDERS:
        clash = set(provider.schema) & set(schema)
        if clash:
            raise RuntimeError(f"patch fact provider {provider.name} redefines {sorted(clash)}")
        schema.update(provider.schema)
    if roles is not None:
        schema.update(roles.custom_schema())
    return schema


def fact_docs(roles: RoleSet | None = None) -> dict[str, str]:
    """What every column of :func:`fact_schema` means: :data:`FACT_COLUMNS` written out for
    every zone role, land-use group, planting code and forest class, the docs of the
    registered patch fact providers, and those of ``roles``' custom roles."""
    out = {c.name: c.doc for c in builtin_columns()}
    from landcheck.checks import PATCH_FACT_PROVIDERS, load_builtin_checks

    load_builtin_checks()
    for provider in PATCH_FACT_PROVIDERS:
        out.update(provider.docs)
    if roles is not None:
        out.update(roles.custom_docs())
    return out
