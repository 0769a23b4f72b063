"""Text encodings of shapefiles: read the DBF header and decide how to decode it.

GDAL decodes a shapefile's DBF with the encoding named in its ``.cpg`` file, or
ISO-8859-1 when there is none, which turns GBK text into mojibake. Chinese
shapefiles are often GBK without a ``.cpg``, or carry a ``.cpg`` that does not
match the bytes. :func:`detect_shapefile_encoding` therefore looks at the raw
bytes of the field names and of the text fields and decides, in this order:

1. ``declared`` (the ``encoding=`` argument) wins, but must decode the sample
   strictly, else :class:`~landcheck.errors.EncodingError`; a warning says when
   the bytes look like UTF-8 or mix encodings;
2. all bytes ASCII → the ``.cpg``'s encoding, or UTF-8 (nothing to guess);
3. records in different encodings (some values valid UTF-8 Chinese, others
   valid only as GB18030) → :class:`~landcheck.errors.EncodingError` naming the
   fields, the count of records in each encoding and example record numbers;
4. a ``.cpg`` naming a multi-byte encoding (UTF-8, GBK, 936, Big5 ...) that
   agrees with the bytes → that encoding (``how="cpg"``), no warning;
5. otherwise the bytes are sniffed (``how="sniffed"``, with a warning):

   a. strictly valid UTF-8 → UTF-8;
   b. strictly valid GB18030 only → GB18030; strictly valid Big5 (CP950)
      only → CP950;
   c. valid in both GB18030 and Big5 → Big5 when it scores at least 0.8 on
      plausibility (below) and leads GB18030 by at least 0.2; else GB18030 when
      it scores at least 0.8 (a tie goes to GB18030, the mainland encoding: the
      warning then shows a value read both ways) or leads by at least 0.2;
      else :class:`~landcheck.errors.EncodingError` (undecidable: pass
      ``encoding=``);
   d. nothing decodes → :class:`~landcheck.errors.EncodingError`.

   A ``.cpg`` naming a single-byte code page (``1252``, ``8859_1``,
   ``LATIN1``, ``ANSI 1252`` ...) decodes any bytes, so it is weighed against
   the sniffed encoding: the sniffed encoding wins when it is UTF-8 (Western
   text in a single-byte code page is valid UTF-8 only by rare accident) or
   when its text is plausibly Chinese; otherwise the ``.cpg`` is believed
   (``how="cpg"``, no warning), e.g. ``Café`` in code page 1252.

Plausibility is the share of the non-ASCII characters that are common in the
encoding's own script, counted over every sampled value: for GB18030 the
characters of GB2312 (simplified hanzi, CJK punctuation, full-width forms),
for Big5 those of Big5 level 1 (frequent traditional hanzi) and its
punctuation. Text scoring at least 0.8 is plausibly Chinese. Latin-1 letters
read as GB18030 give rare GBK-extension hanzi (``Zürich`` → ``Z黵ich``) and
score near 0; Big5 text read as GB18030 gives kana, private-use characters and
rare hanzi; GBK text read as Big5 gives traditional hanzi of which about half
are level 2.

Every warning names the file, what the ``.cpg`` said (or that there is none),
the chosen encoding, the text fields that hold non-ASCII bytes, how many values
were sampled and how sure the choice is (e.g. "all 1,234 non-ASCII values in
3 fields (DLMC, QSDWMC, ZLDWMC) decode as GB18030, none as UTF-8; 100% of
their characters are common simplified Chinese (GB2312)"), an example value
decoded both ways where a ``.cpg`` was overruled or Big5 chosen, and how to
silence it (a ``.cpg`` naming the encoding, or ``encoding=``).

Notes
-----
The sample is the whole DBF up to 16 MiB, else 64 evenly spaced blocks of
records totalling 16 MiB. Only text (``C``) fields are examined; each field is
reduced to its distinct non-ASCII values with one vectorised ``numpy.unique``,
and each distinct value is decoded once per candidate (UTF-8, GB18030, CP950).
"""

from __future__ import annotations

import codecs
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from landcheck.errors import EncodingError, LayerReadError

__all__ = ["DbfSample", "EncodingDecision", "detect_shapefile_encoding", "read_dbf_sample"]

