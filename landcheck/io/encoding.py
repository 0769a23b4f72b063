"""Text encodings of shapefiles: read the DBF header and decide how to decode it.

GDAL decodes a shapefile's DBF with the encoding named in its ``.cpg`` file, or
ISO-8859-1 when there is none, which turns GBK text into mojibake. Chinese
shapefiles are often GBK without a ``.cpg``, or carry a ``.cpg`` that does not
match the bytes. :func:`detect_shapefile_encoding` therefore looks at the raw
bytes of the field names and of the text fields and decides:

1. ``declared`` (the ``encoding=`` argument) wins, but must decode the sample
   strictly, else :class:`~landcheck.errors.EncodingError`;
2. all bytes ASCII → the ``.cpg``'s encoding, or UTF-8 (nothing to guess);
3. the ``.cpg`` agrees with the bytes → that encoding (``how="cpg"``);
4. otherwise the bytes are sniffed: strictly valid UTF-8 → UTF-8, else strictly
   valid GB18030 → GB18030, else :class:`~landcheck.errors.EncodingError`;
   the result comes with a warning text naming the ``.cpg``'s claim.

Notes
-----
The sample is the whole DBF up to 16 MiB, else 64 evenly spaced blocks of
records totalling 16 MiB. Only text (``C``) fields are examined; the check is a
handful of vectorised numpy operations and one strict ``bytes.decode`` per
field. A ``.cpg`` that names a single-byte code page (``1252``, ``8859_1`` ...)
is believed whenever the bytes are not valid UTF-8, because any byte string
decodes in those code pages.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landcheck.errors import EncodingError, LayerReadError

__all__ = ["DbfSample", "EncodingDecision", "detect_shapefile_encoding", "read_dbf_sample"]

SAMPLE_BYTES = 16 * 1024 * 1024
SAMPLE_BLOCKS = 64
_FIELD_NAMES = "<field names>"


@dataclass(frozen=True)
class DbfSample:
    """Raw bytes taken from a DBF file.

    ``names`` are the raw field names (up to the first NUL); ``text`` maps each
    text field's raw name to a 2-D ``uint8`` array (one row per sampled record,
    width = field length); ``rows`` are the 0-based record numbers sampled.
    """

    path: Path
    n_records: int
    names: tuple[bytes, ...]
    text: dict[bytes, np.ndarray]
    rows: np.ndarray


@dataclass(frozen=True)
class EncodingDecision:
    """How a shapefile's text is decoded.

    Attributes
    ----------
    encoding : str
        Encoding name passed to GDAL (``"UTF-8"``, ``"GB18030"``, ``"GBK"`` ...).
    how : str
        ``"argument"``, ``"cpg"`` or ``"sniffed"``.
    cpg : str or None
        What the ``.cpg`` file said, verbatim (``None`` when there is none).
    field_names : tuple of str
        The DBF field names decoded with ``encoding`` (a multi-byte character cut
        by the 10-byte name limit is dropped).
    raw_names : tuple of bytes
        The field names as stored in the DBF header.
    truncated_names : bool
        True when some field name ended in such a cut character; GDAL cannot
        decode those names itself.
    warning : str or None
        Text for an :class:`~landcheck.errors.EncodingGuessWarning`, when the
        encoding was guessed or the ``.cpg`` was overruled.
    note : str
        One sentence for the provenance notes.
    """

    encoding: str
    how: str
    cpg: str | None
    field_names: tuple[str, ...]
    raw_names: tuple[bytes, ...]
    truncated_names: bool
    warning: str | None
    note: str


def detect_shapefile_encoding(path, declared: str | None = None) -> EncodingDecision:
    """Decide the text encoding of a shapefile (``.shp`` or ``.dbf`` path).

    Parameters
    ----------
    path : str or path-like
        The ``.shp`` (or ``.dbf``) file.
    declared : str, optional
        Encoding given by the user; it wins when it decodes the bytes.

    Returns
    -------
    EncodingDecision
        Nothing is emitted: the caller warns with ``decision.warning``.

    Raises
    ------
    EncodingError
        When ``declared`` or every candidate fails to decode the sample; the
        message names the file, the field and the record.
    """
    dbf = dbf_path(Path(path))
    sample = read_dbf_sample(dbf)
    cpg_text = _read_cpg(dbf)
    where = str(Path(path))
    if declared is not None:
        return _decide_declared(sample, declared, cpg_text, where)
    if _all_ascii(sample):
        return _decide_ascii(sample, cpg_text)
    claim = _codec_or_none(cpg_text)
    if claim is not None and _claim_agrees(sample, claim):
        return _decision(sample, claim, "cpg", cpg_text, None, f".cpg says {cpg_text!r}")
    return _decide_sniffed(sample, cpg_text, where)


def dbf_path(path: Path) -> Path:
    """The DBF beside a ``.shp`` (either case of the extension); may not exist."""
    if path.suffix.lower() == ".dbf":
        return path
    for ext in (".dbf", ".DBF", ".Dbf"):
        candidate = path.with_suffix(ext)
        if candidate.exists():
            return candidate
    return path.with_suffix(".dbf")


def dbf_header(head: bytes) -> tuple[int, int, int]:
    """(record count, header length, record length) of a dBASE header's first 12 bytes."""
    return (int.from_bytes(head[4:8], "little"), int.from_bytes(head[8:10], "little"),
            int.from_bytes(head[10:12], "little"))


