"""What reading noticed: provenance notes, and warnings emitted once at the end.

Steps of :func:`landcheck.io.read_layer` add to one :class:`Findings`; the
public function emits the warnings itself so that they point at the caller's
line, and stores the notes in the layer's :class:`~landcheck.provenance.SourceInfo`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from landcheck.errors import format_ids

__all__ = ["FeatureLabels", "Findings"]

MAX_FEATURE_NOTES = 100


@dataclass
class Findings:
    """Notes for provenance and warnings still to emit."""

    notes: list[str] = field(default_factory=list)
    pending: list[tuple[type[Warning], str]] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, category: type[Warning], message: str, note: str | None = None) -> None:
        self.pending.append((category, message))
        self.notes.append(note if note is not None else message)

    def emit(self, stacklevel: int = 3) -> None:
        for category, message in self.pending:
            warnings.warn(message, category, stacklevel=stacklevel)
        self.pending.clear()


@dataclass(frozen=True)
class FeatureLabels:
    """How messages name features: by the id field's values, or by 0-based row position."""

    id_field: str | None
    values: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame, id_field: str | None) -> FeatureLabels:
        if id_field is not None and id_field in frame.columns:
            return cls(id_field, frame[id_field].to_numpy(dtype=object))
        return cls(None, np.arange(len(frame)))

    def select(self, mask: np.ndarray) -> list[object]:
        return [v.item() if isinstance(v, np.generic) else v for v in self.values[mask]]

    def describe(self, mask: np.ndarray, limit: int = 10) -> str:
        """``"ids (JCBH) 'A1', 'A2'"`` or ``"rows (0-based) 3, 7"`` for the masked features."""
        chosen = self.select(mask)
        if self.id_field is not None:
            return f"ids ({self.id_field}) {format_ids(chosen, limit)}"
        return f"rows (0-based) {format_ids(chosen, limit)}"