SAMPLE_BYTES = 16 * 1024 * 1024
SAMPLE_BLOCKS = 64
PLAUSIBLE = 0.8  # share of common characters above which text is plausibly Chinese
MARGIN = 0.2  # lead in plausibility that decides between GB18030 and Big5
_FIELD_NAMES = "<field names>"
_CANDIDATES = ("UTF-8", "GB18030", "CP950")
_LABELS = {"UTF-8": "UTF-8", "GB18030": "GB18030", "CP950": "Big5 (CP950)"}
_CPG_LABELS = {"UTF-8": "UTF-8", "GB18030": "GBK", "CP950": "CP950"}


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
        When ``declared`` or every candidate fails to decode the sample (the
        message names the file, the field and the record); when records mix
        UTF-8 and GBK (it names the fields, the count of records in each and
        example records); when the text decodes as both GB18030 and Big5 and
        neither reading is plausible Chinese nor leads the other.
    """
    dbf = dbf_path(Path(path))
    sample = read_dbf_sample(dbf)
    cpg_text = _read_cpg(dbf)
    where = str(Path(path))
    if declared is not None:
        return _decide_declared(sample, declared, cpg_text, where)
    if _all_ascii(sample):
        return _decide_ascii(sample, cpg_text)
    values = _distinct_values(sample)
    mixed = _mixed_records(values)
    if mixed:
        raise EncodingError(_mixed_message(where, sample, mixed, declared=None))
    claim = _codec_or_none(cpg_text)
    if claim is not None and not _single_byte(claim) and _claim_agrees(sample, claim):
        return _decision(sample, claim, "cpg", cpg_text, None, f".cpg says {cpg_text!r}")
    return _decide_sniffed(sample, values, cpg_text, claim, where)


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
    aliases = {"UTF8": "UTF-8", "8859_1": "ISO-8859-1", "88591": "ISO-8859-1"}
    text = aliases.get(text, text)
    if text.startswith("ANSI") and text[4:].isdigit():  # "ANSI 1252", "ANSI 936"
        text = text[4:]
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
    if not _all_ascii(sample):
        mixed = _mixed_records(_distinct_values(sample, ("UTF-8", "GB18030")))
        if mixed:
            warning = _mixed_message(where, sample, mixed, declared=declared)
        elif _first_failure(sample, "UTF-8") is None and not _is_utf8(declared):
            warning = (f"{where}: encoding={declared!r} was given, but the text is valid UTF-8 "
                       f"and probably UTF-8; if values look garbled, pass encoding='UTF-8'")
    return _decision(sample, declared, "argument", cpg_text, warning,
                     f"decoded as {declared} (encoding= argument)")


def _decide_ascii(sample, cpg_text) -> EncodingDecision:
    claim = _codec_or_none(cpg_text)
    if claim is not None:
        return _decision(sample, claim, "cpg", cpg_text, None,
                         f".cpg says {cpg_text!r}; all text is ASCII")
    return _decision(sample, "UTF-8", "sniffed", cpg_text, None,
                     "all text is ASCII; decoded as UTF-8")


def _decide_sniffed(sample, values, cpg_text, claim, where) -> EncodingDecision:
    """Steps 5a-5d of the module's rules, and the single-byte ``.cpg`` weighed against them."""
    guess = _sniff(sample, values)
    single = (claim is not None and _single_byte(claim)
              and _first_failure(sample, claim) is None)
    if single and (guess is None or not guess.plausible):
        return _decision(sample, claim, "cpg", cpg_text, None,
                         f".cpg says {cpg_text!r}; the text is not plausibly Chinese")
    if guess is None:
        failure = _first_failure(sample, "GB18030")
        raise EncodingError(_failure_message(where, failure, "UTF-8, GB18030 or Big5",
                                             "sniffing"))
    if guess.encoding is None:
        raise EncodingError(_undecidable_message(where, sample, values, guess))
    said = "there is no .cpg file" if cpg_text is None else f"the .cpg says {cpg_text!r}"
    warning = _sniffed_warning(where, sample, values, guess, cpg_text,
                               claim if single else None)
    return _decision(sample, guess.encoding, "sniffed", cpg_text, warning,
                     f"{said}; sniffed {guess.encoding} from the bytes ({guess.evidence})")


