"""``screen``: patches + layer set + rule pack → one explained verdict per patch.

The whole chain in one call — the CLI, notebooks and the API use this function::

    result = landcheck.screen("patches.gpkg", "county.toml", rules="city2023")
    result.verdicts        # GeoDataFrame, one row per patch
    result.fragments       # the split parts, each with its own verdict
    result.to_gpkg("out.gpkg")

Steps: load and check the rule pack (before any data is read) → read the layers →
choose one working CRS and transform into it → overlay facts → evaluate rules →
decide verdicts and split areas → assemble tables with provenance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from landcheck.chain import (  # noqa: F401  (VERDICT_FACTS, DEFAULT_TOLERANCE_M: public here too)
    DEFAULT_TOLERANCE_M,
    VERDICT_FACTS,
    absent_layers,
    area_method_of,
    area_provenance,
    as_date,
    as_layerset,
    check_engine,
    decide_working_crs,
    family_params,
    judge,
    provenance,
    read_inputs,
    roles_of,
    run_facts,
    to_working_all,
    tolerance_of,
)
from landcheck.collector import cyclic_gc_paused
from landcheck.dates import later_than, warn_later
from landcheck.facts import fact_schema
from landcheck.roles import BUILTIN
from landcheck.unchecked import null_absent

__all__ = ["ScreenResult", "load_rules", "screen"]

log = logging.getLogger("landcheck.screen")



def load_rules(
    rules="city2023",
    *,
    overrides: Mapping[str, Any] | None = None,
    families=None,
    roles=None,
):
    """Load and check a rule pack (built-in name or TOML path) against the fact schema.

    ``roles``: a :class:`~landcheck.roles.RoleSet` (e.g. :attr:`LayerSet.role_set`) whose
    custom roles' facts the pack may use; default the built-in roles.

    Examples
    --------
    >>> from landcheck import load_rules
    >>> pack = load_rules("city2023", overrides={"legality.sliver_m2": 5})
    >>> pack.name, pack.version
    ('city2023', '1.2.0')
    >>> pack.params["legality.approved"]["sliver_m2"]
    5
    """
    from landcheck.checks import SUBJECTS, load_builtin_checks
    from landcheck.rules import RulePack, load_pack

    if isinstance(rules, RulePack):
        if overrides:
            raise TypeError("overrides apply when loading a pack; load it again with overrides")
        pack = rules
    else:
        load_builtin_checks()
        schemas = {"patches": fact_schema(roles),
                   **{s: dict(c.schema) for s, c in SUBJECTS.items()}}
        pack = load_pack(rules, schema=schemas, overrides=overrides)
    return pack.select(families) if families else pack


def screen(
    patches,
    layers,
    rules="city2023",
    *,
    overrides: Mapping[str, Any] | None = None,
    families=None,
    working_crs=None,
    tolerance_m: float | None = None,
    area_method=None,
    reference_date=None,
    threads: int | None = None,
    chunk_size: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    shared_dir=None,
    partition: str = "tiles",
    progress: Callable[[str], None] | None = None,
    missing_layers: str = "warn",
) -> ScreenResult:
    """Screen change patches against reference layers with a rule pack.

    Parameters
    ----------
    patches : path, LayerSpec, GeoDataFrame or None
        The patch layer. A path is read with the layer set's ``[patches]`` options and
        field mapping (a spec from :meth:`LayerSet.patch_spec` also names the layer);
        ``None`` takes the patch file named in the layer set; a GeoDataFrame must already
        have canonical columns (``id``, ``type``, ``after`` …).
    layers : LayerSet, path to a TOML layer config, or dict of role → GeoDataFrame
    rules : str, path or RulePack
        Built-in pack name (``"city2023"``) or a TOML pack file.
    overrides : mapping, optional
        Parameter overrides, ``{"legality.sliver_m2": 5}``.
    families : str or list, optional
        Only these rule families.
    working_crs : optional
        The projected CRS to work in (default: the layer set's ``crs``, else chosen from
        the data; see :func:`landcheck.crs.choose_working_crs`).
    tolerance_m : float, optional
        Positional tolerance for slivers (default: the pack's ``tolerance_m``, else 0.1 m).
    area_method : str or AreaMethod, optional
        The official area method of every area (:data:`landcheck.area.AREA_METHODS`;
        default: the layer config's ``area_method``, else the rule pack's, ``"survey3"``
        unless it says otherwise). Recorded in the provenance.
    reference_date : date, optional
        "Today" for deadline rules (default: the current date).
    threads : int, optional
        Threads for the overlay (default: the available cores, at most 8).
    chunk_size : int, optional
        Patches per spatial chunk (default 20,000); memory of the overlay grows with it.
    engine : {"local", "dask"}
        ``local``: chunks on a thread pool in this process. ``dask``: the same per-chunk
        function on a ``distributed`` cluster (see :mod:`landcheck.backends.dask`).
    scheduler : str, optional
        With ``engine="dask"``: ``"local:N"`` (default ``local:2``), ``"local-threads:N"``
        or a scheduler address such as ``"tcp://10.0.0.5:8786"``.
    shared_dir : path, optional
        With ``engine="dask"``: a folder every worker can read, for the reference layers.
    partition : {"tiles", "township"}
        With ``engine="dask"``: one task per spatial tile of ``chunk_size`` patches, or per
        township (admin unit; large ones cut into tiles). See ``docs/dask.md``.
    progress : callable, optional
        Called with a short message per step and per chunk (the CLI prints them to stderr).
    missing_layers : {"warn", "review"}
        A layer the rules read that the layer set lacks (:mod:`landcheck.unchecked`) is said
        up front and its facts read "（未核查）" in reasons; ``"review"`` also makes each
        patch that a rule on it could have made worse ``needs_review``
        (``engine.not_checked``) instead of the milder verdict.

    Examples
    --------
    The demo county, screened with the built-in pack at the end of its round:

    >>> import landcheck
    >>> from landcheck.testing import AS_OF, SAMPLES
    >>> result = landcheck.screen(None, SAMPLES / "county.toml", reference_date=AS_OF)
    >>> len(result.verdicts)
    309
    >>> result.verdicts["verdict"].value_counts().sort_index().to_dict()
    {'illegal': 97, 'legal': 59, 'needs_review': 23, 'other': 130}
    """
    t0 = time.perf_counter()
    check_engine(engine, scheduler, shared_dir, threads, chunk_size, partition)
    say = progress or (lambda msg: log.info(msg))
    layerset = as_layerset(layers)
    roles = roles_of(layerset)
    full = load_rules(rules, overrides=overrides, families=families, roles=roles)
    pack = full.for_subject("patches")
    absent = absent_layers(pack, layerset, roles, missing_layers)
    patch_gdf, ref = read_inputs(patches, layerset, say)
    crs_decision = decide_working_crs(patch_gdf, ref, layerset, working_crs)
    patch_gdf, ref = to_working_all(patch_gdf, ref, layerset, crs_decision.crs)
    tol = tolerance_of(pack, tolerance_m)
    method, method_from = area_method_of(area_method, layerset, full)
    say(f"overlay: {len(patch_gdf)} patches × {len(ref)} layers in {crs_decision.label()}")
    ref_date = as_date(reference_date)
    run = {"reference_date": pd.Timestamp(ref_date), "year": ref_date.year}
    warn_later(later_than(patch_gdf, ref_date), ref_date, where=_where(patch_gdf))
    # facts, rules, verdicts, reasons and fragments allocate a few containers per patch; the
    # cyclic collector would walk every loaded feature each time, and finds next to nothing
    with cyclic_gc_paused():
        overlay = run_facts(patch_gdf, ref, crs_decision.crs, tol, family_params(full), engine,
                            threads=threads, chunk_size=chunk_size, scheduler=scheduler,
                            shared_dir=shared_dir, partition=partition, progress=say, roles=roles,
                            area_method=method)
        fired, verdicts, fragments = judge(patch_gdf, overlay, pack, run, ref.get("townships"),
                                           roles, absent)
    prov = provenance(patch_gdf, ref, pack, crs_decision, tol, ref_date, t0,
                      area_provenance(method, method_from))
    say(f"done: {len(verdicts)} patches in {time.perf_counter() - t0:.1f} s")
    return ScreenResult(
        verdicts=verdicts,
        fragments=fragments,
        facts=(null_absent(overlay.facts, absent, roles) if "@review" in absent
               else overlay.facts),
        fired=fired,
        provenance=prov,
        pack=pack,
        roles=roles,
    )


def _where(patch_gdf) -> str:
    from landcheck.provenance import source_info

    info = source_info(patch_gdf)
    return str(info.path) if info is not None else "patches"


class ScreenResult:
    """What :func:`screen` returns: verdicts, fragments, facts, fired rules, provenance, and
    the roles (built-in and custom) the run measured."""

    def __init__(self, *, verdicts, fragments, facts, fired, provenance, pack, roles=None):
        self.verdicts = verdicts
        self.fragments = fragments
        self.facts = facts
        self.fired = fired
        self.provenance = provenance
        self.pack = pack
        self.roles = roles if roles is not None else BUILTIN

    def summary(self) -> pd.DataFrame:
        """Counts and areas (m² and 亩) by verdict."""
        from landcheck.report.tables import verdict_summary

        return verdict_summary(self.verdicts, self.roles)

    def __repr__(self) -> str:
        counts = self.verdicts["verdict"].value_counts()
        parts = ", ".join(
            f"{v} {int(counts.get(v, 0))}" for v in ("illegal", "needs_review", "legal", "other")
        )
        return (
            f"<ScreenResult {len(self.verdicts)} patches: {parts}; rules "
            f"{self.pack.name} {self.pack.version}; crs {self.provenance['working_crs']}>"
        )

    def _repr_html_(self) -> str:
        head = f"<p><b>{repr(self)[1:-1]}</b></p>"
        return head + self.summary().to_html(index=False)

    def to_gpkg(self, path, *, overwrite: bool = False) -> Path:
        """Write layers ``verdicts``, ``fragments`` and ``metadata`` into one GeoPackage.

        A path that is one of the run's input files (or inside an input FileGDB) is refused
        (:class:`~landcheck.errors.InputError`) before anything is written."""
        from landcheck.report import WRITERS

        self._refuse_inputs({"path": path})
        return WRITERS["gpkg"].write(self, path, overwrite=overwrite)

    def to_xlsx(self, path, *, overwrite: bool = False) -> Path:
        """Write the Excel ledger (summary sheet + one sheet per township); an input file
        as ``path`` is refused like in :meth:`to_gpkg`."""
        from landcheck.report import WRITERS

        self._refuse_inputs({"path": path})
        return WRITERS["xlsx"].write(self, path, overwrite=overwrite)

    def write(self, gpkg, xlsx=None, *, overwrite: bool = False) -> tuple[Path, Path | None]:
        """Write the GeoPackage and, with ``xlsx``, the ledger as one output set.

        Both are staged, then published together (:func:`landcheck.io.write.output_set`):
        a failure in either leaves both targets as they were, and both carry the run id of
        ``provenance["run_id"]``. Returns the two paths (``None`` without ``xlsx``)."""
        from landcheck.io.write import output_set

        self._refuse_inputs({"gpkg": gpkg, "xlsx": xlsx})  # also the two being one file
        with output_set():
            out = self.to_gpkg(gpkg, overwrite=overwrite)
            book = self.to_xlsx(xlsx, overwrite=overwrite) if xlsx is not None else None
        return out, book

    def _refuse_inputs(self, outputs) -> None:
        from landcheck.io.write import refuse_inputs_as_outputs

        inputs = {f"the file of input {role!r}": info.get("path")
                  for role, info in (self.provenance.get("inputs") or {}).items()
                  if isinstance(info, dict)}
        refuse_inputs_as_outputs(outputs, inputs)
