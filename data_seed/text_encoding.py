"""Turning a file's bytes into text in a declared encoding, and saying exactly which bytes are not text.

An extract is decoded as a whole before any CSV reader sees it. A byte that is not valid in
the encoding does not stop the decoding: it becomes a marker character (one per byte, in a
private-use block no real extract contains), so the CSV can still be split into records and
fields and each bad byte reported with its row, its column and its value ('byte 0xe9').
"""

from __future__ import annotations

import codecs
import re

# Encodings an operator's extract comes in: Unicode (Excel's "CSV UTF-8" has a byte order
# mark, its "Unicode text" is UTF-16) and the Windows code pages of Vietnamese and Western
# European systems. Keyed by Python's canonical codec name, valued by the name to show.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "cp1258": "windows-1258",
    "cp1252": "windows-1252",
}
# A byte order mark is unambiguous: no CSV header starts with "ï»¿" or "ÿþ" in a code page.
BYTE_ORDER_MARKS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
UNICODE = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be")

MARK_BASE = 0x10FE00  # bad byte b becomes chr(MARK_BASE + b)
MARKED = re.compile("[\U0010fe00-\U0010feff]+")
MARK_BAD_BYTES = "data_seed.mark_bad_bytes"


def _mark_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(MARK_BASE + byte) for byte in bad), error.end


# A pure function of the error, so registering it once, process-wide, is safe.
codecs.register_error(MARK_BAD_BYTES, _mark_bad_bytes)


def canonical_encoding(name: str) -> str | None:
    """Python's name for an encoding the importer reads ('windows-1258' → 'cp1258'); None otherwise."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return canonical if canonical in ENCODINGS else None


def shown_encoding(name: str) -> str:
    return ENCODINGS.get(canonical_encoding(name) or name, name)


def byte_order_mark(data: bytes) -> str | None:
    """The encoding a leading byte order mark announces, or None."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return encoding
    return None


def decode_marking(data: bytes, encoding: str) -> str:
    """``data`` as text; every byte not valid in ``encoding`` becomes a marker (see MARKED)."""
    return data.decode(encoding, errors=MARK_BAD_BYTES)


def has_bad_bytes(text: str) -> bool:
    return MARKED.search(text) is not None


def bad_bytes(text: str) -> str:
    """The bad bytes marked in ``text``, as shown to the user: 'byte 0xe9' or 'bytes 0xea 0xde'."""
    found = [ord(char) - MARK_BASE for run in MARKED.findall(text) for char in run]
    word = "byte" if len(found) == 1 else "bytes"
    return f"{word} {' '.join(f'0x{byte:02x}' for byte in found)}"


def readable(text: str) -> str:
    """``text`` with every bad byte shown as the replacement character, as an editor would."""
    return MARKED.sub(lambda run: "\ufffd" * len(run.group()), text)


def mojibake_sample(data: bytes, encoding: str) -> tuple[str, str] | None:
    """When ``data`` is valid UTF-8 with letters beyond ASCII but declared in a code page: one
    word as written and as the code page would show it ('Nguyễn', 'Nguyá»…n'). A real
    Vietnamese or Western code-page file is practically never valid UTF-8 as well."""
    if canonical_encoding(encoding) in UNICODE or data.isascii():
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    word = re.search(r"[^\s,;\t|\"]*[^\x00-\x7f][^\s,;\t|\"]*", text)
    if word is None:
        return None
    return word.group(), word.group().encode("utf-8").decode(encoding, errors="replace")
