"""Masking personal data for roles without the right to see it (Scope.mask_personal_data).

Customer lists show enough to tell rows apart and to recognise a customer one already
knows, but not enough to contact or identify a stranger:

- phone "0912345567" → "091****567" (network prefix and last three digits);
- name "Nguyễn Văn An" → "Nguyễn V*** A*": the family name stays (a handful of family
  names cover most Vietnamese, so it identifies nobody), every other word keeps its
  initial. The stars are a fixed count, so the mask does not reveal word lengths.

Masking happens before a frame reaches a widget or a download, in one place
(mask_personal_columns), so no page can forget it.
"""

import unicodedata

import polars as pl

PERSONAL_COLUMNS = ("full_name", "phone")


def mask_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    digits = "".join(character for character in phone if character.isdigit() or character == "+")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def mask_name(name: str | None) -> str | None:
    if name is None:
        return None
    # NFC first: a name typed with combining accents must keep "Đ"/"Ư" whole as its initial.
    words = unicodedata.normalize("NFC", name).split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0][0] + "*"
    family, *middle, given = words
    return " ".join([family, *(word[0] + "***" for word in middle), given[0] + "*"])


MASKED_VALUE = "***"  # a column the caller marks personal, with no smarter mask of its own


def mask_personal_columns(frame: pl.DataFrame, mask: bool, extra_columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """The frame with its personal columns masked when ``mask`` (pass scope.mask_personal_data).

    ``full_name`` and ``phone`` get their readable masks; ``extra_columns`` (a list's own
    personal columns, e.g. an address or an ID number) are replaced whole by MASKED_VALUE
    (NULL stays NULL, so "no value" still reads as such).

    The readable masks run in plain Python over the column's values, never as a Python
    callback inside Polars (``map_elements``): a callback makes Polars' worker threads wait
    for the GIL, and with two sessions at once that deadlocked the whole server (issue 13).
    Frames here are a page of a list or an export capped at 100 k rows: well under a second.
    """
    if not mask:
        return frame
    maskers = {"full_name": mask_name, "phone": mask_phone}
    masked = [
        pl.Series(column, [maskers[column](value) for value in frame.get_column(column).to_list()], dtype=pl.String)
        for column in PERSONAL_COLUMNS
        if column in frame.columns
    ]
    replaced = [
        pl.when(pl.col(column).is_null()).then(None).otherwise(pl.lit(MASKED_VALUE)).alias(column)
        for column in extra_columns
        if column in frame.columns and column not in PERSONAL_COLUMNS
    ]
    return frame.with_columns(masked + replaced) if masked or replaced else frame
