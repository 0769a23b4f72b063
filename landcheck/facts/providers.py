"""Facts from the patch fact providers (:data:`landcheck.checks.PATCH_FACT_PROVIDERS`)."""

from __future__ import annotations

import pandas as pd

__all__ = ["provided_facts"]


def provided_facts(work, patches, facts, layers, crs, params, parts, area_method) -> pd.DataFrame:
    from landcheck.checks import PATCH_FACT_PROVIDERS, load_builtin_checks

    load_builtin_checks()
    for provider in PATCH_FACT_PROVIDERS:
        extra = provider.compute(
            work, patches, facts, layers, crs=crs, params=params.get(provider.family, {}),
            area_method=area_method,
        )
        if isinstance(extra, tuple):
            extra, more = extra
            parts.update(more)
        unexpected = set(extra.columns) - set(provider.schema)
        if unexpected:
            raise RuntimeError(
                f"patch fact provider {provider.name} returned undeclared "
                f"columns {sorted(unexpected)}"
            )
        facts = facts.join(extra[[c for c in extra.columns if c not in facts.columns]])
    return facts
