"""Errors and warnings raised by landcheck.

Every error derives from :class:`LandcheckError` and also from the builtin that
describes it best (``ValueError`` for bad input, ``OSError`` for files), so
callers can catch either. Messages name the file, the layer or rule, the
feature or key, and say what to do next.

Warnings derive from :class:`LandcheckWarning` so they can be filtered as a
group or one class at a time::

    import warnings
    from landcheck.errors import EncodingGuessWarning
    warnings.simplefilter("ignore", EncodingGuessWarning)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "AmbiguousCRSError",
    "CRSError",
    "CRSWarning",
    "ConfigError",
    "DataWarning",
    "DuplicateIdError",
    "EncodingError",
    "EncodingGuessWarning",
    "GeometryError",
    "GeometryWarning",
    "InputError",
    "LandcheckError",
    "LandcheckWarning",
    "LayerReadError",
    "LedgerError",
    "MissingDependencyError",
    "MissingLayerWarning",
    "OutputExistsError",
    "RuleError",
    "TransformationError",
    "VocabularyWarning",
    "WriteError",
    "format_ids",
]


class LandcheckError(Exception):
    """Root of every error landcheck raises on purpose."""


class InputError(LandcheckError, ValueError):
    """Input data or arguments that cannot be used as they are."""


class LayerReadError(InputError, OSError):
    """A layer file is missing, unreadable, or not the format it claims."""


class EncodingError(InputError):
    """Text in a file cannot be decoded without producing mojibake."""


class CRSError(InputError):
    """A coordinate reference system is missing, wrong or inconsistent with the data."""


class AmbiguousCRSError(CRSError):
    """The CRS cannot be decided from the coordinates alone (e.g. no zone prefix)."""


class TransformationError(CRSError):
    """No transformation of known accuracy exists between two CRSs."""


class GeometryError(InputError):
    """Invalid, empty or wrong-typed geometries, listed by feature id."""


class DuplicateIdError(InputError):
    """The declared id field holds the same id more than once."""


class ConfigError(InputError):
    """A configuration file has one or more problems; ``problems`` lists them all."""

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = str(source)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{self.source}: {n} problem{'s' if n != 1 else ''}:\n{lines}")


class MissingDependencyError(LandcheckError, ImportError):
    """An optional package or a system font an output needs is not installed; the message
    says what to install."""


class OutputExistsError(LandcheckError, FileExistsError):
    """The output exists and overwriting was not asked for."""


class WriteError(LandcheckError, OSError):
    """An output could not be written (nothing half-written is left behind)."""


class LedgerError(LandcheckError, ValueError):
    """A case-ledger operation that cannot be done: a refused close, an over-claimed
    rectification, an unknown case or field, a ledger file of another schema version."""


class RuleError(LandcheckError, ValueError):
    """A rule pack or rule expression is invalid; ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        self.problems = list(problems) or [str(message)]
        super().__init__(message)


class LandcheckWarning(UserWarning):
    """Root of every warning landcheck emits."""


class EncodingGuessWarning(LandcheckWarning):
    """An encoding was guessed, or a .cpg file was overruled."""


class CRSWarning(LandcheckWarning):
    """A CRS was detected from coordinates or a declared CRS overrode the file's."""


class DataWarning(LandcheckWarning):
    """Attribute values that could not be interpreted (e.g. a date that is not a date)."""


class VocabularyWarning(DataWarning):
    """Categorical values (a facility kind, a temporary use, an issuing level …) that no
    vocabulary or ``values`` table recognises."""


class MissingLayerWarning(LandcheckWarning):
    """The layer set lacks a layer that rules of the pack read; the warning names the
    layer, the rules and the ``[layers.*]`` table to add."""


class GeometryWarning(LandcheckWarning):
    """Geometries were repaired, dropped to 2D, or found empty or invalid."""


def format_ids(ids: Iterable[object], limit: int = 10) -> str:
    """Format ids for a message: at most ``limit`` shown, then a count of the rest.

    >>> format_ids(["a", "b", "c"], limit=2)
    "'a', 'b' … (+1 more)"
    """
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:limit])
    if len(ids) > limit:
        shown += f" … (+{len(ids) - limit} more)"
    return shown
