"""Check families beyond patch legality.

Two kinds of extension, both keeping geometry in the facts stage:

- **Patch fact providers** (:class:`PatchFacts`) add columns to the patch facts table
  (road widths against the previous period, green-belt excess beside corridors …). They
  are registered in :data:`PATCH_FACT_PROVIDERS` and run by
  :func:`landcheck.overlay.compute_facts` after the built-in facts.
- **Subject checks** (:class:`SubjectCheck`) judge other features — consolidation-project
  plots, temporary-land approvals and footprints, development plans — with their own
  facts table and the rules of the pack whose ``subject`` names them. They are registered
  in :data:`SUBJECTS` and run by :func:`landcheck.checks.run.check`.

Parameters that geometry needs (buffer widths per corridor class, restoration periods …)
come from the rule pack: a provider receives the merged parameters of its family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PATCH_FACT_PROVIDERS", "SUBJECTS", "PatchFacts", "SubjectCheck", "register_patch_facts",
           "register_subject"]


@dataclass(frozen=True)
class PatchFacts:
    """Extra patch facts.

    ``compute(work, patches, facts, layers, *, crs, params, area_method)`` gets the patch
    geometries (``None`` where a geometry cannot be judged), the canonical patch frame, the
    facts computed so far, the reference layers by role (already in ``crs``), the family's
    parameters and the run's official area method (every area it measures uses it:
    ``landcheck.geometry.pairs.areas(geoms, crs, area_method)``); it returns a DataFrame
    with exactly the columns of ``schema`` (same index as
    ``facts``). Roles it needs but that are absent → leave the columns null.
    """

    name: str
    family: str
    schema: Mapping[str, str]
    compute: Callable[..., Any]
    #: what each column of ``schema`` means (:func:`landcheck.facts.schema.fact_docs`)
    docs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubjectCheck:
    """Judging features of one role (``subject``) other than patches.

    ``compute(features, layers, *, crs, params, reference_date, area_method)`` returns
    ``(facts, parts)``: the facts DataFrame (one row per feature, same order, with ``id``
    and ``area_m2``, columns exactly ``schema``) and a dict of named per-row geometry
    arrays (e.g. ``{"outside": array}``) for the fragments layer. A check that groups
    features (plan parts into plans) returns one facts row per group and the group
    geometries as ``parts["geometry"]``; the verdict table then has one row per group.
    """

    subject: str
    families: tuple[str, ...]
    schema: Mapping[str, str]
    compute: Callable[..., Any]
    needs: tuple[str, ...] = field(default_factory=tuple)


PATCH_FACT_PROVIDERS: list[PatchFacts] = []
SUBJECTS: dict[str, SubjectCheck] = {}


def register_patch_facts(provider: PatchFacts) -> PatchFacts:
    if any(p.name == provider.name for p in PATCH_FACT_PROVIDERS):
        raise ValueError(f"patch fact provider {provider.name!r} registered twice")
    PATCH_FACT_PROVIDERS.append(provider)
    return provider


def register_subject(check: SubjectCheck) -> SubjectCheck:
    if check.subject in SUBJECTS:
        raise ValueError(f"subject {check.subject!r} registered twice")
    SUBJECTS[check.subject] = check
    return check


def load_builtin_checks() -> None:
    """Import the built-in check modules (they register themselves)."""
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name not in ("run",):
            importlib.import_module(f"{__name__}.{mod.name}")


def family_params(pack, family: str) -> dict[str, Any]:
    """Parameters of a family, merged over its rules (pack-level values reach every rule)."""
    out: dict[str, Any] = {}
    for rule in pack.rules:
        if rule.family == family:
            out.update(rule.params)
    return out
