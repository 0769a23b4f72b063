"""The one declaration of layer roles, and the role sets a screening run uses.

Every role a layer set may name is declared once here: its kind, canonical fields, national
default field names, whether the per-patch union of its features is kept as geometry, whether
its share of the unapproved remainder is reported, its Chinese and English labels and its
controlled vocabularies. The lists the pipeline needs are derived from a :class:`RoleSet`:

- the zone facts (``<role>_m2/_frac/_n/_ids``) and their order (:attr:`RoleSet.zone_roles`);
- the zones whose union is kept (:attr:`RoleSet.union_roles`);
- the remainder shares ``remainder_<key>_m2`` and the verdict columns ``illegal_<key>_m2``
  with their ledger headers (:attr:`RoleSet.shares`);
- the facts copied into the verdict table (:attr:`RoleSet.verdict_facts`);
- the site-query rows (:attr:`RoleSet.site_roles`);
- the canonical fields of every role (:data:`landcheck.layers.ROLES`).

A bureau adds its own zone layers (flood zones, nature reserves, heritage zones, mining
rights) in the layer config, without code::

    [layers.flood_zone]
    kind = "zone"
    label_zh = "洪涝风险区"
    label_en = "flood zone"
    remainder_share = true
    path = "flood.shp"

which yields the facts ``flood_zone_m2/_frac/_n/_ids`` and ``remainder_flood_zone_m2``, the
verdict column ``illegal_flood_zone_m2`` with its ledger header ``违法占洪涝风险区/亩``, and a
site-query row. Custom roles come after the built-in ones in every table, so a run without
them produces exactly the built-in columns in their built-in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = [
    "BUILTIN",
    "CUSTOM_KINDS",
    "FOREST_CLASSES",
    "KINDS",
    "PLANTING_CODES",
    "Role",
    "RoleSet",
    "Share",
    "custom_role",
]

#: Role kinds. ``patch``: the change patches; ``zone``: a plan or protection zone measured by
#: area; ``classed``: a zone measured per value of its ``class`` field (land use, forest);
#: ``cover``: a layer that can make part of a patch legal (approvals, filings, temporary
#: land); ``context``: a layer a check reads for its own facts (buildings, corridors,
#: townships); ``subject``: a layer screened in its own right (projects, plans).
KINDS = ("patch", "zone", "classed", "cover", "context", "subject")

#: Kinds a layer config may declare for a role of its own.
CUSTOM_KINDS = ("zone",)

#: Planting-attribute codes of the land-use survey (种植属性, ZZSXDM): grain (LS), non-grain
#: (FLS), grain–non-grain rotation (LYFL), fallow (LLJZ), fallow with crops (XG), abandoned (WG).
PLANTING_CODES = ("LS", "FLS", "LYFL", "LLJZ", "XG", "WG")

#: Canonical forest classes (Chinese names and variants: ``landcheck/data/value_names.csv``);
#: the forest facts count any other value as other.
FOREST_CLASSES = ("public_welfare_national", "public_welfare_provincial", "commercial", "other")


@dataclass(frozen=True)
class Role:
    """One layer role.

    ``required``/``optional`` are its canonical fields; ``defaults`` the national-standard
    field names used when the config maps no field and the file has one of that name
    (``class_`` stands for ``class``). ``measured``: the zone facts ``<name>_m2/_frac/_n/_ids``
    are computed. ``union``: the per-patch union of its features is kept as geometry for later
    steps. ``share``: the key of its remainder share (``remainder_<share>_m2``) and illegal area
    (``illegal_<share>_m2``), measured against ``share_of`` (the fact of the whole patch).
    ``reported``: facts the verdict table copies. ``site``: a site-query row; ``site_by_class``:
    one row per value of its ``class`` field. ``lines``: its features may be lines (centre
    lines with a land width) as well as polygons; every other role holds polygons only.
    """

    name: str
    kind: str
    label_zh: str
    label_en: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    defaults: Mapping[str, str] = field(default_factory=dict)
    measured: bool = False
    union: bool = False
    share: str | None = None
    share_of: str | None = None
    share_zh: str | None = None
    share_en: str | None = None
    reported: tuple[str, ...] = ()
    site: bool = False
    site_by_class: bool = False
    vocabularies: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    builtin: bool = True
    lines: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def name_zh(self) -> str:
        """The Chinese label (the name :class:`landcheck.layers.RoleSpec` gives it)."""
        return self.label_zh


@dataclass(frozen=True)
class Share:
    """A remainder share: ``remainder_<key>_m2`` (fact) and ``illegal_<key>_m2`` (verdict).

    ``whole`` is the fact of the whole patch on the same zone (taken where the illegal area is
    the whole patch's); ``label_zh`` and ``label_en`` word the ledger header
    ``违法占<label_zh>/亩 (illegal <label_en>, mu)``.
    """

    key: str
    role: str
    whole: str
    label_zh: str
    label_en: str

    @property
    def remainder(self) -> str:
        return f"remainder_{self.key}_m2"

    @property
    def illegal(self) -> str:
        return f"illegal_{self.key}_m2"

    @property
    def header(self) -> str:
        return f"违法占{self.label_zh}/亩 (illegal {self.label_en}, mu)"


def _r(name, kind, zh, en, required=(), optional=(), **kw) -> Role:
    defaults = kw.pop("defaults", {})
    return Role(name, kind, zh, en, tuple(required), tuple(optional), dict(defaults), **kw)


_PATCH_FIELDS = ("township", "type", "before", "after", "area", "class", "approval", "level",
                 "issued", "note")

#: The built-in roles in declaration order: the order of zone facts, verdict columns,
#: remainder shares and site-query rows.
_BUILTIN_ROLES = (
    _r("patches", "patch", "卫片图斑", "change patches", ["id"], _PATCH_FIELDS,
       defaults=dict(id="JCBH", township="XZQDM", type="TBLX", before="QSX", after="HSX",
                     area="JCMJ", class_="DLBM", approval="PZWH"),
       vocabularies={"type": "patch_types: the [patches] type_dictionary, default official "
                             "(landcheck/data/patch_types*.csv)",
                     "class": "landuse_classes of the layer's scheme, 三调 or 用地用海 "
                              "(landcheck/data/landuse_classes*.csv)",
                     "level": ("ministry", "province", "city", "county")}),
    _r("permanent_farmland", "zone", "永久基本农田", "permanent farmland", [], ["id"],
       defaults=dict(id="BSM"), measured=True, union=True, share="pf",
       share_of="permanent_farmland_m2", share_zh="永久基本农田",
       share_en="on permanent farmland", reported=("permanent_farmland_m2",), site=True),
    _r("landuse", "classed", "地类图斑", "land-use survey", ["class"],
       ["id", "name", "planting", "township"],
       defaults=dict(id="BSM", class_="DLBM", name="DLMC", planting="ZZSXDM"),
       share="farmland", share_of="lu_farmland_m2", share_zh="耕地", share_en="on farmland",
       reported=("lu_farmland_m2",), site=True,
       vocabularies={"class": "landuse_classes of the layer's scheme, 三调 or 用地用海 "
                              "(landcheck/data/landuse_classes*.csv)",
                     "planting": PLANTING_CODES}),
    _r("eco_redline", "zone", "生态保护红线", "ecological red line", [], ["id", "name"],
       measured=True, union=True, share="redline", share_of="eco_redline_m2",
       share_zh="生态保护红线", share_en="in the ecological red line",
       reported=("eco_redline_m2",), site=True),
    _r("town_boundary", "zone", "城镇开发边界", "town development boundary", [], ["id"],
       measured=True, reported=("town_boundary_m2",), site=True),
    _r("village_zone", "zone", "村庄建设控制区", "village construction zone", [], ["id"],
       measured=True, reported=("village_zone_m2",), site=True),
    _r("general_ag_zone", "zone", "一般农地区", "general agricultural zone", [], ["id"],
       measured=True, site=True),
    _r("forest", "classed", "林地", "forest", ["class"], ["id"], measured=True, site=True,
       site_by_class=True, vocabularies={"class": FOREST_CLASSES}),
    _r("geohazard", "zone", "地质灾害易发区", "geological-hazard zone", [], ["id", "class"],
       measured=True, site=True, site_by_class=True),
    _r("minerals", "zone", "压覆矿产", "buried mineral resources", [], ["id", "class"],
       measured=True, site=True, site_by_class=True),
    _r("buildings", "context", "建筑物", "buildings", [], ["id", "kind"], measured=True),
    _r("approvals", "cover", "农转用/征收/供地批准", "approvals", ["id", "date"],
       ["kind", "name"], defaults=dict(id="PZWH")),
    _r("facility_ag", "cover", "设施农用地备案", "facility-agriculture filings", ["id"],
       ["kind", "date"], vocabularies={"kind": ("crop", "livestock", "aquaculture")}),
    _r("temporary_land", "cover", "临时用地", "temporary land", ["id", "start", "end"],
       ["use", "linear"], vocabularies={"use": "temporary_uses (landcheck/data)"}),
    _r("corridors", "context", "道路/铁路/河渠", "roads, railways and canals", ["class"],
       ["id", "width", "planned_width"], lines=True),
    _r("projects", "subject", "土地整治项目", "land-consolidation projects", ["id", "kind"],
       ["approved", "implemented", "accepted", "status", "paddy", "crop"]),
    # one feature per land-use part of a plan; `plan` groups the parts (not unique);
    # `public_share`: the plan's declared public-interest share in percent (checks/plans.py)
    _r("development_plans", "subject", "成片开发方案", "development plans", ["plan"],
       ["id", "kind", "use", "name", "public_share"]),
    _r("townships", "context", "乡镇", "townships", ["id"], ["name"],
       defaults=dict(id="XZQDM", name="XZQMC")),
    _r("roads_before", "context", "前期农村道路", "earlier rural roads", [], ["id", "width"]),
    _r("temporary_footprints", "subject", "临时用地实地范围", "temporary-land footprints", [],
       ["id"]),
)

#: Fields a custom zone role may map: an id, a name and a class (site rows per class).
_CUSTOM_FIELDS = ("id", "name", "class")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class RoleSet(Mapping):
    """The built-in roles, then any custom roles of a layer set, by name, in order."""

    def __init__(self, custom: tuple[Role, ...] = ()):
        self._roles = {r.name: r for r in _BUILTIN_ROLES}
        for role in custom:
            if role.name in self._roles:
                raise ValueError(f"role {role.name!r} is already declared")
            self._roles[role.name] = role
        self.custom = tuple(custom)

    def __getitem__(self, name: str) -> Role:
        return self._roles[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def __eq__(self, other) -> bool:
        return isinstance(other, RoleSet) and self.custom == other.custom

    def __hash__(self) -> int:
        return hash(self.custom)

    def __repr__(self) -> str:
        extra = f", custom: {', '.join(r.name for r in self.custom)}" if self.custom else ""
        return f"<RoleSet {len(self._roles)} roles{extra}>"

    def __reduce__(self):
        return (RoleSet, (self.custom,))

    def _where(self, test) -> tuple[str, ...]:
        return tuple(n for n, r in self._roles.items() if test(r))

    @property
    def zone_roles(self) -> tuple[str, ...]:
        """Roles measured as zones: ``<role>_m2``, ``_frac``, ``_n``, ``_ids``."""
        return self._where(lambda r: r.measured)

    @property
    def union_roles(self) -> tuple[str, ...]:
        """Zone roles whose per-patch union is kept as geometry after the zone facts."""
        return self._where(lambda r: r.measured and r.union)

    @property
    def shares(self) -> tuple[Share, ...]:
        return tuple(Share(r.share, r.name, r.share_of, r.share_zh, r.share_en)
                     for r in self._roles.values() if r.share)

    @property
    def verdict_facts(self) -> tuple[str, ...]:
        """Role facts the verdict table copies, in role order."""
        return tuple(f for r in self._roles.values() for f in r.reported)

    @property
    def site_roles(self) -> tuple[Role, ...]:
        return tuple(r for r in self._roles.values() if r.site)

    def custom_schema(self) -> dict[str, str]:
        """The fact columns of the custom roles (after the built-in facts), with their types."""
        out: dict[str, str] = {}
        for r in self.custom:
            out.update({f"{r.name}_m2": "number", f"{r.name}_frac": "number",
                        f"{r.name}_n": "number", f"{r.name}_ids": "list"})
        for r in self.custom:
            if r.share:
                out[f"remainder_{r.share}_m2"] = "number"
        return out

    def custom_docs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.custom:
            out.update({
                f"{r.name}_m2": f"area of the union of {r.label_en} ({r.label_zh}) inside the "
                                "patch, m²",
                f"{r.name}_frac": f"{r.name}_m2 / area_m2",
                f"{r.name}_n": f"number of {r.label_en} features hit",
                f"{r.name}_ids": f"ids of the {r.label_en} features hit (list)",
            })
        for r in self.custom:
            if r.share:
                out[f"remainder_{r.share}_m2"] = f"remainder {r.share_en} ({r.label_zh}), m²"
        return out


#: The built-in roles alone.
BUILTIN = RoleSet()


def custom_role(name: str, table: Mapping, where: str, problems: list[str]) -> Role | None:
    """A custom role from its ``[layers.<name>]`` table (``kind``, ``label_zh``, ``label_en``,
    ``remainder_share``); problems are appended, naming the key."""
    n_before = len(problems)
    kind = table.get("kind")
    if name in BUILTIN:
        problems.append(f"{where}.kind: {name!r} is a built-in role ({BUILTIN[name].label_zh}); "
                        "remove `kind` to configure it, or give your layer another name")
    if kind not in CUSTOM_KINDS:
        known = ", ".join(repr(k) for k in CUSTOM_KINDS)
        problems.append(f"{where}.kind: unknown kind {kind!r}; a layer config can declare "
                        f"roles of kind {known} (covers, checks and subjects need code)")
    if not _NAME.fullmatch(name):
        problems.append(f"{where}: a custom role name must be lower-case letters, digits and _ "
                        f"(starting with a letter, at most 40), got {name!r}; it names fact "
                        "columns")
    labels = {}
    for key, default, example in (("label_zh", None, "洪涝风险区"),
                                  ("label_en", name.replace("_", " "), "flood zone")):
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            problems.append(f'{where}.{key}: must be text naming the layer (e.g. "{example}")')
        labels[key] = value
    share = table.get("remainder_share", False)
    if not isinstance(share, bool):
        problems.append(f"{where}.remainder_share: must be true or false, got {share!r}")
    if len(problems) > n_before:
        return None
    clash = _clashes(name, share)
    if clash:
        problems.append(f"{where}: role {name!r} would make the columns {', '.join(clash)}, "
                        "which are built-in facts or verdict columns; choose another name")
        return None
    zh, en = labels["label_zh"].strip(), labels["label_en"].strip()
    return Role(name, kind, zh, en, (), _CUSTOM_FIELDS, {}, measured=True, union=share,
                share=name if share else None, share_of=f"{name}_m2" if share else None,
                share_zh=zh if share else None, share_en=f"in the {en}" if share else None,
                reported=(f"{name}_m2",), site=True,
                site_by_class="class" in (table.get("fields") or {}), builtin=False)


def _clashes(name: str, share: bool) -> list[str]:
    from landcheck.facts.schema import fact_schema
    from landcheck.verdicts import VERDICT_DOCS

    made = [f"{name}_{s}" for s in ("m2", "frac", "n", "ids")]
    if share:
        made += [f"remainder_{name}_m2", f"illegal_{name}_m2"]
    taken = set(fact_schema()) | set(VERDICT_DOCS) | {"id", "part", "verdict", "geometry"}
    return [c for c in made if c in taken]
