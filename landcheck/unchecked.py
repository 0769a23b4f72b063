"""Rules that depend on a layer the layer set does not have: reported up front, never silent.

A fact of a role that is not configured is null (:func:`landcheck.facts.schema.fact_schema`),
and a condition that evaluates to null does not fire. Left at that, a missing layer is the
permissive default: without permanent farmland, "occupies permanent farmland" never fires
and the patch falls through to a milder verdict. This module makes the gap visible:

- :func:`absent_roles` names, per rule, the unconfigured roles its condition or reasons read
  (:func:`fact_roles` tells which role each fact column comes from);
- :func:`warn_absent` says so once, before any work, naming the layers, the rules and what to
  add to the config;
- with ``missing_layers="review"`` (``screen``, ``--missing-layers review``), the facts of
  the missing layer are null (:func:`null_absent`) and :func:`not_checked` finds the
  patches on which a rule reading them is undecided and could have fired: when its verdict
  is worse than the patch's, the patch is ``needs_review`` with the reason
  :data:`NOT_CHECKED` ("未核查：缺少…图层" / "not checked: no … layer") — never the milder
  verdict. The default ``"warn"`` keeps the verdicts and says, in the warning, how to ask
  for review;
- placeholders of reasons that read such a fact say "（未核查）" / "(not checked)" where the
  value is null (:data:`PLACEHOLDER_ZH`, :data:`PLACEHOLDER_EN`) instead of "?".

A rule whose condition is decided without the missing facts (Kleene logic: ``false and
null`` is false) is decided as usual. Cover roles (approvals, facility filings, temporary
land) are different: their absence means "no document covers the patch", which makes
verdicts stricter, not milder; :func:`warn_absent` names them all the same, so that a run
without an approvals layer is never mistaken for one with it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from landcheck.errors import MissingLayerWarning
from landcheck.roles import BUILTIN, RoleSet

__all__ = ["NOT_CHECKED", "PLACEHOLDER_EN", "PLACEHOLDER_ZH", "absent_roles", "fact_roles",
           "not_checked", "null_absent", "warn_absent"]

#: The rule id of the "not checked" reason of a patch (:func:`not_checked`).
NOT_CHECKED = "engine.not_checked"
#: What a reason placeholder says for a null fact of a role that is not configured.
PLACEHOLDER_ZH = "（未核查）"
PLACEHOLDER_EN = "(not checked)"

#: Fact columns (exact names, then prefixes) and the roles they are measured from, for the
#: facts that are not ``<role>_*`` of one role. Checked in order; the first match wins.
_EXACT: dict[str, tuple[str, ...]] = {
    "lu_farmland_pf_m2": ("landuse", "permanent_farmland"),
    "planting_FLS_pf_m2": ("landuse", "permanent_farmland"),
    "general_farmland_m2": ("landuse", "permanent_farmland"),
    "farmland_or_pf_m2": ("landuse", "permanent_farmland"),
    "facility_on_pf_m2": ("facility_ag", "permanent_farmland"),
    "remainder_farmland_m2": ("landuse",),
    "road_public_welfare_forest_m2": ("forest",),
}
#: Areas measured from a missing layer and one at hand, and the facts that bound them
#: (low, high; ``None``: 0 m² and the whole patch).
_BOUNDS: dict[str, tuple[str | None, str | None]] = {
    "lu_farmland_pf_m2": (None, "lu_farmland_m2"),
    "planting_FLS_pf_m2": (None, "planting_FLS_m2"),
    "general_farmland_m2": (None, "lu_farmland_m2"),
    "farmland_or_pf_m2": ("lu_farmland_m2", "area_m2"),
    "facility_on_pf_m2": (None, "facility_m2"),
    "remainder_pf_m2": (None, "remainder_m2"),
}
_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lu_", ("landuse",)),
    ("land3_", ("landuse",)),
    ("planting_", ("landuse",)),
    ("approved_", ("approvals",)),
    ("approval_", ("approvals",)),
    ("facility_", ("facility_ag",)),
    ("temporary_", ("temporary_land",)),
    ("belt_", ("corridors",)),
    ("road_before_", ("roads_before",)),
    ("road_forest_", ("forest",)),
)


def fact_roles(column: str, roles: RoleSet | None = None) -> tuple[str, ...]:
    """The roles a fact column is measured from (empty for facts of the patch itself).

    >>> fact_roles("permanent_farmland_m2")
    ('permanent_farmland',)
    >>> fact_roles("general_farmland_m2")
    ('landuse', 'permanent_farmland')
    >>> fact_roles("remainder_pf_m2")
    ('permanent_farmland',)
    >>> fact_roles("area_m2")
    ()
    """
    roles = roles or BUILTIN
    if column in _EXACT:
        return _EXACT[column]
    for share in roles.shares:
        if column == share.remainder:
            return (share.role,)
    for name in sorted(roles, key=len, reverse=True):  # forest_public_… is forest's
        if roles[name].kind in ("zone", "classed", "context") and column.startswith(name + "_"):
            return (name,)
    for prefix, of in _PREFIXES:
        if column.startswith(prefix):
            return of
    return ()


def _reads(rule) -> list[str]:
    """The facts a rule's condition and reason templates read."""
    from landcheck.verdicts import placeholders

    return list(dict.fromkeys([*rule.condition.columns, *placeholders(rule)]))


