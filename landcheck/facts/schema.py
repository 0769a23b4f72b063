"""The fact columns: names, types for the rule checker, and their documentation."""

from __future__ import annotations

from landcheck.roles import BUILTIN, FOREST_CLASSES, PLANTING_CODES, RoleSet
from landcheck.vocab import LANDUSE_GROUPS

__all__ = [
    "COVER_ROLES",
    "FACILITY_NOT_ON_PF",
    "FACT_DOCS",
    "FOREST_CLASSES",
    "PLANTING_CODES",
    "UNION_ROLES",
    "ZONE_ROLES",
    "fact_docs",
    "fact_schema",
]


#: Roles measured as plain zones: area, fraction, ids, count (declared in :mod:`landcheck.roles`).
ZONE_ROLES = BUILTIN.zone_roles


#: Roles that can make (part of) a patch legal.
COVER_ROLES = tuple(n for n, r in BUILTIN.items() if r.kind == "cover")


#: Facility kinds that do not cover permanent farmland (DOMAIN §6).
FACILITY_NOT_ON_PF = ("livestock", "aquaculture")


#: Zone roles whose per-patch union is used as geometry after the zone facts (farmland on
#: permanent farmland, facility cover, the remainder's shares); the others need areas only.
UNION_ROLES = BUILTIN.union_roles


FACT_DOCS: dict[str, str] = {
    "id": "the patch's clue id (监测编号, e.g. JCBH), as text",
    "township": "township code of the patch (XZQDM), as text",
    "type": "patch type code (TBLX), as the bureau gives it",
    "class": "land-use code the patch file carries (DLBM), as text",
    "approval": "approval number the patch file carries (PZWH), as text",
    "level": "issuing level (XFJB) after the config's value mapping (ministry, province, city)",
    "note": "the patch file's remark field, as text",
    "before": "date of the before-image (前时相)",
    "after": "date of the after-image (后时相)",
    "issued": "date the patch was issued (下发日期)",
    "reported_area_m2": "the area the patch file reports (JCMJ), m², as given",
    "area_m2": "official (ellipsoidal) area of the patch, m²",
    "geom_ok": "patch geometry is a valid, non-empty polygon",
    "geom_problem": "why the geometry cannot be judged (empty/invalid/not polygonal), else null",
    "type_category": "category of the patch type code (patch_types.csv); 'unknown' if not listed",
    "type_name": "Chinese name of the patch type (patch_types.csv), for reasons",
    "width_m": "strip width of the patch (equivalent-rectangle width from area and perimeter), m",
    "<role>_m2": "area of the union of the role's features inside the patch, m²",
    "<role>_frac": "<role>_m2 / area_m2",
    "<role>_n": "number of the role's features hit",
    "<role>_ids": "ids of the role's features hit (list)",
    "lu_<group>_m2": "area of the patch on land-use parcels of that group, m²",
    "lu_<group>_frac": "lu_<group>_m2 / area_m2",
    "lu_k_m2": "area on 'K' (adjustable) land-use codes, m²",
    "lu_classes": "land-use codes hit (list)",
    "planting_<code>_m2": "area on farmland with planting attribute <code> (LS, FLS …), m²",
    "forest_<class>_m2": "area on forest of that class, m²",
    "approved_m2": "area covered by approvals dated no later than the after-date, m²",
    "approval_ids": "ids of the approvals dated no later than the after-date that the patch meets",
    "approval_late_ids": "ids of the approvals dated after the after-date (先建后批)",
    "facility_ids": "ids of the facility-agriculture filings that count as cover",
    "temporary_ids": "ids of the temporary-land approvals in force at the after-date",
    "approved_late_m2": "area covered only by approvals dated after the after-date (先建后批), m²",
    "facility_m2": "area covered by facility-agriculture filings that count as cover, m²",
    "facility_on_pf_m2": "livestock/aquaculture facility area on permanent farmland (no cover)",
    "temporary_m2": "area covered by temporary-land approvals in force at the after-date",
    "temporary_use_bad_m2": "area inside temporary land in force whose approved use differs",
    "temporary_expired_m2": "area covered only by temporary approvals expired at the after-date",
    "lu_farmland_pf_m2": "farmland (land-use group) on permanent farmland, m²",
    "general_farmland_m2": "farmland not on permanent farmland, m²",
    "farmland_or_pf_m2": "area on farmland or permanent farmland (union), m²",
    "planting_FLS_pf_m2": "non-grain (FLS) farmland on permanent farmland, m²",
    "built_m2": "area on land that is already construction land in the land-use layer, m²",
    "cut_m": "length of the line between the remainder and the rest of the patch, m",
    "cover_m2": "union of all legal cover, m²",
    "cover_frac": "cover_m2 / area_m2",
    "remainder_m2": "patch minus legal cover, slivers removed, m²",
    "remainder_frac": "remainder_m2 / area_m2",
    **{s.remainder: f"remainder {s.label_en}, m²" for s in BUILTIN.shares},
}


