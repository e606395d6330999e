"""Read and validate element sets: TLE (2- and 3-line) and OMM (JSON, CSV, XML).

The representation
------------------
A file of element sets becomes one `ElementSets`: parallel per-satellite
lists and arrays of length ``S`` in file order (``satrecs[i]``,
``names[i]``, ``catalog_numbers[i]``, ``epoch_jd[i]`` describe the same
satellite).  Every ``Satrec`` is initialised with WGS72, the constants the
element sets were fitted with (AIAA 2006-6753, section 2); ``epoch_jd`` is
the full Julian date of each epoch in UTC (sgp4's ``jdsatepoch +
jdsatepochF``).  The raw lines are kept so that a run can record exactly the
elements it used.

Validation happens once, here, at the edge.  sgp4's compiled
``Satrec.twoline2rv`` reads fixed columns with ``sscanf`` and accepts almost
anything (``"26X50.3"`` as an epoch becomes year 2026, day 0), so each record
is checked column by column first, the way sgp4's pure-Python ``io.py`` does,
and every failure names the file, the 1-based line number, the bad value,
the rule and the fix, with the offending line and a caret under the columns.

Accepted TLE layouts: CelesTrak 3-line files (name line, line 1, line 2),
Space-Track "3le" name lines (``0 NAME``), 2-line files (no names), CRLF or
CR line endings, trailing blanks, blank lines, a UTF-8 byte-order mark, and
Hypatia's ``tles.txt`` (a first line of two integers, ``"72 22"`` = orbits
and satellites per orbit, which is skipped).

Strict and lenient mode
-----------------------
By default the first bad record raises `~leonet.errors.TLEFormatError` (or its
subclass `~leonet.errors.TLEChecksumError`).  With ``lenient=True`` a bad
record is skipped, counted in ``skipped`` and explained in ``problems``; the
reader resynchronises on the next line that starts with ``"1 "`` (taking the
line before it as its name when that is a name line).  A file in which no
record can be read raises in both modes.  A catalog number that occurs more
than once keeps its latest-epoch element set in both modes, with a note in
``problems`` (CelesTrak files normally have none).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sgp4.api import SGP4_ERRORS, WGS72, Satrec
from sgp4 import exporter as _sgp4_exporter
from sgp4 import omm as _sgp4_omm

from ..errors import InputFileError, TLEChecksumError, TLEFormatError
from ..inputs import excerpt, read_input_bytes

__all__ = [
    "ElementSets",
    "read_tle_file",
    "parse_tle_text",
    "read_omm_file",
    "read_elements",
    "compute_checksum",
    "verify_checksum",
    "fix_checksum",
    "epoch_age_days",
]

#: Characters in a TLE line: 68 columns of data and a checksum digit.
TLE_LINE_LENGTH = 69

_TLE_SUFFIXES = {".tle", ".txt", ".3le", ".2le", ".tles"}
_OMM_SUFFIXES = {".json", ".csv", ".xml"}

# bytes.translate table for the checksum: a digit counts its value, '-' counts
# one, everything else zero.  Summing the translated bytes runs in C, which
# keeps 20,000 checksums at a few milliseconds.
_CHECKSUM_TABLE = bytes(
    (c - 48) if 48 <= c <= 57 else (1 if c == 45 else 0) for c in range(256)
)

_DECIMAL_RE = re.compile(r" *[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+) *")
_CATALOG_RE = re.compile(r"[0-9 ]{4}[0-9]|[A-HJ-NP-Z][0-9]{4}")
_RIGHT_ALIGNED_RE = re.compile(r" *[0-9]*")
_LINE_BREAK_RE = re.compile(rb"\r\n|\r|\n")
_HYPATIA_HEADER_RE = re.compile(r"[0-9]+ +[0-9]+")

# Fast patterns for the standard layout (columns as in the Space-Track TLE
# documentation).  A line they match is well formed; a line they miss goes
# through the field-by-field checks, which either explain the problem or
# accept a legal variant (e.g. blanks for zeros).  Every numeric group here
# is also a valid Python float, which the range checks rely on.
_CAT = r"(?:[0-9]{5}|[A-HJ-NP-Z][0-9]{4})"
_D2 = r"(?:[0-9]{2}| [0-9])"
_D3 = r"(?:[0-9]{3}| [0-9]{2}|  [0-9])"
_EXP = r"[-+ ][0-9]{5}[-+ ][0-9]"


def _right_aligned(width: int, allow_blank: bool) -> str:
    """Pattern for a right-aligned counter of ``width`` columns (digits after blanks)."""
    blank = f"| {{{width}}}" if allow_blank else ""
    return "(?:" + "|".join(" " * k + f"[0-9]{{{width - k}}}" for k in range(width)) + blank + ")"


_LINE1_RE = re.compile(
    rf"1 {_CAT}[A-Z ] .{{8}} [0-9]{{2}}{_D3}\.[0-9]{{8}} [-+ ]\.[0-9]{{8}} {_EXP} {_EXP} [0-9 ] {_right_aligned(4, False)}"
)
_LINE2_RE = re.compile(
    rf"2 {_CAT} {_D3}\.[0-9]{{4}} {_D3}\.[0-9]{{4}} [0-9]{{7}} {_D3}\.[0-9]{{4}} {_D3}\.[0-9]{{4}} "
    rf"{_D2}\.[0-9]{{8}}{_right_aligned(5, True)}"
)


@dataclass(frozen=True, eq=False)  # eq=False: arrays and Satrecs have no useful ==
class ElementSets:
    """Element sets read from one file.

    Attributes
    ----------
    source : str
        The file path, or a label for text that came from elsewhere.
    names : list of str, [S]
        Satellite names from the name lines (Space-Track's leading ``"0 "``
        removed); for a 2-line file, the catalog number as text.
    catalog_numbers : int64[S]
        NORAD catalog numbers (alpha-5 ``"A1234"`` decoded to 101234).
    satrecs : list of sgp4.api.Satrec, [S]
        Initialised with WGS72.
    epoch_jd : float64[S], days, UTC
        Full Julian date of each element set's epoch.
    line1, line2 : list of str, [S]
        The TLE lines, right-stripped (generated with
        ``sgp4.exporter.export_tle`` for OMM input).
    skipped : int
        Records skipped in lenient mode.
    problems : list of str
        One teaching message per skipped record, plus one note per catalog
        number that occurred more than once.
    """

    source: str
    names: list[str]
    catalog_numbers: NDArray[np.int64]
    satrecs: list[Satrec]
    epoch_jd: NDArray[np.float64]
    line1: list[str]
    line2: list[str]
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.satrecs)

    def __repr__(self) -> str:
        return (
            f"ElementSets(source={self.source!r}, satellites={len(self)}, "
            f"skipped={self.skipped}, problems={len(self.problems)})"
        )


# --------------------------------------------------------------------------
# Checksums (the sgp4 ``io`` trio, with leonet's errors)
# --------------------------------------------------------------------------


def compute_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns of a TLE line.

    Digits count their value, ``'-'`` counts one, everything else zero.

    Examples
    --------
    >>> compute_checksum("1 44714U 19074B   26150.30936191  .00080211  00000+0  15180-2 0  999")
    5
    """
    data = line[:68].encode("ascii", "replace")
    return sum(data.translate(_CHECKSUM_TABLE)) % 10


