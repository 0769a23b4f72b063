"""From fired rules to one verdict per patch, with reasons and split areas.

Policy
------
- The verdict of a patch is the worst of its fired rules:
  ``illegal`` > ``needs_review`` > ``legal`` > ``other``. A patch on which no rule
  fires is ``other`` with the reason ``engine.no_rule`` ("not a case"): the pack
  has explicit rules for everything that needs a decision (unknown types,
  missing dates and bad geometry are ``needs_review`` rules), so a patch no rule
  speaks about — e.g. rebuilding on land that is already construction land — is
  not a case, and the verdict table says so in words.
- Each rule may name the fact column holding the area its verdict applies to
  (``area = "remainder_m2"``); without one it applies to the whole patch.
- Split areas (all m²):

  * ``legal_m2`` — the legal cover (approvals, filings, temporary land), for
    every verdict but ``other``, never overlapping the illegal part;
  * ``illegal_m2`` — for an illegal patch, the largest area among its fired
    illegal rules (the parts those rules measure nest: remainder, later
    approval, farmland part …);
  * ``review_m2`` — for a needs-review patch, the largest area among its fired
    review rules that name one, else what is not legal;
  * ``other_m2`` — the rest (slivers, land that was already construction land).

  They always add up: ``legal_m2 + illegal_m2 + review_m2 + other_m2 == area_m2``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from landcheck.area import SAME_AREA_M2
from landcheck.children import MU_COLUMNS
from landcheck.official import OFFICIAL_DOCS
from landcheck.roles import BUILTIN, RoleSet
from landcheck.rules.pack import column_texts
from landcheck.unchecked import (
    NOT_CHECKED,
    PLACEHOLDER_EN,
    PLACEHOLDER_ZH,
    fact_roles,
    not_checked,
)

if TYPE_CHECKING:
    from landcheck.rules import Rule

__all__ = ["NO_RULE", "VERDICTS", "VERDICT_DOCS", "decide", "placeholders", "verdict_docs", "worst"]

#: Verdicts from worst to mildest.
VERDICTS = ("illegal", "needs_review", "legal", "other")
_RANK = {v: len(VERDICTS) - i for i, v in enumerate(VERDICTS)}  # illegal=4 … other=1

#: The columns :func:`decide` adds to a verdict table (besides the facts it copies).
VERDICT_DOCS: dict[str, str] = {
    "verdict": "illegal, needs_review, legal or other: the worst verdict of the fired rules",
    "verdict_zh": "the verdict in Chinese: 违法, 待核实, 合法 or 其他",
    "rules": "ids of the fired rules, in pack order (engine.no_rule where none fired)",
    "reasons_zh": "判定理由: the fired rules' reasons in Chinese, joined by ；",
    "reasons_en": "the fired rules' reasons in English, joined by ;",
    "legal_m2": "the legal cover (approvals, filings, temporary land), m²",
    "illegal_m2": "the largest area among the fired illegal rules, m²",
    "review_m2": "the area a needs-review verdict applies to, m²",
    "other_m2": "the rest of the patch (slivers, existing construction land), m²",
    "split": "the patch is split into its legal cover and the rest in the fragments layer",
    **{s.illegal: f"illegal area {s.label_en}, m²" for s in BUILTIN.shares},
    "township_name": "township name from the townships layer (XZQMC)",
    **OFFICIAL_DOCS,
    "split_status": "被拆分 (split into child plots in the fragments layer) or 未拆分",
    "doc_ids": "the covering documents (approvals, facility filings, temporary approvals in "
               "force), largest role first",
    "doc_shares_pct": "the share (%) of the patch each of doc_ids covers (each counts whole)",
    **{f"{c[:-3]}_mu": f"{c} in 亩 (÷ 2000/3)" for c in MU_COLUMNS},
    **{f"{r}_ids": f"ids of the {r} features the patch meets" for r in BUILTIN.zone_roles},
}



def verdict_docs(roles: RoleSet | None = None) -> dict[str, str]:
    """:data:`VERDICT_DOCS` and the illegal-area columns of ``roles``' custom shares."""
    out = dict(VERDICT_DOCS)
    for share in (roles or BUILTIN).shares:
        out.setdefault(share.illegal, f"illegal area {share.label_en}, m²")
    return out


NO_RULE = ("engine.no_rule", "other", "未触发任何规则，不作为案件", "no rule fired; not a case")


def worst(verdicts: Sequence[str]) -> str:
    """The worst verdict of a sequence (``other`` for an empty one).

    >>> worst(["legal", "needs_review", "other"])
    'needs_review'
    """
    return max(verdicts, key=_RANK.__getitem__, default="other")


