"""Official categories (核实认定意见): the class and sub-type a bureau files for each patch and
each child plot, and the build period (新增 / 存量), from the fired rules and the facts.

The mapping is data of the rule pack (``[official]``, :class:`OfficialScheme`): provinces
name and group the classes differently (DOMAIN §8). How a patch gets its class:

1. the **deciding rule** is the first rule in pack order that fired, gives the patch's
   verdict and names an ``official_class``; its class is the patch's class. Without one,
   the class is the scheme's class of the verdict (``verdicts``);
2. the sub-type is the deciding rule's ``official_subclass``; where that is ``"cover"``,
   the sub-type of the covering document with the largest share of the patch (``cover``:
   per covering role, and per role and kind such as ``approval.supply``); else the first
   ``[[official.subclasses]]`` entry of that class whose ``when`` fires; else
   ``unclassified`` (未细分), which a reviewer completes;
3. ``build_period`` is 新增 when the patch's ``build_date`` fact (``after``: the date the
   change is first seen) is on or after ``new_since``, 存量 when before, 不明 when missing.

A child plot of legal cover takes the class and sub-type of its document (``cover`` and
``cover_classes``); the rest of a split patch takes the patch's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_SCHEME", "OFFICIAL_DOCS", "OfficialScheme", "Subclass", "classify",
           "cover_category"]

#: Sub-type code of a class the scheme does not divide, or whose sub-type no entry decides.
UNCLASSIFIED = ("unclassified", "未细分")
#: The build period labels: new (on or after ``new_since``), existing, unknown date.
PERIODS = {"new": "新增", "existing": "存量", "unknown": "不明"}

#: The columns :func:`classify` adds to the verdict table (and the child plots carry).
OFFICIAL_DOCS: dict[str, str] = {
    "official_class": "核实认定意见: the official class in Chinese (合法, 非农违法 … per the pack)",
    "official_class_code": "the official class's English code (legal, illegal_nonag …)",
    "official_subclass": "the class's sub-type in Chinese (批文, 工矿商服（光伏） …; 未细分 where "
                         "no entry of the pack decides it)",
    "official_subclass_code": "the sub-type's English code",
    "build_period": "新增 (built on or after the pack's new_since), 存量 (before) or 不明 "
                    "(no date)",
    "official_rule": "the rule that decided the class (empty where the verdict's default applies)",
    "outflow_m2": "farmland outflow to balance (进出平衡): the largest area of the pack's outflow "
                  "rules that fired, where no exempting rule fired, m²",
    "outflow_exempt_m2": "farmland outflow exempt from the balance (生态退耕, 灾毁 …), m²",
}


@dataclass(frozen=True)
class Subclass:
    """One ``[[official.subclasses]]`` entry: the sub-type of ``cls`` where ``condition``
    fires (a compiled :mod:`landcheck.rules.expr` condition over the facts)."""

    cls: str
    code: str
    condition: Any


@dataclass(frozen=True)
class OfficialScheme:
    """The pack's official categories (``[official]``). Codes are English; ``classes`` and
    ``subclass_names`` give their Chinese names."""

    classes: Mapping[str, str]
    verdicts: Mapping[str, str]
    subclass_names: Mapping[str, str] = field(default_factory=dict)
    subclasses: tuple[Subclass, ...] = ()
    #: covering role, or role.kind → sub-type code of a child plot that document covers
    cover: Mapping[str, str] = field(default_factory=dict)
    #: covering role → class code of the child plots it covers (default: the legal class)
    cover_classes: Mapping[str, str] = field(default_factory=dict)
    new_since: date | None = None
    build_date: str = "after"
    #: rules whose area is farmland outflow to balance (进出平衡), and rules that exempt it
    outflow_rules: tuple[str, ...] = ()
    exempt_rules: tuple[str, ...] = ()

    def name(self, code: str) -> str:
        return self.classes.get(code, code)

    def subclass_name(self, code: str) -> str:
        return UNCLASSIFIED[1] if code == UNCLASSIFIED[0] else self.subclass_names.get(code, code)

    def to_dict(self) -> dict[str, Any]:
        return {"classes": dict(self.classes), "verdicts": dict(self.verdicts),
                "subclass_names": dict(self.subclass_names), "cover": dict(self.cover),
                "cover_classes": dict(self.cover_classes),
                "subclasses": [{"class": s.cls, "subclass": s.code, "when": s.condition.text}
                               for s in self.subclasses],
                "new_since": self.new_since.isoformat() if self.new_since else None,
                "build_date": self.build_date,
                "balance": {"outflow": list(self.outflow_rules),
                            "exempt": list(self.exempt_rules)}}


#: The scheme of a pack without ``[official]``: the ministry's three top classes and 存疑
#: for what needs review.
DEFAULT_SCHEME = OfficialScheme(
    classes=MappingProxyType({"illegal": "违法", "doubtful": "存疑", "legal": "合法",
                              "other": "其他"}),
    verdicts=MappingProxyType({"illegal": "illegal", "needs_review": "doubtful",
                               "legal": "legal", "other": "other"}),
)


def cover_category(scheme: OfficialScheme, source: str, kind) -> tuple[str, str]:
    """(class code, sub-type code) of a child plot covered by a ``source`` document of
    ``kind`` (e.g. ``approval``, ``supply``)."""
    cls = scheme.cover_classes.get(source, scheme.verdicts.get("legal", "legal"))
    if isinstance(kind, str) and f"{source}.{kind}" in scheme.cover:
        return cls, scheme.cover[f"{source}.{kind}"]
    return cls, scheme.cover.get(source, UNCLASSIFIED[0])


def classify(facts: pd.DataFrame, fired: pd.DataFrame, rules, verdict: np.ndarray,
             scheme: OfficialScheme, *, cover_kind: pd.DataFrame | None = None,
             run: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The official columns (:data:`OFFICIAL_DOCS`) of each patch.

    ``cover_kind``: per patch row (index), the ``source`` and ``kind`` of the covering
    document with the largest share (for deciding rules whose sub-type is ``"cover"``).
    """
    n = len(facts)
    verdict = np.asarray(verdict, dtype=object)
    cls = pd.Series(verdict).map(dict(scheme.verdicts)).fillna("").to_numpy(dtype=object)
    sub = np.full(n, "", dtype=object)
    deciding = np.full(n, "", dtype=object)
    for r in reversed(rules):  # the first rule in pack order wins
        if not getattr(r, "official_class", None):
            continue
        hit = fired[r.id].to_numpy(dtype=bool) & (verdict == r.verdict)
        cls[hit], deciding[hit] = r.official_class, r.id
        sub[hit] = r.official_subclass or ""
    from_cover = sub == "cover"
    sub[from_cover] = ""
    if from_cover.any() and cover_kind is not None and len(cover_kind):
        rows = np.flatnonzero(from_cover)
        known = cover_kind.reindex(rows)
        keys = [(s, k if isinstance(k, str) else None)  # (a missing kind as None, not NaN)
                for s, k in zip(known["source"].tolist(), known["kind"].tolist(), strict=True)]
        found = {k: cover_category(scheme, *k)[1] for k in set(keys) if isinstance(k[0], str)}
        sub[rows] = [found.get(k, "") for k in keys]
    open_ = sub == ""
    for s in reversed(scheme.subclasses):  # the first entry in pack order wins
        hit = open_ & (cls == s.cls) & s.condition.fires(facts, params={}, run=run).to_numpy(
            dtype=bool, na_value=False)
        sub[hit] = s.code
    sub[sub == ""] = UNCLASSIFIED[0]
    out = pd.DataFrame(index=facts.index)
    out["official_class"] = [scheme.name(c) for c in cls.tolist()]
    out["official_class_code"] = cls
    out["official_subclass"] = [scheme.subclass_name(c) for c in sub.tolist()]
    out["official_subclass_code"] = sub
    out["build_period"] = build_period(facts, scheme)
    out["official_rule"] = deciding
    out["outflow_m2"], out["outflow_exempt_m2"] = balance_areas(facts, fired, rules, scheme)
    return out