def absent_roles(rules: Sequence, configured: Iterable[str], roles: RoleSet | None = None
                 ) -> dict[str, tuple[str, ...]]:
    """Rule id → the unconfigured roles it reads (only rules that read one)."""
    roles = roles or BUILTIN
    have = set(configured) | {"patches"}
    out: dict[str, tuple[str, ...]] = {}
    for rule in rules:
        missing = {r for col in _reads(rule) for r in fact_roles(col, roles) if r not in have}
        if missing:
            out[rule.id] = tuple(r for r in roles if r in missing)
    return out


def _label(role: str, roles: RoleSet) -> str:
    return f"{roles[role].name_zh} ({role})" if role in roles else role


def warn_absent(absent: Mapping[str, tuple[str, ...]], pack_name: str,
                roles: RoleSet | None = None, *, review: bool = False) -> None:
    """One :class:`MissingLayerWarning` per missing layer that rules read, before any work."""
    roles = roles or BUILTIN
    by_role: dict[str, list[str]] = {}
    for rule_id, missing in absent.items():
        for role in missing:
            by_role.setdefault(role, []).append(rule_id)
    for role, ids in by_role.items():
        kind = roles[role].kind if role in roles else "zone"
        if kind == "cover":
            effect = ("without it no patch is covered by one, so these rules judge as if "
                      "there were none")
        elif review:
            effect = (f"their facts are not checked ({PLACEHOLDER_EN} in reasons), and a patch "
                      f"they could make worse is needs_review ({NOT_CHECKED})")
        else:
            effect = (f"their facts are not checked ({PLACEHOLDER_EN} in reasons) and they may "
                      "not fire where they would; --missing-layers review (missing_layers="
                      f"'review') makes the patches they could make worse needs_review")
        shown = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        warnings.warn(
            f"rule pack {pack_name}: the layer set has no {_label(role, roles)} layer, which "
            f"{len(ids)} rule(s) read ({shown}); {effect}. Add [layers.{role}] to the layer "
            "config to check them.",
            MissingLayerWarning, stacklevel=3)


def null_absent(facts: pd.DataFrame, absent: Mapping[str, tuple[str, ...]],
                roles: RoleSet | None = None) -> pd.DataFrame:
    """``facts`` with every fact measured from a missing zone or class role null.

    Facts measured from two roles (general farmland = farmland − permanent farmland) are
    computed as if the missing one were empty; without that layer they are unknown, not
    what is left. Facts of missing cover roles stay as measured (no document covers).
    """
    roles = roles or BUILTIN
    missing = {r for rs in absent.values() for r in rs
               if r not in roles or roles[r].kind != "cover"}
    if not missing:
        return facts
    cols = [c for c in facts.columns if set(fact_roles(c, roles)) & missing
            and facts[c].notna().any()]
    if not cols:
        return facts
    facts = facts.copy()
    for c in cols:
        if facts[c].dtype.kind in "fiu":
            facts[c] = np.nan
        else:
            facts[c] = pd.Series([None] * len(facts), index=facts.index,
                                 dtype=facts[c].dtype if facts[c].dtype != bool else object)
    return facts