def decide(
    facts: pd.DataFrame,
    fired: pd.DataFrame,
    rules: Sequence[Rule],
    *,
    default: tuple[str, str, str, str] = NO_RULE,
    run: dict | None = None,
    roles: RoleSet | None = None,
    absent: Mapping[str, tuple[str, ...]] | None = None,
    review: bool = False,
) -> pd.DataFrame:
    """One row per patch: verdict, fired rule ids, reasons (zh/en) and split areas.

    Parameters
    ----------
    facts : DataFrame
        The facts table (one row per patch, must have ``area_m2``).
    fired : DataFrame of bool
        One column per rule id, aligned with ``facts``.
    rules : sequence of landcheck.rules.Rule
        The rules, in pack order (reasons are listed in that order).
    default : (id, verdict, reason_zh, reason_en)
        What a row on which no rule fires gets (:data:`NO_RULE` for patches).
    run : dict, optional
        Run constants (``reference_date``, ``year``) for ``{run.*}`` placeholders in reasons.
    roles : RoleSet, optional
        The layer set's roles: one ``illegal_<share>_m2`` column per remainder share
        (:attr:`landcheck.roles.RoleSet.shares`; default the built-in roles).
    absent : mapping, optional
        Rule id → the roles it reads that the layer set lacks
        (:func:`landcheck.unchecked.absent_roles`): the rule's reasons say "（未核查）" for
        those facts (:mod:`landcheck.unchecked`).
    review : bool
        With ``absent``: a patch such a rule could have made worse is ``needs_review`` with
        the reason ``engine.not_checked``.
    """
    absent = {k: v for k, v in (absent or {}).items() if not k.startswith("@")}
    roles = roles or BUILTIN
    rank = np.zeros(len(facts), dtype=int)
    for r in rules:
        hit = fired[r.id].to_numpy(dtype=bool)
        rank = np.where(hit, np.maximum(rank, _RANK[r.verdict]), rank)
    unchecked = (np.zeros(len(facts), dtype=bool), [], [])
    if absent and review:
        unchecked = not_checked(facts, rules, absent, np.where(rank == 0, _RANK[default[1]], rank),
                                _RANK, run=run, roles=roles)
        rank = np.where(unchecked[0], np.maximum(rank, _RANK["needs_review"]), rank)
    none = rank == 0
    rank[none] = _RANK[default[1]]
    verdict = np.array(VERDICTS)[len(VERDICTS) - rank]
    out = pd.DataFrame(index=facts.index)
    out["verdict"] = verdict
    out["rules"], out["reasons_zh"], out["reasons_en"] = _reasons(
        facts, fired, rules, none, default, run or {}, absent, unchecked, roles
    )
    areas = _split(facts, fired, rules, verdict, roles.shares)
    return pd.concat([out, areas], axis=1)


def _reasons(facts, fired, rules, none, default, run, absent, unchecked, roles):
    """Fired rule ids (a list per row, pack order) and their reasons joined per row, then
    the "not checked" reason of the rows in ``unchecked`` (mask, zh, en).

    Each rule renders the texts of the rows it fired on at once; the texts are then ordered
    by row and rule in one sort. A row with one reason (most) takes it as it is; only rows
    with several are joined one by one.
    """
    n = len(facts)
    rows, order, ids, zh, en = [], [], [], [], []
    for k, r in enumerate(rules):
        hit = np.flatnonzero(fired[r.id].to_numpy(dtype=bool))
        if not len(hit):
            continue
        # only the facts this rule's reasons name, only for the rows it fired on
        names = [c for c in placeholders(r) if c in facts.columns]
        sub = facts[names].iloc[hit] if names else pd.DataFrame(index=range(len(hit)))
        rows.append(hit)
        order.append(np.full(len(hit), k))
        ids.append(np.full(len(hit), r.id, dtype=object))
        if r.id in absent:  # null facts of a missing layer read "not checked", not "?"
            texts_zh, texts_en = _unchecked_texts(sub, absent[r.id], roles)
        else:
            texts_zh = texts_en = {}  # each value formatted once for both languages
        zh.append(np.asarray(r.reasons(sub, run=run, lang="zh", texts=texts_zh), dtype=object))
        en.append(np.asarray(r.reasons(sub, run=run, lang="en", texts=texts_en), dtype=object))
    late = np.flatnonzero(unchecked[0])
    if len(late):
        rows.append(late)
        order.append(np.full(len(late), len(rules)))
        ids.append(np.full(len(late), NOT_CHECKED, dtype=object))
        zh.append(np.asarray([unchecked[1][i] for i in late.tolist()], dtype=object))
        en.append(np.asarray([unchecked[2][i] for i in late.tolist()], dtype=object))
    quiet = np.flatnonzero(none)
    rows.append(quiet)
    order.append(np.full(len(quiet), len(rules) + 1))
    for out, value in ((ids, default[0]), (zh, default[2]), (en, default[3])):
        out.append(np.full(len(quiet), value, dtype=object))
    row, k = np.concatenate(rows), np.concatenate(order)
    sort = np.lexsort((k, row))
    row = row[sort]
    ids, zh, en = (np.concatenate(x)[sort] for x in (ids, zh, en))
    out_ids = np.empty(n, dtype=object)
    out_zh = np.full(n, "", dtype=object)
    out_en = np.full(n, "", dtype=object)
    counts = np.bincount(row, minlength=n)
    one = counts[row] == 1
    out_zh[row[one]], out_en[row[one]] = zh[one], en[one]
    # (fromiter: a list of one-element lists given to numpy would be read as a 2-D array)
    out_ids[row[one]] = np.fromiter(([i] for i in ids[one].tolist()), dtype=object,
                                    count=int(one.sum()))
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else np.zeros(0, int)
    for s in starts[counts[row[starts]] > 1].tolist():
        i = row[s]
        e = s + counts[i]
        out_ids[i] = ids[s:e].tolist()
        out_zh[i] = "；".join(zh[s:e].tolist())
        out_en[i] = "; ".join(en[s:e].tolist())
    for i in np.flatnonzero(counts == 0):  # a row no rule and no default reached
        out_ids[i] = []
    return out_ids.tolist(), out_zh.tolist(), out_en.tolist()


