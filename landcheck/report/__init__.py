"""Reports: GeoPackage results, Excel ledgers and summary tables.

:data:`WRITERS` names every output a run writes, with its file suffix, the function that
writes a whole :class:`~landcheck.ScreenResult` and the one that writes the streamed
version (:func:`landcheck.stream.screen_to_gpkg` appends its chunks to the GeoPackage and
sums the ledger's tables). Every writer writes atomically and refuses an existing file unless
``overwrite``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["WRITERS", "Writer"]


@dataclass(frozen=True)
class Writer:
    """One output kind: ``suffix`` (lower case), ``what`` it holds, ``write(result, path, *,
    overwrite)`` for a whole result and the streamed run's writer (``streamed``: module and
    function name, None where the stream writes the file itself chunk by chunk)."""

    name: str
    suffix: str
    what: str
    module: str
    function: str
    streamed: str | None = None

    @property
    def write(self) -> Callable:
        from importlib import import_module

        return getattr(import_module(self.module), self.function)

    @property
    def write_streamed(self) -> Callable | None:
        if self.streamed is None:
            return None
        from importlib import import_module

        return getattr(import_module(self.module), self.streamed)


#: The outputs of a screening run, by name.
WRITERS: dict[str, Writer] = {
    "gpkg": Writer("gpkg", ".gpkg", "GeoPackage: layers verdicts, fragments and metadata",
                   "landcheck.report.gpkg", "write_result_gpkg"),
    "xlsx": Writer("xlsx", ".xlsx", "Excel ledger: summary sheet and one sheet per township",
                   "landcheck.report.ledger", "write_ledger", "write_summary_ledger"),
}