def verify_checksum(line: str) -> None:
    """Raise `TLEChecksumError` when a TLE line's last digit is not its checksum.

    A line with no checksum column (68 characters or fewer after trailing
    blanks are removed) passes, as in sgp4's ``verify_checksum``.

    Raises
    ------
    leonet.errors.TLEChecksumError
        With the stated and the computed checksum and the line.
    """
    stripped = line.rstrip()
    if len(stripped) < TLE_LINE_LENGTH:
        return
    stated = stripped[68]
    computed = compute_checksum(stripped)
    if not stated.isdigit() or int(stated) != computed:
        raise TLEChecksumError(
            "<line>",
            f"the line gives its checksum as {stated!r} but its digits tally to {computed}; "
            f"fix the last digit (fix_checksum does) or re-download the file\n  {stripped}",
        )


def fix_checksum(line: str) -> str:
    """The line's first 68 columns (blank-padded) followed by the correct checksum.

    Examples
    --------
    >>> fix_checksum("1 44714U 19074B   26150.30936191  .00080211  00000+0  15180-2 0  9990")[-1]
    '5'
    """
    body = line.rstrip("\r\n")[:68].ljust(68)
    return body + str(compute_checksum(body))


def epoch_age_days(elements: ElementSets, jd_utc: float) -> NDArray[np.float64]:
    """Signed days from each element set's epoch to ``jd_utc``.

    Parameters
    ----------
    elements : ElementSets
    jd_utc : float
        Full Julian date, UTC.

    Returns
    -------
    age_days : float64[S], days
        Positive when ``jd_utc`` is after the epoch.  TLEs are generally
        accurate only for a week or two around their epoch (Skyfield docs).
    """
    return float(jd_utc) - np.asarray(elements.epoch_jd, dtype=np.float64)


# --------------------------------------------------------------------------
# TLE text
# --------------------------------------------------------------------------


class _RecordError(Exception):
    """One bad record: its line, message and the leonet error class to raise."""

    def __init__(self, line: int, message: str, cls: type[TLEFormatError] = TLEFormatError):
        super().__init__(message)
        self.line = line
        self.message = message
        self.cls = cls


def _caret(line: str, start: int, stop: int) -> str:
    """The line, indented, and a caret row under columns ``start:stop`` (0-based)."""
    stop = max(stop, start + 1)
    return f"\n  {line}\n  {' ' * start}{'^' * (stop - start)}"


def _is_tle_line(text: str) -> bool:
    return text.startswith("1 ") or text.startswith("2 ") or text in ("1", "2")


def _is_line1(text: str) -> bool:
    return text.startswith("1 ") or text == "1"


def _is_line2(text: str) -> bool:
    return text.startswith("2 ") or text == "2"


class _TextSource:
    """Lines of a text plus what is needed to locate a byte in the original file."""

    def __init__(self, text: str, raw: bytes | None):
        if text.startswith("\ufeff"):
            text = text[1:]
            self.bom = 3
        else:
            self.bom = 0
        self.raw = raw
        # Universal line endings (CRLF, CR, LF), as the file may come from anywhere.
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    def byte_offset(self, index: int, column: int) -> int | None:
        """Byte offset in the file of column ``column`` of line ``index`` (0-based)."""
        if self.raw is None:
            return None
        start = self.bom
        if index > 0:
            for k, match in enumerate(_LINE_BREAK_RE.finditer(self.raw)):
                if k == index - 1:
                    start = match.end()
                    break
        prefix = self.lines[index][:column]
        return start + len(prefix.encode("utf-8", "surrogateescape"))