def balance_areas(facts, fired, rules, scheme) -> tuple[np.ndarray, np.ndarray]:
    """(outflow, exempt outflow) per patch, m²: the largest ``area`` among the fired
    outflow rules, counted as exempt where an exempting rule fired."""
    n = len(facts)
    flow = np.zeros(n)
    for r in rules:
        if r.id in scheme.outflow_rules and r.area:
            hit = fired[r.id].to_numpy(dtype=bool)
            part = np.nan_to_num(facts[r.area].to_numpy(dtype=float))
            flow = np.where(hit, np.maximum(flow, part), flow)
    exempt = np.zeros(n, dtype=bool)
    for rid in scheme.exempt_rules:
        if rid in fired.columns:
            exempt |= fired[rid].to_numpy(dtype=bool)
    return np.where(exempt, 0.0, flow), np.where(exempt, flow, 0.0)


def build_period(facts: pd.DataFrame, scheme: OfficialScheme) -> np.ndarray:
    """新增 / 存量 / 不明 per patch (see the module docstring)."""
    n = len(facts)
    if scheme.new_since is None or scheme.build_date not in facts.columns:
        return np.full(n, PERIODS["unknown"], dtype=object)
    day = pd.to_datetime(facts[scheme.build_date], errors="coerce").to_numpy()
    since = np.datetime64(scheme.new_since)
    return np.where(pd.isna(day), PERIODS["unknown"],
                    np.where(day >= since, PERIODS["new"], PERIODS["existing"])).astype(object)
