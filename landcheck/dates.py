"""One date policy for every date field of the bureau's layers and frames.

Every date field (:data:`DATE_FIELDS`) of a layer — read through a layer config
(:func:`landcheck.layers.apply_mapping`) or given to ``screen``/``check`` as a frame
(:func:`dates_of_frame`) — is read by :func:`parse_dates`; the checks and rules then see
``datetime64`` columns only. The policy, value by value:

==============================================  ==============================================
value                                           read as
==============================================  ==============================================
a datetime column; ``datetime.date``,           that date (and time of day)
``datetime.datetime``, ``pd.Timestamp``,
``np.datetime64``
``2023-03-10``, ``2023-03-10 08:30[:15]``       ISO (``T`` or a space before the time)
``2023/3/10``, ``2023.3.10``, ``2023年3月10日``     year, month, day; a time may follow
``20230310`` (text or number)                   yyyymmdd
``44995`` (text or number, 20000–80000)         an Excel serial day (1900 date system, day 0 =
                                                1899-12-30, so 44995 = 2023-03-10; a fraction
                                                is the time of day), with one ``DataWarning``
                                                naming the field, the count and an example
blank: ``None``, NaN, NaT, ``''``               missing, silently
a date that cannot exist: ``2023-02-30``,       :class:`~landcheck.errors.InputError` naming the
``2023-13-01``, ``20231345``                    file, the field, the ids and an example
anything else: ``待定``, ``unknown``, ``2023``,   missing, with one ``DataWarning`` "treated as
``0000-00-00``, ``2023-00-00``                  missing" naming the field, the ids and an example
==============================================  ==============================================

An impossible date is an error because it is a typo of a real date: reading it as missing
would hide it, and guessing (30 February → 2 March) would be quietly wrong. Junk text is a
placeholder for "not known yet", so it is missing with a loud warning; the rule pack then
treats the feature as it treats a missing date (``legality.missing_dates``: needs review).
A month and day of ``00`` mark a placeholder, not a typo.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings

import numpy as np
import pandas as pd

from landcheck.errors import DataWarning, InputError, format_ids

__all__ = [
    "DATE_FIELDS",
    "EXCEL_EPOCH",
    "EXCEL_SERIAL_RANGE",
    "dates_of_frame",
    "later_than",
    "parse_dates",
    "warn_later",
]

#: Canonical fields holding dates; read by :func:`parse_dates`.
DATE_FIELDS = frozenset(
    {"before", "after", "issued", "date", "start", "end", "approved", "implemented", "accepted"}
)
#: Day 0 of Excel's 1900 date system (1899-12-30: it counts 1900-02-29, which did not exist).
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
#: Numbers read as Excel serial days: 1954-10-03 … 2119-01-10.
EXCEL_SERIAL_RANGE = (20000, 80000)

_TEXT = re.compile(
    r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:(?:T|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?$"
)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_NAT = np.datetime64("NaT", "us")
# what a value is: its kind, then how it reads
_STAMP, _NUM, _TEXT_KIND, _BLANK, _OTHER = range(5)
_OK, _JUNK, _IMPOSSIBLE, _SERIAL = range(4)


def parse_dates(values, *, where: str, field: str, canonical: str | None = None,
                role: str | None = None, ids=None) -> pd.Series:
    """``values`` as ``datetime64[us]`` by the date policy of :mod:`landcheck.dates`.

    ``where`` names the file (and layer) or frame, ``field`` the field as the source names
    it, ``canonical``/``role`` what it is for landcheck; ``ids`` (aligned with ``values``)
    name the features in messages, else their 0-based rows. A datetime column is returned
    as it is.

    Raises
    ------
    InputError
        Where a value is a date that cannot exist (``2023-02-30``).

    Examples
    --------
    >>> s = parse_dates(["2023-03-10", "2023/3/10", "2023年3月10日", "20230310", None],
    ...                 where="pz.shp", field="PZRQ")
    >>> [str(d.date()) if pd.notna(d) else None for d in s]
    ['2023-03-10', '2023-03-10', '2023-03-10', '2023-03-10', None]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series
    raw = series.to_numpy(dtype=object)
    kind, strings, numbers = _kinds(raw)
    out = np.full(len(raw), _NAT)
    state = np.where(kind == _OTHER, _JUNK, _OK).astype(np.int8)
    stamp = kind == _STAMP
    if stamp.any():
        out[stamp] = pd.to_datetime(pd.Series(raw[stamp])).to_numpy().astype("datetime64[us]")
    text = kind == _TEXT_KIND
    out[text], state[text] = _from_text(strings[text])
    num = kind == _NUM
    out[num], state[num] = _from_numbers(numbers[num])
    ctx = _Context(where, field, canonical, role, ids, raw, out)
    ctx.refuse(state == _IMPOSSIBLE)
    ctx.warn_serial(state == _SERIAL)
    ctx.warn_junk(state == _JUNK)
    return pd.Series(out, index=series.index, name=series.name)


