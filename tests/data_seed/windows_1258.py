"""Vietnamese text as a Windows-1258 file holds it, for tests that need such files.

Windows-1258 has no letter with a tone mark: it stores the base letter (ê, ơ, ă … are in
the code page) followed by a combining tone mark, so "ễ" is 0xEA 0xDE. Python's codec
encodes only that decomposed form; this does the decomposition a Windows program would.
"""

import unicodedata

TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # grave, acute, tilde, hook, dot below


def encode_windows_1258(text: str) -> bytes:
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(part for part in parts if part not in TONE_MARKS))
        tones = "".join(part for part in parts if part in TONE_MARKS)
        out += (base + tones).encode("cp1258")
    return bytes(out)