def _unchecked_texts(sub: pd.DataFrame, missing, roles) -> tuple[dict, dict]:
    """Texts of ``sub``'s columns measured from a ``missing`` role: the value, or
    "（未核查）" / "(not checked)" where it is null."""
    zh, en = {}, {}
    for col in sub.columns:
        if not set(fact_roles(col, roles)) & set(missing):
            continue
        text = column_texts(sub[col])
        null = sub[col].isna().to_numpy() if sub[col].dtype != object else np.array(
            [v is None or (np.isscalar(v) and pd.isna(v)) for v in sub[col].tolist()], dtype=bool)
        zh[col], en[col] = text.copy(), text.copy()
        zh[col][null], en[col][null] = PLACEHOLDER_ZH, PLACEHOLDER_EN
    return zh, en


def _split(facts, fired, rules, verdict, shares) -> pd.DataFrame:
    """Legal / illegal / review / other areas that add up to the patch area."""
    area = facts["area_m2"].to_numpy(dtype=float)
    n = len(area)
    worst_area = {v: np.zeros(n) for v in ("illegal", "needs_review")}
    named = {v: np.zeros(n, dtype=bool) for v in ("illegal", "needs_review")}
    remainder_scoped = np.zeros(n, dtype=bool)
    for r in rules:
        if r.verdict not in worst_area:
            continue
        hit = fired[r.id].to_numpy(dtype=bool) & (verdict == r.verdict)
        part = np.nan_to_num(facts[r.area].to_numpy(dtype=float)) if r.area else area
        if r.area or r.verdict == "illegal":
            worst_area[r.verdict] = np.where(
                hit, np.maximum(worst_area[r.verdict], part), worst_area[r.verdict]
            )
            named[r.verdict] |= hit
        if r.area == "remainder_m2":
            remainder_scoped |= hit
    cover = (
        np.nan_to_num(facts["cover_m2"].to_numpy(dtype=float))
        if "cover_m2" in facts
        else np.zeros(n)
    )
    illegal = np.where(verdict == "illegal", np.minimum(worst_area["illegal"], area), 0.0)
    legal = np.where(verdict == "other", 0.0, np.minimum(cover, area - illegal))
    review_free = area - legal
    review = np.where(
        verdict == "needs_review",
        np.where(
            named["needs_review"], np.minimum(worst_area["needs_review"], review_free), review_free
        ),
        0.0,
    )
    out = pd.DataFrame(index=facts.index)
    out["legal_m2"] = legal
    out["illegal_m2"] = illegal
    out["review_m2"] = review
    out["other_m2"] = np.maximum(area - legal - illegal - review, 0.0)
    # split into fragments only where the legal part is exactly the cover: then the cover is
    # the legal fragment and the rest of the patch carries the verdict. Where a patch-wide rule
    # (e.g. photovoltaic on farmland) makes part of the cover illegal, there is no geometry for
    # that part in the facts, so the patch stays whole (its split areas are still reported).
    # (to SAME_AREA_M2: the legal area and the cover's may come from different outlines)
    out["split"] = (np.isin(verdict, ["illegal", "needs_review"]) & (legal > 0)
                    & np.isclose(legal, cover, rtol=0.0, atol=SAME_AREA_M2))
    for share in shares:
        rem_col, whole_col = share.remainder, share.whole
        rem = (
            np.nan_to_num(facts[rem_col].to_numpy(dtype=float)) if rem_col in facts else np.zeros(n)
        )
        whole = (
            np.nan_to_num(facts[whole_col].to_numpy(dtype=float))
            if whole_col in facts
            else np.zeros(n)
        )
        on = np.where(remainder_scoped, rem, whole)
        out[share.illegal] = np.minimum(on, illegal)
    return out


def placeholders(rule) -> list[str]:
    """Names used in a rule's reason templates (``{name}``)."""
    found = re.findall(r"\{([^{}]+)\}", rule.reason_zh + rule.reason_en)
    return list(dict.fromkeys(n for n in found if not n.startswith(("param.", "run."))))