def _check_characters(src: _TextSource, index: int, what: str) -> None:
    """Reject undecodable bytes anywhere and non-ASCII characters in TLE lines."""
    text = src.lines[index].rstrip()  # trailing blanks and tabs are allowed
    if text.isprintable() and (text.isascii() or what == "the name line"):
        return
    for column, char in enumerate(text):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            # surrogateescape keeps an undecodable byte as U+DC80+byte.
            byte = code - 0xDC00
            offset = src.byte_offset(index, column)
            where = f"byte offset {offset} of the file (column {column + 1})" if offset is not None else f"column {column + 1}"
            raise _RecordError(
                index + 1,
                f"{what} holds the byte 0x{byte:02X} at {where}, which is not valid UTF-8; "
                "element-set files are plain ASCII, so the file is damaged or in another "
                "encoding: re-download it or convert it to ASCII/UTF-8\n  "
                + _shown(text),
            )
        if (code > 126 or code < 32) and what != "the name line" or (code < 32 and char != "\t"):
            raise _RecordError(
                index + 1,
                f"{what} holds the character {char!r} (U+{code:04X}) at column {column + 1}; "
                "TLE lines are printable ASCII only: retype the line or re-download the file\n  "
                + _shown(text),
            )


#: Width of a TLE name line ("line 0": 24 characters, CelesTrak's format
#: documentation); longer text is not a name and is quoted only this far.
NAME_LINE_CHARS = 24


def _name(text: str) -> str:
    """A name line (or a line that should have been one) as messages quote it."""
    return excerpt(text, NAME_LINE_CHARS)


def _shown(text: str) -> str:
    """A line of the file as a message quotes it.

    A TLE line (``"1 "``/``"2 "``, at most 80 columns) is shown whole, with
    undecodable bytes and control characters escaped; anything else -- a name
    line, a line of a file that is not an element set at all -- only as an
    `~leonet.inputs.excerpt` (`NAME_LINE_CHARS` printable characters; 80 for an overlong TLE
    line), so a file given by mistake is not echoed.
    """
    if _is_tle_line(text):
        return _printable(text) if len(text) <= 80 else excerpt(text, 80)
    return _name(text)


def _printable(text: str) -> str:
    """The line with undecodable bytes (``\\xE9``) and control characters escaped, at most 200 columns."""
    out = []
    for char in text[:200]:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02X}")
        elif code < 32 or code == 127 or 0xD800 <= code <= 0xDFFF:
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)


def _describe(name: str | None, catalog: str | None) -> str:
    if name:
        return _name(name)
    if catalog:
        return f"catalog number {catalog.strip()}"
    return "the record"


def _validate_line1(text: str, who: str, number: int, strict_checksum: bool) -> None:
    _check_length(text, "line 1", who, number, strict_checksum)
    if _LINE1_RE.fullmatch(text, 0, 68) is None:
        _diagnose_line1(text, who, number)
    day = float(text[20:32])
    if not 0.0 <= day < 367.0:
        raise _RecordError(
            number,
            f"line 1 of {who} gives the epoch day of year as {day}, outside 0 to 366.99999999; "
            "columns 21-32 hold the day and its fraction (e.g. 150.30936191)" + _caret(text, 20, 32),
        )


def _diagnose_line1(text: str, who: str, number: int) -> None:
    """Field-by-field checks of a line 1 that the fast pattern did not match."""
    # Separators and decimal points, as sgp4's pure-Python io.twoline2rv checks them.
    for column, char, field_name in (
        (8, " ", "the catalog number/classification and the international designator"),
        # sgp4's compiled reader tokenises on blanks: a character here merges
        # the designator with the epoch and shifts every later field.
        (17, " ", "the international designator and the epoch"),
        (23, ".", "the epoch's day of year (YYDDD.DDDDDDDD has its point in column 24)"),
        (32, " ", "the epoch and the first derivative of mean motion"),
        (34, ".", "the first derivative of mean motion (its point is in column 35)"),
        (43, " ", "the first and second derivatives of mean motion"),
        (52, " ", "the second derivative of mean motion and BSTAR"),
        (61, " ", "BSTAR and the ephemeris type"),
        (63, " ", "the ephemeris type and the element set number"),
    ):
        _check_separator(text, column, char, field_name, "line 1", who, number)
    _check_catalog(text, "line 1", who, number)
    _check_decimal(text, 18, 20, "epoch year (two digits)", "line 1", who, number, digits_only=True)
    _check_decimal(text, 20, 32, "epoch day of year", "line 1", who, number)
    _check_decimal(text, 33, 43, "first derivative of mean motion", "line 1", who, number)
    _check_exponent(text, 44, 52, "second derivative of mean motion", who, number)
    _check_exponent(text, 53, 61, "BSTAR drag term", who, number)
    if text[62] not in " 0123456789":
        raise _RecordError(
            number,
            f"line 1 of {who} gives the ephemeris type (column 63) as {text[62]!r}; it must be a digit "
            "(0 for SGP4 element sets)" + _caret(text, 62, 63),
        )
    _check_digits(text, 64, 68, "element set number", "line 1", who, number)


def _validate_line2(text: str, who: str, number: int, strict_checksum: bool) -> None:
    _check_length(text, "line 2", who, number, strict_checksum)
    if _LINE2_RE.fullmatch(text, 0, 68) is None:
        _diagnose_line2(text, who, number)
    for start, stop, label, high in _LINE2_ANGLES:
        value = float(text[start:stop])
        if not 0.0 <= value <= high:
            raise _RecordError(
                number,
                f"line 2 of {who} gives the {label} as {value}, outside 0 to {high:g}; "
                f"columns {start + 1}-{stop} must hold an angle in that range" + _caret(text, start, stop),
            )
    motion = float(text[52:63])
    if not motion > 0.0:
        raise _RecordError(
            number,
            f"line 2 of {who} gives the mean motion as {motion} revolutions per day; it must be "
            "positive (a LEO satellite makes about 15 per day)" + _caret(text, 52, 63),
        )


_LINE2_ANGLES = (
    (8, 16, "inclination (degrees)", 180.0),
    (17, 25, "right ascension of the ascending node (degrees)", 360.0),
    (34, 42, "argument of perigee (degrees)", 360.0),
    (43, 51, "mean anomaly (degrees)", 360.0),
)