def _sniffed_warning(where, sample, values, guess, cpg_text, single_claim) -> str:
    """The guess warning: the .cpg's claim, the choice, how sure, examples, how to silence it."""
    encoding = guess.encoding
    label, cpg_label = _LABELS[encoding], _CPG_LABELS[encoding]
    if cpg_text is not None:
        intro = f"the .cpg says {cpg_text!r}, but the text decodes as {label}"
        fix = f"fix the .cpg file (write {cpg_label!r} in it)"
    else:
        intro = f"there is no .cpg file; the text decodes as {label}"
        fix = f"add a .cpg file containing {cpg_label!r}"
    example = ""
    if single_claim is not None:
        example = " " + _example(values, sample, encoding, single_claim)
    elif encoding == "CP950":
        example = " " + _example(values, sample, encoding, "GB18030")
    elif guess.scores.get("CP950", 0.0) >= PLAUSIBLE:  # Big5 reads as plausibly
        example = (" Big5 reads as plausibly Chinese, and GB18030 was preferred. "
                   + _example(values, sample, encoding, "CP950")
                   + " If the layer is traditional Chinese, pass encoding='CP950'.")
    return (f"{where}: {intro}, so it was decoded as {encoding}: {guess.evidence}.{example} "
            f"Check a few values; to silence this warning, {fix} or pass "
            f"encoding={encoding!r} (the config's `encoding` key).")