def read_dbf_sample(dbf: Path, max_bytes: int | None = None) -> DbfSample:
    """Parse a DBF header and take a bounded sample (default :data:`SAMPLE_BYTES`) of its
    text fields' raw bytes."""
    max_bytes = SAMPLE_BYTES if max_bytes is None else max_bytes
    with open(dbf, "rb") as f:
        head = f.read(32)
        if len(head) < 32:
            raise LayerReadError(f"{dbf}: not a DBF file (only {len(head)} bytes); the "
                                 f"shapefile's attribute table is damaged")
        n_records, header_len, record_len = dbf_header(head)
        fields = _parse_descriptors(f.read(max(header_len - 32, 0)))
        rows, block = _read_records(f, header_len, record_len, n_records, max_bytes)
    names = tuple(name for name, _, _, _ in fields)
    text = {name: block[:, off:off + width]
            for name, kind, off, width in fields if kind == b"C" and block.size}
    return DbfSample(dbf, n_records, names, text, rows)


def _parse_descriptors(raw: bytes) -> list[tuple[bytes, bytes, int, int]]:
    """(raw name, type byte, offset in record, width) for each field descriptor."""
    fields, offset = [], 1  # byte 0 of each record is the deletion flag
    for start in range(0, len(raw) - 31, 32):
        desc = raw[start:start + 32]
        if desc[0] == 0x0D:
            break
        name = desc[:11].split(b"\0", 1)[0]
        width = desc[16]
        fields.append((name, desc[11:12], offset, width))
        offset += width
    return fields