def _diagnose_line2(text: str, who: str, number: int) -> None:
    """Field-by-field checks of a line 2 that the fast pattern did not match."""
    for column, char, field_name in (
        (7, " ", "the catalog number and the inclination"),
        (11, ".", "the inclination (its point is in column 12)"),
        (16, " ", "the inclination and the right ascension of the ascending node"),
        (20, ".", "the right ascension of the ascending node (its point is in column 21)"),
        (25, " ", "the right ascension of the ascending node and the eccentricity"),
        (33, " ", "the eccentricity and the argument of perigee"),
        (37, ".", "the argument of perigee (its point is in column 38)"),
        (42, " ", "the argument of perigee and the mean anomaly"),
        (46, ".", "the mean anomaly (its point is in column 47)"),
        (51, " ", "the mean anomaly and the mean motion"),
    ):
        _check_separator(text, column, char, field_name, "line 2", who, number)
    _check_catalog(text, "line 2", who, number)
    for start, stop, label, _high in _LINE2_ANGLES:
        _check_decimal(text, start, stop, label, "line 2", who, number)
    _check_digits(text, 26, 33, "eccentricity (seven digits after an implied '0.')", "line 2", who, number)
    _check_decimal(text, 52, 63, "mean motion (revolutions per day)", "line 2", who, number)
    _check_digits(text, 63, 68, "revolution number at epoch", "line 2", who, number)


def _check_length(text: str, label: str, who: str, number: int, strict_checksum: bool) -> None:
    length = len(text)
    if length == TLE_LINE_LENGTH or (length == TLE_LINE_LENGTH - 1 and not strict_checksum):
        return
    if length == TLE_LINE_LENGTH - 1:
        fix = (
            "its checksum column (69) is missing: add it (fix_checksum does) or read the file "
            "with strict_checksum=False"
        )
    elif length < TLE_LINE_LENGTH:
        fix = "the line was cut short: re-download the file, or check that no columns were lost in an editor"
    else:
        fix = "it has extra characters: check that no columns were added (tabs, pasted text) and re-download"
    raise _RecordError(
        number,
        f"{label} of {who} is {length} characters long, but a TLE line has {TLE_LINE_LENGTH} columns "
        f"(68 of data and a checksum digit); {fix}\n  {_shown(text)}",
    )


def _check_separator(text: str, column: int, char: str, between: str, label: str, who: str, number: int) -> None:
    if text[column] != char:
        kind = "a blank" if char == " " else f"{char!r}"
        place = "separating " + between if char == " " else "in " + between
        raise _RecordError(
            number,
            f"{label} of {who} has {text[column]!r} at column {column + 1}, which must be {kind} {place}; "
            "the fields have shifted: check that no column was added or removed" + _caret(text, column, column + 1),
        )


def _check_catalog(text: str, label: str, who: str, number: int) -> None:
    value = text[2:7]
    if not _CATALOG_RE.fullmatch(value):
        raise _RecordError(
            number,
            f"{label} of {who} gives the catalog number (columns 3-7) as {value!r}; it must be five digits "
            "(e.g. 44714) or an alpha-5 number (a letter other than I or O and four digits, e.g. A1234)"
            + _caret(text, 2, 7),
        )


def _check_decimal(
    text: str, start: int, stop: int, label: str, line_label: str, who: str, number: int, digits_only: bool = False
) -> float:
    value = text[start:stop]
    ok = (value.isdigit() and value.isascii()) if digits_only else bool(_DECIMAL_RE.fullmatch(value))
    if not ok:
        raise _RecordError(
            number,
            f"{line_label} of {who} gives the {label} (columns {start + 1}-{stop}) as {value!r}, which is not a "
            "number; fix the field or re-download the file" + _caret(text, start, stop),
        )
    return float(value)


def _check_digits(text: str, start: int, stop: int, label: str, line_label: str, who: str, number: int) -> None:
    """Digits and blanks; for counters (not the eccentricity) the digits must be right-aligned."""
    value = text[start:stop]
    ok = all(c in " 0123456789" for c in value)
    if ok and "eccentricity" not in label:
        # sgp4's compiled reader splits fields at blanks: '9 9' would be read as 9.
        ok = _RIGHT_ALIGNED_RE.fullmatch(value) is not None
        if "element set number" in label and not value.strip():
            ok = False  # sgp4's io.twoline2rv requires a number here
    if not ok:
        raise _RecordError(
            number,
            f"{line_label} of {who} gives the {label} (columns {start + 1}-{stop}) as {value!r}; it may hold only "
            "digits, right-aligned after any blanks: fix the field or re-download the file" + _caret(text, start, stop),
        )


def _check_exponent(text: str, start: int, stop: int, label: str, who: str, number: int) -> None:
    # Format "SMMMMMSE": sign, five mantissa digits after an implied point, signed exponent.
    value = text[start:stop]
    sign, mantissa, exp_sign, exponent = value[0], value[1:6], value[6], value[7]
    if not (
        sign in " +-"
        and mantissa.isdigit()
        and mantissa.isascii()
        and exp_sign in " +-"
        and exponent in "0123456789"
    ):
        raise _RecordError(
            number,
            f"line 1 of {who} gives the {label} (columns {start + 1}-{stop}) as {value!r}; it must look like "
            "' 12345-4' (sign, five digits after an implied decimal point, signed exponent digit), "
            "with no blanks inside"
            + _caret(text, start, stop),
        )