def fact_schema(roles: RoleSet | None = None) -> dict[str, str]:
    """Every fact column :func:`compute_facts` produces, with its type for the rule checker
    (``number``, ``text``, ``date``, ``bool`` or ``list``). It does not depend on the data, so a
    rule pack can be checked before anything is read; facts of roles that are not configured
    are null (and rules on them cannot fire). The facts of ``roles``' custom roles come after
    the built-in ones."""
    schema = {
        c: "text"
        for c in (
            "id",
            "township",
            "type",
            "class",
            "approval",
            "level",
            "note",
            "type_category",
            "type_name",
            "geom_problem",
        )
    }
    schema.update({c: "date" for c in ("before", "after", "issued")})
    schema.update(
        {"geom_ok": "bool", "area_m2": "number", "reported_area_m2": "number", "width_m": "number"}
    )
    for role in ZONE_ROLES:
        schema.update(
            {
                f"{role}_m2": "number",
                f"{role}_frac": "number",
                f"{role}_n": "number",
                f"{role}_ids": "list",
            }
        )
    schema.update({f"forest_{c}_m2": "number" for c in FOREST_CLASSES})
    for g in LANDUSE_GROUPS:
        schema.update({f"lu_{g}_m2": "number", f"lu_{g}_frac": "number"})
    schema.update({"lu_k_m2": "number", "lu_classes": "list"})
    schema.update({f"planting_{c}_m2": "number" for c in PLANTING_CODES})
    schema.update(
        {
            c: "number"
            for c in (
                "lu_farmland_pf_m2",
                "planting_FLS_pf_m2",
                "general_farmland_m2",
                "farmland_or_pf_m2",
                "approved_m2",
                "approved_late_m2",
                "facility_m2",
                "facility_on_pf_m2",
                "temporary_m2",
                "temporary_use_bad_m2",
                "temporary_expired_m2",
                "cover_m2",
                "cover_frac",
                "built_m2",
                "remainder_m2",
                "remainder_frac",
                "cut_m",
                *(s.remainder for s in BUILTIN.shares),
            )
        }
    )
    schema.update(
        {c: "list" for c in ("approval_ids", "approval_late_ids", "facility_ids", "temporary_ids")}
    )
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
    """What every column of :func:`fact_schema` means: :data:`FACT_DOCS` with its
    ``<role>``, ``<group>``, ``<code>`` and ``<class>`` entries written out for every zone
    role, land-use group, planting code and forest class, the docs of the registered patch
    fact providers, and those of ``roles``' custom roles."""
    out: dict[str, str] = {}
    fills = {
        "<role>": ZONE_ROLES,
        "<group>": LANDUSE_GROUPS,
        "<code>": PLANTING_CODES,
        "<class>": FOREST_CLASSES,
    }
    for key, doc in FACT_DOCS.items():
        holder = next((h for h in fills if h in key), None)
        if holder is None:
            out[key] = doc
            continue
        for value in fills[holder]:
            out[key.replace(holder, value)] = doc.replace(holder, value)
    from landcheck.checks import PATCH_FACT_PROVIDERS, load_builtin_checks

    load_builtin_checks()
    for provider in PATCH_FACT_PROVIDERS:
        out.update(provider.docs)
    if roles is not None:
        out.update(roles.custom_docs())
    return out