def _kinds(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kind of each value (date object, number, text, blank, other), the texts stripped
    and the numbers (a text of digits counts as a number)."""
    strings = np.full(len(raw), "", dtype=object)
    numbers = np.full(len(raw), np.nan)

    def kind(i: int, v) -> int:
        if isinstance(v, str):
            strings[i] = v = v.strip()
            if not v:
                return _BLANK
            if not _NUMBER.match(v):
                return _TEXT_KIND
            numbers[i] = float(v)
            return _NUM
        if v is None or isinstance(v, bool | np.bool_):
            return _BLANK if v is None else _OTHER
        if isinstance(v, _dt.date | np.datetime64):
            return _BLANK if pd.isna(v) else _STAMP
        if isinstance(v, int | float | np.integer | np.floating):
            numbers[i] = v
            return _BLANK if np.isnan(numbers[i]) else _NUM
        return _BLANK if v is pd.NA else _OTHER

    kinds = np.fromiter((kind(i, v) for i, v in enumerate(raw)), dtype=np.int8, count=len(raw))
    return kinds, strings, numbers


def _from_text(strings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dates of texts of the accepted forms, and each text's state (ok, junk, impossible)."""
    if not len(strings):
        return np.full(0, _NAT), np.zeros(0, dtype=np.int8)
    parts = pd.Series(strings, dtype=object).str.extract(_TEXT)
    form = parts["y"].notna().to_numpy()
    y, m, d, hh, mm, ss = (pd.to_numeric(parts[c]).fillna(0).to_numpy(dtype=np.int64)
                           for c in ("y", "m", "d", "H", "M", "S"))
    frac = parts["f"].fillna("0").str.ljust(6, "0").astype(int).to_numpy()
    dates, ok = _compose(y, m, d)
    ok &= (hh <= 23) & (mm <= 59) & (ss <= 59)
    us = ((hh * 60 + mm) * 60 + ss) * 1_000_000 + frac
    out = np.where(form & ok, dates + us.astype("timedelta64[us]"), _NAT)
    placeholder = (m == 0) & (d == 0)
    state = np.select([~form | placeholder, ~ok], [_JUNK, _IMPOSSIBLE], _OK).astype(np.int8)
    return out, state


def _from_numbers(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dates of numbers (yyyymmdd, Excel serial days), and each number's state (ok, junk,
    impossible, serial)."""
    compact = (x == np.floor(x)) & (x >= 1e7) & (x < 1e8)
    lo, hi = EXCEL_SERIAL_RANGE
    serial = (x >= lo) & (x <= hi)
    n = np.where(compact, x, 0).astype(np.int64)
    dates, ok = _compose(n // 10000, n // 100 % 100, n % 100)
    us = np.round(np.where(serial, x, 0) * 86_400_000_000).astype(np.int64)
    from_serial = EXCEL_EPOCH.astype("datetime64[us]") + us.astype("timedelta64[us]")
    out = np.where(compact & ok, dates, np.where(serial, from_serial, _NAT))
    placeholder = compact & (n % 10000 == 0)
    state = np.select([serial, ~compact | placeholder, ~ok], [_SERIAL, _JUNK, _IMPOSSIBLE],
                      _OK).astype(np.int8)
    return out, state


def _compose(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``datetime64[us]`` of year, month, day, and whether that day exists."""
    ok = (m >= 1) & (m <= 12) & (d >= 1)
    month = np.where(ok, (y - 1970) * 12 + m - 1, 0).astype("datetime64[M]")
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= d <= length
    day = first + np.where(ok, d - 1, 0).astype("timedelta64[D]")
    return day.astype("datetime64[us]"), ok


class _Context:
    """What the messages of one field's reading name."""

    def __init__(self, where, field, canonical, role, ids, raw, out):
        self.where, self.raw, self.out = where, raw, out
        self.ids = None if ids is None else np.asarray(pd.Series(ids).to_numpy(), dtype=object)
        what = f"{role} `{canonical or field}`" if role else f"`{canonical or field}`"
        self.label = (f"field {field!r} ({what})" if (canonical and canonical != field) or role
                      else f"field {field!r}")

    def which(self, mask: np.ndarray) -> str:
        if self.ids is not None:
            return f"ids {format_ids(self.ids[mask].tolist())}"
        return f"rows (0-based) {format_ids(np.flatnonzero(mask).tolist())}"

    def example(self, mask: np.ndarray) -> object:
        return self.raw[np.flatnonzero(mask)[0]]

    def refuse(self, mask: np.ndarray) -> None:
        if mask.any():
            raise InputError(
                f"{self.where}: {int(mask.sum())} value(s) of {self.label} are dates that "
                f"cannot exist ({self.which(mask)}; e.g. {self.example(mask)!r}: no such month, "
                "day or time). Correct them in the source (YYYY-MM-DD), or leave them blank where "
                "the date is not known, and run again.")

    def warn_serial(self, mask: np.ndarray) -> None:
        if mask.any():
            first = np.flatnonzero(mask)[0]
            got = pd.Timestamp(self.out[first])
            shown = got.strftime("%Y-%m-%d" if got == got.normalize() else "%Y-%m-%d %H:%M:%S")
            warnings.warn(
                f"{self.where}: {int(mask.sum())} value(s) of {self.label} are Excel serial "
                f"day numbers ({self.which(mask)}; e.g. {self.raw[first]!r} → {shown}); they "
                "are read as days since 1899-12-30 (Excel's 1900 date system). Check one "
                "against the source, and store the field as a date (or YYYY-MM-DD text).",
                DataWarning, stacklevel=5)

    def warn_junk(self, mask: np.ndarray) -> None:
        if mask.any():
            warnings.warn(
                f"{self.where}: {int(mask.sum())} value(s) of {self.label} are not dates "
                f"({self.which(mask)}; e.g. {self.example(mask)!r}); they are treated as "
                "missing. Use YYYY-MM-DD (or leave the field blank where the date is not known).",
                DataWarning, stacklevel=5)


def dates_of_frame(frame: pd.DataFrame, role: str, *, where: str) -> pd.DataFrame:
    """``frame`` with its :data:`DATE_FIELDS` columns read by :func:`parse_dates` (a copy
    where any is not yet a datetime column): the frames given to ``screen``/``check``."""
    cols = [c for c in frame.columns if c in DATE_FIELDS
            and not pd.api.types.is_datetime64_any_dtype(frame[c].dtype)]
    if not cols:
        return frame
    out = frame.copy()
    ids = frame["id"] if "id" in frame.columns else None
    for col in cols:
        out[col] = parse_dates(frame[col], where=where, field=col, role=role, ids=ids)
    return out


def later_than(frame: pd.DataFrame, reference_date, field: str = "after") -> list:
    """The ids (else the 0-based rows) of the features whose ``field`` is later than
    ``reference_date`` (none where the frame lacks the field)."""
    if field not in frame.columns:
        return []
    dates = pd.to_datetime(frame[field], errors="coerce").to_numpy().astype("datetime64[D]")
    late = dates > np.datetime64(reference_date, "D")
    ids = frame["id"].to_numpy() if "id" in frame.columns else np.arange(len(frame))
    return ids[late].tolist()


def warn_later(ids: list, reference_date, *, where: str, field: str = "after") -> None:
    """One ``DataWarning`` naming the count and ``ids`` of the patches whose after-image
    date is later than the reference date (the city pack's ``legality.after_date_future``
    makes them needs_review)."""
    if ids:
        warnings.warn(
            f"{where}: {len(ids)} patch(es) have an after-image date (`{field}`) later than "
            f"the reference date {reference_date} (ids {format_ids(ids)}); the rule "
            "legality.after_date_future (city2023 pack) makes them needs_review. Check the "
            "image dates, or the reference date (reference_date / --as-of).",
            DataWarning, stacklevel=3)