def _parse_record(
    name: str | None,
    text1: str,
    text2: str,
    n1: int,
    n2: int,
    strict_checksum: bool,
) -> Satrec:
    """Validate one record and build its Satrec; raises `_RecordError`."""
    catalog = text1[2:7] if len(text1) >= 7 else None
    who = _describe(name, catalog)
    _validate_line1(text1, who, n1, strict_checksum)
    _validate_line2(text2, who, n2, strict_checksum)
    if strict_checksum:
        for text, number, label in ((text1, n1, "line 1"), (text2, n2, "line 2")):
            stated = text[68]
            computed = sum(text[:68].encode("ascii").translate(_CHECKSUM_TABLE)) % 10
            if not stated.isdigit() or int(stated) != computed:
                raise _RecordError(
                    number,
                    f"{label} of {who} gives its checksum as {stated!r} but its digits tally to {computed}; "
                    f"fix the last digit or re-download the file\n  {text}",
                    TLEChecksumError,
                )
    if text1[2:7] != text2[2:7]:
        raise _RecordError(
            n2,
            f"line 2 of {who} gives the catalog number {text2[2:7].strip()!r} but line 1 "
            f"(line {n1}) gives {text1[2:7].strip()!r}; the two lines belong to different satellites "
            f"(a line is missing or lines were mixed up): re-download the file\n  {text1}\n  {text2}",
        )
    satrec = Satrec.twoline2rv(text1, text2, WGS72)
    if satrec.error:
        raise _RecordError(
            n2,
            f"sgp4 rejects the elements of {who}: {SGP4_ERRORS.get(satrec.error, satrec.error)} "
            f"(error {satrec.error}); the element set is not usable, re-download it\n  {text1}\n  {text2}",
        )
    return satrec


def _problem_text(source: str, err: _RecordError) -> str:
    return str(err.cls(source, err.message, line=err.line))


def _parse_lines(src: _TextSource, source: str, lenient: bool, strict_checksum: bool) -> ElementSets:
    lines = [line.rstrip() for line in src.lines]
    # Indices of non-blank lines; blank lines (e.g. the final one) are ignored.
    order = [i for i, line in enumerate(lines) if line]
    if order and _HYPATIA_HEADER_RE.fullmatch(lines[order[0]]) and not _is_tle_line(lines[order[0]]):
        # Hypatia's tles.txt starts with "<orbits> <satellites per orbit>".
        if len(order) == 1 or not _is_line1(lines[order[1]]):
            order = order[1:]
    if not order:
        raise TLEFormatError(
            source,
            "contains no element sets (the file is empty or blank); expected TLE records "
            "(an optional name line, then line 1 and line 2 of 69 columns each)",
        )

    names: list[str] = []
    satrecs: list[Satrec] = []
    line1s: list[str] = []
    line2s: list[str] = []
    first_lines: list[int] = []
    problems: list[str] = []
    errors: list[_RecordError] = []

    k = 0
    count = len(order)
    while k < count:
        start = k
        try:
            k, name, t1, t2, n1, n2 = _next_record(src, lines, order, k)
            satrec = _parse_record(name, t1, t2, n1, n2, strict_checksum)
        except _RecordError as err:
            if not lenient:
                raise err.cls(source, err.message, line=err.line) from None
            errors.append(err)
            k = _resynchronise(lines, order, start)
            first, last = order[start] + 1, order[k - 1] + 1
            span = f"line {first}" if first == last else f"lines {first}-{last}"
            problems.append(f"{_problem_text(source, err)}\n  (lenient mode skipped {span})")
            continue
        names.append(name if name is not None else satrec.satnum_str.strip())
        satrecs.append(satrec)
        line1s.append(t1)
        line2s.append(t2)
        first_lines.append(n1)

    if not satrecs:
        first = errors[0]
        raise first.cls(
            source,
            f"{first.message}\n(no record in the file could be read; lenient mode skipped all "
            f"{len(errors)} of them and this was the first problem)",
            line=first.line,
        )
    return _assemble(source, names, satrecs, line1s, line2s, first_lines, len(errors), problems)


def _next_record(src: _TextSource, lines: list[str], order: list[int], k: int):
    """Read the record starting at ``order[k]``: (next k, name, line1, line2, n1, n2)."""
    i = order[k]
    text = lines[i]
    name = None
    if not _is_tle_line(text):
        _check_characters(src, i, "the name line")
        name = text[2:].strip() if text.startswith("0 ") else text.strip()
        if k + 1 >= len(order):
            raise _RecordError(
                i + 1,
                f"the file ends after the name line {_name(name)!r}; each name line must be followed by "
                "line 1 and line 2 of its element set (was the file cut short?)",
            )
        k += 1
        i = order[k]
        text = lines[i]
        if not _is_tle_line(text):
            raise _RecordError(
                i + 1,
                f"the name line {_name(name)!r} (line {order[k - 1] + 1}) is followed by another name line "
                f"{_name(text)!r} instead of line 1 of its element set; lines 1 and 2 of {_name(name)} are missing",
            )
        if _is_line2(text):
            raise _RecordError(
                i + 1,
                f"line 1 of {_name(name)} is missing: its name line (line {order[k - 1] + 1}) is followed "
                f"directly by line 2\n  {_shown(text)}",
            )
    elif _is_line2(text):
        raise _RecordError(
            i + 1,
            "found line 2 of an element set with no line 1 before it; each record is an "
            f"optional name line, then line 1, then line 2\n  {_shown(text)}",
        )
    n1 = i + 1
    line1 = text
    _check_characters(src, i, f"line 1 of {_describe(name, None)}")
    who = _describe(name, line1[2:7] if len(line1) >= 7 else None)
    if k + 1 >= len(order):
        raise _RecordError(n1, f"the file ends after line 1 of {who}; its line 2 is missing\n  {_shown(line1)}")
    k += 1
    i = order[k]
    text = lines[i]
    if not _is_line2(text):
        found = "another line 1" if _is_line1(text) else f"{_name(text)!r}"
        raise _RecordError(
            i + 1,
            f"line 2 of {who} is missing: its line 1 (line {n1}) is followed by {found}\n  {_shown(line1)}\n  {_shown(text)}",
        )
    _check_characters(src, i, f"line 2 of {who}")
    return k + 1, name, line1, text, n1, i + 1