@dataclass(frozen=True)
class _Values:
    """The distinct non-ASCII values of one text field in the sample.

    ``raw`` holds each distinct value without trailing blanks, ``counts`` the
    sampled records holding it, ``first`` the first such record (0-based), and
    ``text`` each candidate's strict decoding of each value (None: invalid).
    """

    name: bytes
    raw: tuple[bytes, ...]
    counts: np.ndarray
    first: np.ndarray
    text: dict[str, tuple[str | None, ...]]

    @property
    def records(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class _Guess:
    """What the bytes decode as: ``encoding`` None when GB18030 and Big5 are undecidable."""

    encoding: str | None
    plausible: bool
    evidence: str
    scores: dict[str, float]


def _distinct_values(sample: DbfSample, encodings=_CANDIDATES) -> list[_Values]:
    """Each text field's distinct non-ASCII values, decoded once per encoding."""
    found = []
    for name, arr in sample.text.items():
        mask = (arr >= 0x80).any(axis=1)
        if not mask.any():
            continue
        sub = np.ascontiguousarray(arr[mask])
        keys = sub.view(f"V{sub.shape[1]}").ravel()
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        counts = np.bincount(inverse.ravel(), minlength=len(uniq))
        raw = tuple(u.tobytes().rstrip(b" \0") for u in uniq)
        text = {enc: tuple(_strict(value, enc) for value in raw) for enc in encodings}
        rows = sample.rows[np.flatnonzero(mask)[first]]
        found.append(_Values(name, raw, counts, rows, text))
    return found


def _strict(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def _sniff(sample: DbfSample, values: list[_Values]) -> _Guess | None:
    """Steps 5a-5c: the candidate the bytes decode as, or None when none does."""
    ok = [enc for enc in _CANDIDATES if _first_failure(sample, enc) is None]
    if not ok:
        return None
    scores = {enc: _plausibility(sample, values, enc) for enc in ok if enc != "UTF-8"}
    if "UTF-8" in ok:
        return _Guess("UTF-8", True, _evidence(sample, values, "UTF-8", scores), scores)
    if len(ok) == 1:
        [enc] = ok
    else:
        gb, big5 = scores["GB18030"], scores["CP950"]
        if big5 >= PLAUSIBLE and big5 - gb >= MARGIN:
            enc = "CP950"
        elif gb >= PLAUSIBLE or gb - big5 >= MARGIN:  # a tie goes to GB18030
            enc = "GB18030"
        else:
            return _Guess(None, max(gb, big5) >= PLAUSIBLE, "", scores)
    return _Guess(enc, scores[enc] >= PLAUSIBLE, _evidence(sample, values, enc, scores), scores)


def _plausibility(sample: DbfSample, values: list[_Values], encoding: str) -> float:
    """Share of the non-ASCII characters, over the field names and all sampled records, common
    in ``encoding``."""
    names = "".join(_decode_name(raw, encoding) or "" for raw in sample.names)
    chars = [c for c in names if ord(c) >= 0x80]
    common, total = sum(_common(c, encoding) for c in chars), len(chars)
    for field in values:
        for text, count in zip(field.text[encoding], field.counts, strict=True):
            if text is None:
                continue
            chars = [c for c in text if ord(c) >= 0x80]
            total += len(chars) * int(count)
            common += sum(_common(c, encoding) for c in chars) * int(count)
    return common / total if total else 0.0


@functools.lru_cache(maxsize=65536)
def _common(char: str, encoding: str) -> bool:
    """Whether ``char`` is common text in ``encoding``'s script (see the module docstring)."""
    if encoding == "UTF-8":
        return _cjk(char)
    if encoding == "GB18030":
        try:
            lead = char.encode("gb2312")[0]
        except UnicodeEncodeError:
            return False
        return 0xA1 <= lead <= 0xA3 or lead >= 0xB0  # punctuation and full-width, hanzi
    try:
        code = int.from_bytes(char.encode("cp950"), "big")
    except UnicodeEncodeError:
        return False
    return 0xA140 <= code <= 0xA3BF or 0xA440 <= code <= 0xC67E  # punctuation, level 1


def _cjk(char: str) -> bool:
    """CJK ideographs, CJK and general punctuation, full-width and enclosed forms."""
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F
            or 0x2150 <= code <= 0x218F or 0x2460 <= code <= 0x24FF or code >= 0x20000
            or code in (0xB7, 0xD7))


def _looks_utf8_chinese(text: str | None) -> bool:
    """A value valid as UTF-8 whose non-ASCII characters are mostly CJK."""
    if text is None:
        return False
    chars = [c for c in text if ord(c) >= 0x80]
    return bool(chars) and sum(map(_cjk, chars)) >= PLAUSIBLE * len(chars)


def _mixed_records(values: list[_Values]) -> list[tuple[str, list[int], list[int]]]:
    """Per field: (raw name, first records in UTF-8, first records only GB18030), for files
    where both kinds occur; an empty list otherwise.

    A value is UTF-8 when it decodes strictly as UTF-8 into mostly CJK text, and GB18030 when
    it is not valid UTF-8 but decodes strictly as GB18030.
    """
    per_field, kinds = [], set()
    for field in values:
        utf8 = [i for i, t in enumerate(field.text["UTF-8"]) if _looks_utf8_chinese(t)]
        gb = [i for i, (u, g) in enumerate(zip(field.text["UTF-8"], field.text["GB18030"],
                                              strict=True)) if u is None and g is not None]
        kinds.update(["utf8"] if utf8 else [])
        kinds.update(["gb"] if gb else [])
        if utf8 or gb:
            per_field.append((field, utf8, gb))
    if kinds != {"utf8", "gb"}:
        return []
    return [(field, utf8, gb) for field, utf8, gb in per_field]


def _mixed_message(where, sample, mixed, declared) -> str:
    parts = []
    for field, utf8, gb in mixed:
        parts.append(f"field {_label_name(field.name, 'GB18030')!r}: "
                     f"{_records(field, utf8)} in UTF-8, {_records(field, gb)} in GBK/GB18030")
    sampled = _sampled(sample)
    head = (f"{where}: the text mixes encodings, so no one encoding reads every record "
            f"({sampled}): " + "; ".join(parts) + ". ")
    if declared is not None:
        return head + (f"It was decoded as {declared} (encoding= argument); the records in "
                       f"the other encoding are garbled. Re-export the layer in one encoding.")
    return head + ("Re-export the layer in one encoding (e.g. UTF-8, with a .cpg file saying "
                   "UTF-8); passing encoding=... reads it in one encoding where the bytes allow, "
                   "garbling the records in the other.")


def _records(field: _Values, indices: list[int]) -> str:
    """'3 records (e.g. 0, 2, 4)': how many sampled records hold these values, and which."""
    count = int(field.counts[indices].sum())
    rows = sorted(int(field.first[i]) for i in indices)[:3]
    noun = "record" if count == 1 else "records"
    return f"{count:,} {noun} (e.g. {', '.join(map(str, rows))})"


def _sampled(sample: DbfSample) -> str:
    n = len(sample.rows)
    if n == sample.n_records:
        return "the 1 record read" if n == 1 else f"all {n:,} records read"
    return f"{n:,} of {sample.n_records:,} records sampled"


def _label_name(raw: bytes, encoding: str) -> str:
    return _decode_name(raw, encoding) or raw.decode("latin-1")


def _evidence(sample, values, encoding, scores) -> str:
    """How sure: fields, counts and plausibility behind choosing ``encoding``."""
    if not values:
        text = f"only the field names hold non-ASCII bytes ({_sampled(sample)})"
        return text + (f"; {_share(scores, encoding)}" if encoding in scores else "")
    names = [_label_name(field.name, encoding) for field in values]
    n = sum(field.records for field in values)
    fields = f"{len(names)} field{'s' if len(names) != 1 else ''} ({', '.join(names)})"
    if encoding == "UTF-8":
        return f"all {n:,} non-ASCII values in {fields} are valid UTF-8 ({_sampled(sample)})"
    utf8 = sum(int(f.counts[[t is not None for t in f.text["UTF-8"]]].sum()) for f in values)
    also = "none as UTF-8" if not utf8 else f"{utf8:,} also as UTF-8 but not as Chinese text"
    text = (f"all {n:,} non-ASCII values in {fields} decode as {_LABELS[encoding]}, {also} "
            f"({_sampled(sample)}); {_share(scores, encoding)}")
    other = {"GB18030": "CP950", "CP950": "GB18030"}[encoding]
    if other in scores:
        text += f", against {_share(scores, other, short=True)} when read as {_LABELS[other]}"
    return text


def _share(scores, encoding, short=False) -> str:
    what = {"GB18030": "common simplified Chinese (GB2312)",
            "CP950": "common traditional Chinese (Big5 level 1)"}[encoding]
    return f"{scores[encoding]:.0%} {'' if short else 'of their characters are '}{what}"


def _example(values, sample, encoding, other) -> str:
    """'E.g. record 0 of 'DLMC' reads '…' as GB18030 and '…' as CP1252.' (or a field name)."""
    if values:
        field = values[0]
        i = int(np.argmin(field.first))
        raw = field.raw[i]
        what = f"record {int(field.first[i])} of {_label_name(field.name, encoding)!r}"
    else:
        raw = next(name for name in sample.names if max(name, default=0) >= 0x80)
        what = "a field name"
    this = raw.decode(encoding, errors="replace")
    that = raw.decode(other, errors="replace")
    return (f"E.g. {what} reads {_clip(this)!r} as {_LABELS.get(encoding, encoding)} and "
            f"{_clip(that)!r} as {_LABELS.get(other, other)}.")


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _undecidable_message(where, sample, values, guess) -> str:
    gb, big5 = guess.scores["GB18030"], guess.scores["CP950"]
    return (f"{where}: cannot tell whether the text is GB18030 (simplified) or Big5 "
            f"(traditional): it decodes as both, and only {gb:.0%} of its characters are common "
            f"simplified Chinese when read as GB18030, {big5:.0%} common traditional Chinese "
            f"when read as Big5 ({_sampled(sample)}). "
            f"{_example(values, sample, 'GB18030', 'CP950')} Pass encoding='GB18030' or "
            f"encoding='CP950' (the config's `encoding` key), or the code page the layer was "
            f"written in (e.g. 'CP1252'), or add a .cpg file naming it.")


def _single_byte(encoding: str) -> bool:
    """A code page in which every byte is one character (1252, ISO-8859-1 ...)."""
    if codecs.lookup(encoding).name.startswith("utf"):
        return False
    return len(bytes(range(0x80, 0x100)).decode(encoding, errors="replace")) == 128

def _failure_message(where, failure, encoding, origin) -> str:
    field, row, reason = failure
    if field == _FIELD_NAMES:
        at = "the field names"
    else:
        at = f"field {field!r}" + (f", record {row} (0-based)" if row is not None else "")
    return (f"{where}: cannot decode {at} as {encoding} ({origin}): {reason}. "
            f"Pass the right encoding, e.g. encoding='GB18030' or encoding='UTF-8', "
            f"or fix the file.")