def _filled(facts: pd.DataFrame, cols: Sequence[str], high: bool) -> pd.DataFrame:
    """``facts`` with the null ``cols`` filled low (0 m², none) or high (the whole patch)."""
    out = facts.copy()
    area = facts["area_m2"].to_numpy(dtype=float) if "area_m2" in facts else np.ones(len(facts))
    for c in cols:
        if facts[c].dtype.kind in "fiu":
            if c.endswith("_m2"):
                low_col, high_col = _BOUNDS.get(c, (None, None))
                bound = low_col if not high else high_col
                value = (np.nan_to_num(facts[bound].to_numpy(dtype=float))
                         if bound in facts else area if high else 0.0)
            else:  # fractions and counts
                value = 1.0 if high else 0.0
            out[c] = out[c].where(out[c].notna(), value)
        elif facts[c].dtype == object:  # lists of ids or classes
            fill = [PLACEHOLDER_EN] if high else []
            out[c] = [fill if v is None or v is np.nan else v for v in facts[c].tolist()]
    return out


def not_checked(facts: pd.DataFrame, rules: Sequence, absent: Mapping[str, tuple[str, ...]],
                rank: np.ndarray, ranks: Mapping[str, int], run=None,
                roles: RoleSet | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """Which patches a rule on a missing layer could have made worse, and why.

    A rule is *not checked* on a patch when its condition reads facts of a missing layer,
    evaluates to null there, and fires once those facts are filled in low or high — none
    (0 m²) or the whole patch, within the facts at hand that bound them (facility filings
    on permanent farmland: at most the filings' area) — so the null comes from the missing
    layer and the rule could have fired.
    ``rank`` is each patch's verdict rank from the fired rules (``ranks``: verdict → rank);
    only rules of a worse verdict count. Returns a mask of those patches and their "not
    checked" reasons in Chinese and English (empty strings elsewhere).
    """
    roles = roles or BUILTIN
    n = len(facts)
    hit = np.zeros(n, dtype=bool)
    which: list[set[str]] = [set() for _ in range(n)]
    for rule in rules:
        missing = {r for r in absent.get(rule.id, ()) if r not in roles or roles[r].kind != "cover"}
        if not missing or ranks[rule.verdict] <= ranks["legal"]:
            continue
        cols = [c for c in rule.condition.columns if set(fact_roles(c, roles)) & missing]
        if not cols:
            continue
        values = rule.condition.evaluate(facts, params=rule.params, run=run)
        rows = np.flatnonzero(values.isna().to_numpy() & (rank < ranks[rule.verdict]))
        if not len(rows):
            continue
        sub = facts.iloc[rows]
        could = np.zeros(len(rows), dtype=bool)
        for high in (False, True):
            could |= rule.condition.fires(_filled(sub, cols, high), params=rule.params,
                                          run=run).to_numpy(dtype=bool)
        rows = rows[could]
        hit[rows] = True
        for i in rows.tolist():
            which[i].update(r for r in missing if any(r in fact_roles(c, roles) for c in cols))
    zh = [""] * n
    en = [""] * n
    for i in np.flatnonzero(hit).tolist():
        names = [r for r in roles if r in which[i]]
        zh[i] = "未核查：缺少" + "、".join(
            roles[r].name_zh if r in roles else r for r in names) + "图层，相关规则无法判定"
        en[i] = "not checked: no " + ", ".join(names) + " layer; the rules on it cannot be decided"
    return hit, zh, en