def _resynchronise(lines: list[str], order: list[int], start: int) -> int:
    """Position of the next record after a bad one starting at ``order[start]``.

    The next line 1 after the bad record's own line 1, or the name line just
    before it.
    """
    skip_from = start
    if not _is_tle_line(lines[order[start]]) and start + 1 < len(order) and _is_line1(lines[order[start + 1]]):
        skip_from = start + 1  # the bad record's own line 1
    for j in range(skip_from + 1, len(order)):
        if _is_line1(lines[order[j]]):
            if j - 1 > skip_from and not _is_tle_line(lines[order[j - 1]]):
                return j - 1
            return j
    return len(order)


def _assemble(
    source: str,
    names: list[str],
    satrecs: list[Satrec],
    line1s: list[str],
    line2s: list[str],
    first_lines: list[int] | None,
    skipped: int,
    problems: list[str],
) -> ElementSets:
    """Build ElementSets, keeping the latest epoch of duplicated catalog numbers."""
    catalog = np.fromiter((s.satnum for s in satrecs), dtype=np.int64, count=len(satrecs))
    epoch = np.fromiter((s.jdsatepoch + s.jdsatepochF for s in satrecs), dtype=np.float64, count=len(satrecs))
    unique, counts = np.unique(catalog, return_counts=True)
    if np.any(counts > 1):
        keep = np.ones(len(satrecs), dtype=bool)
        for number in unique[counts > 1]:
            members = np.flatnonzero(catalog == number)
            # Latest epoch wins; on a tie, the later record in the file.
            best = members[np.lexsort((members, epoch[members]))[-1]]
            keep[members] = False
            keep[best] = True
            where = (
                ", ".join(f"line {first_lines[m]}" for m in members) if first_lines else f"{len(members)} records"
            )
            when = _jd_to_iso(epoch[best])
            kept = f"line {first_lines[best]}" if first_lines else f"record {best + 1}"
            problems.append(
                f"{source}: catalog number {number} ({_name(names[best])}) occurs {len(members)} times ({where}); "
                f"kept the element set with the latest epoch ({kept}, epoch {when} UTC)"
            )
        idx = np.flatnonzero(keep)
        names = [names[i] for i in idx]
        satrecs = [satrecs[i] for i in idx]
        line1s = [line1s[i] for i in idx]
        line2s = [line2s[i] for i in idx]
        catalog = catalog[idx]
        epoch = epoch[idx]
    return ElementSets(
        source=source,
        names=names,
        catalog_numbers=catalog,
        satrecs=satrecs,
        epoch_jd=epoch,
        line1=line1s,
        line2=line2s,
        skipped=skipped,
        problems=problems,
    )


def _jd_to_iso(jd: float) -> str:
    when = dt.datetime(2000, 1, 1, 12, tzinfo=dt.timezone.utc) + dt.timedelta(days=float(jd) - 2451545.0)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def parse_tle_text(
    text: str,
    *,
    source: str = "<text>",
    lenient: bool = False,
    strict_checksum: bool = True,
) -> ElementSets:
    """Parse TLE records from a string.

    Parameters
    ----------
    text : str
        The file contents (3-line, 2-line or Hypatia ``tles.txt`` layout).
    source : str
        Label used in error messages and stored in ``ElementSets.source``.
    lenient : bool
        Skip bad records (counted and explained) instead of raising.
    strict_checksum : bool
        Verify each line's checksum digit.  With ``False`` mismatches are
        ignored and 68-column lines (no checksum) are accepted.

    Returns
    -------
    ElementSets

    Raises
    ------
    leonet.errors.TLEFormatError
        A malformed record (strict mode), an empty text, or a text in which no
        record can be read (lenient mode).
    leonet.errors.TLEChecksumError
        A checksum mismatch (strict mode, ``strict_checksum=True``).

    Examples
    --------
    >>> sets = parse_tle_text('''STARLINK-1008
    ... 1 44714U 19074B   26150.30936191  .00080211  00000+0  15180-2 0  9995
    ... 2 44714  53.1513 154.1788 0003034  54.2939 305.8351 15.47704531361446
    ... ''')
    >>> len(sets), sets.names[0], int(sets.catalog_numbers[0])
    (1, 'STARLINK-1008', 44714)
    """
    if not isinstance(text, str):
        raise TLEFormatError(source, f"expected the TLE text as a str, got {type(text).__name__}")
    return _parse_lines(_TextSource(text, None), source, lenient, strict_checksum)


def _read_bytes(path: str | os.PathLike) -> tuple[Path, bytes]:
    """The file's bytes; a FIFO, device, socket or directory is refused before it is read."""
    path = Path(path)
    raw = read_input_bytes(
        path,
        "an element-set file (TLE or OMM)",
        "no such file; check the path (relative paths start at the current directory)",
    )
    return path, raw