def _read_records(f, header_len: int, record_len: int, n_records: int, max_bytes: int):
    """Read all records if they fit in ``max_bytes``, else evenly spaced blocks of them."""
    if record_len <= 0 or n_records <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, max(record_len, 1)), dtype=np.uint8)
    budget = max(max_bytes // record_len, 1)
    if n_records <= budget:
        starts, per_block = np.array([0]), n_records
    else:
        per_block = max(budget // SAMPLE_BLOCKS, 1)
        starts = np.unique(np.linspace(0, n_records - per_block, SAMPLE_BLOCKS).astype(np.int64))
    chunks, rows = [], []
    for start in starts:  # at most SAMPLE_BLOCKS reads
        f.seek(header_len + int(start) * record_len)
        data = f.read(per_block * record_len)
        count = len(data) // record_len
        chunks.append(np.frombuffer(data[:count * record_len], dtype=np.uint8))
        rows.append(np.arange(start, start + count))
    block = np.concatenate(chunks).reshape(-1, record_len)
    return np.concatenate(rows), block


def _read_cpg(dbf: Path) -> str | None:
    for ext in (".cpg", ".CPG", ".Cpg"):
        cpg = dbf.with_suffix(ext)
        if cpg.exists():
            return cpg.read_bytes().decode("ascii", errors="replace").strip()
    return None


def _codec_or_none(label: str | None) -> str | None:
    """Canonical encoding name for a ``.cpg`` label (``"936"`` → ``"CP936"``), or None."""
    if not label:
        return None
    text = label.strip().upper().replace(" ", "")
    aliases = {"UTF8": "UTF-8", "8859_1": "ISO-8859-1", "88591": "ISO-8859-1", "ANSI936": "CP936"}
    text = aliases.get(text, text)
    if text.isdigit():
        text = f"CP{text}"
    if text.startswith("8859_"):
        text = f"ISO-8859-{text[5:]}"
    try:
        codecs.lookup(text)
    except LookupError:
        return None
    return text


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


def _all_ascii(sample: DbfSample) -> bool:
    if any(max(name, default=0) >= 0x80 for name in sample.names):
        return False
    return not any((arr >= 0x80).any() for arr in sample.text.values())


def _first_failure(sample: DbfSample, encoding: str) -> tuple[str, int | None, str] | None:
    """(field, record, reason) of the first value that does not decode strictly, or None."""
    for raw in sample.names:
        if _decode_name(raw, encoding) is None:
            return _FIELD_NAMES, None, f"field name {raw!r} is not valid {encoding}"
    for name, arr in sample.text.items():
        if not (arr >= 0x80).any():
            continue
        lines = np.concatenate([arr, np.full((arr.shape[0], 1), 0x0A, np.uint8)], axis=1)
        joined = lines.tobytes()
        try:
            joined.decode(encoding)
        except UnicodeDecodeError as exc:
            row = int(sample.rows[exc.start // lines.shape[1]])
            field = _decode_name(name, "latin-1") or repr(name)
            return field, row, f"bytes {joined[exc.start:exc.start + 4]!r} are not valid {encoding}"
    return None


def _decode_name(raw: bytes, encoding: str) -> str | None:
    """Decode a field name strictly, allowing one multi-byte character cut at the end."""
    text, _ = _decode_tail_tolerant(raw, encoding)
    return text


def _decode_tail_tolerant(raw: bytes, encoding: str) -> tuple[str | None, bool]:
    try:
        return raw.decode(encoding), False
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3 and exc.end >= len(raw):
            try:
                return raw[:exc.start].decode(encoding), True
            except UnicodeDecodeError:
                return None, False
        return None, False


def _claim_agrees(sample: DbfSample, claim: str) -> bool:
    """The .cpg agrees: its encoding decodes strictly, and UTF-8 bytes are not claimed as GBK."""
    if _first_failure(sample, claim) is not None:
        return False
    return _is_utf8(claim) or _first_failure(sample, "UTF-8") is not None


def _decision(sample, encoding, how, cpg_text, warning, note) -> EncodingDecision:
    decoded = [_decode_tail_tolerant(raw, encoding) for raw in sample.names]
    names = tuple(text if text is not None else raw.decode("latin-1")
                  for (text, _), raw in zip(decoded, sample.names, strict=True))
    truncated = any(cut for _, cut in decoded)
    if truncated:
        note += "; a field name cut inside a multi-byte character was shortened"
    return EncodingDecision(encoding, how, cpg_text, names, sample.names, truncated, warning, note)


def _decide_declared(sample, declared, cpg_text, where) -> EncodingDecision:
    try:
        codecs.lookup(declared)
    except LookupError:
        raise EncodingError(f"{where}: unknown encoding {declared!r}; use a name such as "
                            "'GBK', 'GB18030' or 'UTF-8'") from None
    failure = _first_failure(sample, declared)
    if failure is not None:
        raise EncodingError(_failure_message(where, failure, declared, "encoding= argument"))
    warning = None
    looks_utf8 = not _all_ascii(sample) and _first_failure(sample, "UTF-8") is None
    if looks_utf8 and not _is_utf8(declared):
        warning = (f"{where}: encoding={declared!r} was given, but the text is valid UTF-8 and "
                   f"probably UTF-8; if values look garbled, pass encoding='UTF-8'")
    return _decision(sample, declared, "argument", cpg_text, warning,
                     f"decoded as {declared} (encoding= argument)")


def _decide_ascii(sample, cpg_text) -> EncodingDecision:
    claim = _codec_or_none(cpg_text)
    if claim is not None:
        return _decision(sample, claim, "cpg", cpg_text, None,
                         f".cpg says {cpg_text!r}; all text is ASCII")
    return _decision(sample, "UTF-8", "sniffed", cpg_text, None,
                     "all text is ASCII; decoded as UTF-8")


def _decide_sniffed(sample, cpg_text, where) -> EncodingDecision:
    for encoding in ("UTF-8", "GB18030"):
        if _first_failure(sample, encoding) is None:
            if cpg_text is not None:
                said, fix = f"the .cpg says {cpg_text!r}", "fix the .cpg file"
                intro = f"{said}, but the text decodes as {encoding}"
            else:
                said, fix = "there is no .cpg file", "add a .cpg file naming the encoding"
                intro = f"{said}; the text decodes as {encoding}"
            warning = (f"{where}: {intro}, so it was decoded as {encoding}. Check a few "
                       f"values; pass encoding=... to override, or {fix}.")
            return _decision(sample, encoding, "sniffed", cpg_text, warning,
                             f"{said}; sniffed {encoding} from the bytes")
    failure = _first_failure(sample, "GB18030")
    raise EncodingError(_failure_message(where, failure, "UTF-8 or GB18030", "sniffing"))


def _failure_message(where, failure, encoding, origin) -> str:
    field, row, reason = failure
    if field == _FIELD_NAMES:
        at = "the field names"
    else:
        at = f"field {field!r}" + (f", record {row} (0-based)" if row is not None else "")
    return (f"{where}: cannot decode {at} as {encoding} ({origin}): {reason}. "
            f"Pass the right encoding, e.g. encoding='GB18030' or encoding='UTF-8', "
            f"or fix the file.")