def _decode(raw: bytes, source: str, lenient: bool) -> str:
    """Decode UTF-8, turning a bad byte into an error with its line and offset."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if lenient:
            # Bad bytes survive as U+DC80..U+DCFF; the record holding them is skipped.
            return raw.decode("utf-8", "surrogateescape")
        before = raw[: exc.start]
        line = len(_LINE_BREAK_RE.findall(before)) + 1
        line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
        column = exc.start - line_start + 1
        bad = raw[exc.start]
        end = raw.find(b"\n", exc.start)
        shown = raw[line_start : end if end >= 0 else len(raw)].rstrip(b"\r")
        raise TLEFormatError(
            source,
            f"the byte 0x{bad:02X} at byte offset {exc.start} (column {column}) is not valid UTF-8; "
            "element-set files are plain ASCII, so the file is damaged or in another encoding: "
            f"re-download it or convert it to ASCII\n  {_shown(shown.decode('utf-8', 'surrogateescape'))}",
            line=line,
        ) from None


def read_tle_file(
    path: str | os.PathLike,
    *,
    lenient: bool = False,
    strict_checksum: bool = True,
) -> ElementSets:
    """Read a TLE file (CelesTrak 3-line, 2-line, or Hypatia ``tles.txt``).

    Parameters
    ----------
    path : str or path-like
    lenient, strict_checksum : bool
        As in `parse_tle_text`.

    Returns
    -------
    ElementSets
        ``source`` is ``str(path)``.

    Raises
    ------
    leonet.errors.InputFileError
        The path is missing, not a file, or unreadable.
    leonet.errors.TLEFormatError, leonet.errors.TLEChecksumError
        As in `parse_tle_text`; bytes that are not UTF-8 are reported with
        their line and byte offset.

    Notes
    -----
    Reading CelesTrak's 10,395-satellite Starlink file takes about 0.2 s
    (validation ~60 %, ``Satrec.twoline2rv`` the rest).
    """
    path, raw = _read_bytes(path)
    return _tle_from_bytes(path, raw, lenient, strict_checksum)


def _tle_from_bytes(path: Path, raw: bytes, lenient: bool, strict_checksum: bool = True) -> ElementSets:
    source = str(path)
    text = _decode(raw, source, lenient)
    return _parse_lines(_TextSource(text, raw), source, lenient, strict_checksum)


# --------------------------------------------------------------------------
# OMM (CCSDS Orbit Mean-Elements Message) via sgp4.omm
# --------------------------------------------------------------------------

_OMM_REQUIRED = (
    "NORAD_CAT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER", "MEAN_ANOMALY", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT",
)
_OMM_DEFAULTS = {
    "CLASSIFICATION_TYPE": "U",
    "OBJECT_ID": "",
    "EPHEMERIS_TYPE": "0",
    "ELEMENT_SET_NO": "999",
    "REV_AT_EPOCH": "0",
}


def _omm_records(text: str, source: str, kind: str) -> list[tuple[dict, int | None]]:
    """(fields, 1-based line or None) for each OMM record."""
    if kind == "json":
        try:
            data = json.loads(text)
        except RecursionError:
            raise InputFileError(source, "holds JSON nested too deeply to be OMM; re-download the file") from None
        except json.JSONDecodeError as exc:
            raise InputFileError(
                source, f"is not valid JSON ({exc.msg} at column {exc.colno}); re-download the OMM file", line=exc.lineno
            ) from None
        except ValueError as exc:  # an integer of more than 4300 digits (Python's int limit)
            raise InputFileError(
                source, f"holds a number JSON cannot read ({excerpt(str(exc), 80)}); re-download the OMM file"
            ) from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputFileError(
                source, "holds JSON that is not a list of OMM records (objects with NORAD_CAT_ID, EPOCH, ...)"
            )
        return [(r, None) for r in data]
    if kind == "csv":
        try:
            reader = _sgp4_omm.parse_csv(io.StringIO(text))
            rows = []
            for row in reader:
                rows.append((row, reader.line_num))
        except csv.Error as exc:
            raise InputFileError(source, f"is not valid CSV: {excerpt(str(exc), 80)}") from None
        return rows
    try:
        return [(r, None) for r in _sgp4_omm.parse_xml(io.StringIO(text))]
    except (ET.ParseError, AttributeError, TypeError, LookupError, ValueError) as exc:
        line = getattr(exc, "position", (None,))[0]
        raise InputFileError(
            source, f"is not a readable OMM XML file ({excerpt(str(exc), 80)}); expected CCSDS NDM/OMM segments", line=line
        ) from None


def _omm_satrec(fields: dict, index: int, line: int | None, source: str) -> tuple[str, Satrec, str, str]:
    name = str(fields.get("OBJECT_NAME") or f"record {index + 1}")
    label = excerpt(name)  # for messages; the name itself is kept whole
    missing = [k for k in _OMM_REQUIRED if fields.get(k) in (None, "")]
    if missing:
        raise _RecordError(
            line or 0,
            f"OMM record {index + 1} ({label}) lacks {', '.join(missing)}; every record needs "
            f"{', '.join(_OMM_REQUIRED)}: re-download the file",
        )
    values = {k: ("" if v is None else str(v)) for k, v in fields.items()}
    _check_omm_numbers(values, index, label, line)
    for key, default in _OMM_DEFAULTS.items():
        if not values.get(key):
            values[key] = default
    epoch = values["EPOCH"].strip().rstrip("Z")
    if "." not in epoch:
        epoch += ".0"
    values["EPOCH"] = epoch
    satrec = Satrec()
    try:
        _sgp4_omm.initialize(satrec, values)
        line1, line2 = _sgp4_exporter.export_tle(satrec)
    except (ValueError, TypeError, KeyError) as exc:
        raise _RecordError(
            line or 0,
            f"OMM record {index + 1} ({label}) has a field that cannot be read: {excerpt(str(exc), 80)}; check its values "
            f"(EPOCH like 2026-05-30T07:25:29.069 and plain numbers elsewhere)",
        ) from None
    # The record must also be representable as a TLE (line1/line2 are kept):
    # the generated lines go through the same checks as a TLE file's.
    try:
        _validate_line1(line1, label, line or 0, True)
        _validate_line2(line2, label, line or 0, True)
    except _RecordError as err:
        raise _RecordError(
            line or 0,
            f"OMM record {index + 1} ({label}) cannot be written as a TLE, so one of its values is out of "
            f"the TLE's range: {err.message}",
        ) from None
    if satrec.error:
        raise _RecordError(
            line or 0,
            f"sgp4 rejects the elements of OMM record {index + 1} ({label}): "
            f"{SGP4_ERRORS.get(satrec.error, satrec.error)} (error {satrec.error})",
        )
    return name, satrec, line1, line2


_OMM_RANGES = {
    # field: (low, high, high inclusive)
    "INCLINATION": (0.0, 180.0, True),
    "RA_OF_ASC_NODE": (0.0, 360.0, False),
    "ARG_OF_PERICENTER": (0.0, 360.0, False),
    "MEAN_ANOMALY": (0.0, 360.0, False),
    "ECCENTRICITY": (0.0, 1.0, False),
    "MEAN_MOTION": (0.0, math.inf, False),
}


def _check_omm_numbers(values: dict, index: int, label: str, line: int | None) -> None:
    """Every numeric OMM field finite, and the angles, eccentricity and mean motion in range."""
    for key in _OMM_REQUIRED:
        if key in ("EPOCH", "NORAD_CAT_ID"):
            continue
        text = values[key].strip()
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise _RecordError(
                line or 0,
                f"OMM record {index + 1} ({label}) gives {key} as {excerpt(text)!r}; it must be a finite number",
            )
        if key in _OMM_RANGES:
            low, high, inclusive = _OMM_RANGES[key]
            ok = low <= number <= high if inclusive else low <= number < high
            if key == "MEAN_MOTION":
                ok = number > 0.0
            if not ok:
                rule = "positive (revolutions per day)" if key == "MEAN_MOTION" else (
                    f"in {low:g}..{high:g}" + ("" if inclusive else " (exclusive)")
                )
                raise _RecordError(
                    line or 0, f"OMM record {index + 1} ({label}) gives {key} as {number}; it must be {rule}"
                )
    catalog = values["NORAD_CAT_ID"].strip()
    # The length first: int() of more than 4300 digits raises ValueError.
    if not (catalog.isdigit() and catalog.isascii() and len(catalog) <= 6 and int(catalog) <= 339_999):
        raise _RecordError(
            line or 0,
            f"OMM record {index + 1} ({label}) gives NORAD_CAT_ID as {excerpt(catalog)!r}; it must be a whole number "
            "from 0 to 339999 (the largest a TLE can carry, as alpha-5 'Z9999')",
        )


def _sniff(text: str) -> str:
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    if head.startswith(("[", "{")):
        return "json"
    if head.startswith("<"):
        return "xml"
    first = head.split("\n", 1)[0]
    if "," in first and ("NORAD_CAT_ID" in first or "OBJECT_NAME" in first):
        return "csv"
    return "tle"


def read_omm_file(path: str | os.PathLike, *, lenient: bool = False) -> ElementSets:
    """Read an OMM file (CelesTrak/Space-Track JSON, CSV or XML).

    The format follows the extension (``.json``, ``.csv``, ``.xml``), else
    the content.  Records are parsed with ``sgp4.omm`` and initialised with
    WGS72; ``line1``/``line2`` are generated with
    ``sgp4.exporter.export_tle``.

    Raises
    ------
    leonet.errors.InputFileError
        Missing file, unreadable content, a record lacking a field, or (in
        lenient mode) no readable record.  ``line`` is set for CSV rows.
    """
    path, raw = _read_bytes(path)
    return _omm_from_bytes(path, raw, lenient)


def _omm_from_bytes(path: Path, raw: bytes, lenient: bool) -> ElementSets:
    source = str(path)
    text = _decode(raw, source, lenient)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("json", "csv", "xml"):
        kind = _sniff(text)
        if kind == "tle":
            raise InputFileError(
                source, "does not look like OMM (JSON, CSV or XML); for TLE text use read_tle_file"
            )
    records = _omm_records(text.lstrip("\ufeff"), source, kind)
    if not records:
        raise InputFileError(source, "contains no element sets (no OMM records)")
    names, satrecs, line1s, line2s, problems = [], [], [], [], []
    errors: list[_RecordError] = []
    for index, (fields, line) in enumerate(records):
        try:
            label, satrec, line1, line2 = _omm_satrec(fields, index, line, source)
        except _RecordError as err:
            located = InputFileError(source, err.message, line=err.line or None)
            if not lenient:
                raise located from None
            errors.append(err)
            problems.append(str(located))
            continue
        names.append(label)
        satrecs.append(satrec)
        line1s.append(line1)
        line2s.append(line2)
    if not satrecs:
        first = errors[0]
        raise InputFileError(
            source, f"{first.message}\n(no record could be read; this was the first of {len(errors)} problems)",
            line=first.line or None,
        )
    return _assemble(source, names, satrecs, line1s, line2s, None, len(errors), problems)


def read_elements(path: str | os.PathLike, *, lenient: bool = False) -> ElementSets:
    """Read element sets from a TLE or OMM file, choosing the reader.

    ``.tle .txt .3le .2le`` read as TLE; ``.json .csv .xml`` as OMM; other
    names by content (``[``/``{`` JSON, ``<`` XML, a CSV header naming
    ``NORAD_CAT_ID``, else TLE).
    """
    suffix = Path(path).suffix.lower()
    if suffix in _TLE_SUFFIXES:
        return read_tle_file(path, lenient=lenient)
    if suffix in _OMM_SUFFIXES:
        return read_omm_file(path, lenient=lenient)
    # Read once: the content chooses the reader.
    file_path, raw = _read_bytes(path)
    kind = _sniff(raw[:4000].decode("utf-8", "replace"))
    if kind == "tle":
        return _tle_from_bytes(file_path, raw, lenient)
    return _omm_from_bytes(file_path, raw, lenient)
