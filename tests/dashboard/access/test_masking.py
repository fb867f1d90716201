"""Masking of personal data for roles without the right to see it."""

import unicodedata

import polars as pl
import pytest

from dashboard.access.masking import mask_name, mask_personal_columns, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("0912345567", "091****567"),
        ("0387 654 321", "038****321"),
        ("+84912345567", "+84******567"),
        ("12345", "*****"),
        (None, None),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Văn An", "Nguyễn V*** A*"),
        ("Trần Thị Ngọc Ánh", "Trần T*** N*** Á*"),
        ("Đặng Ưng", "Đặng Ư*"),
        ("  Lê   Đức  Thọ ", "Lê Đ*** T*"),
        ("Hùng", "H*"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_name_keeps_the_whole_accented_initial_of_decomposed_text():
    decomposed = unicodedata.normalize("NFD", "Phạm Ước")
    assert mask_name(decomposed) == "Phạm Ư*"


def test_mask_does_not_reveal_word_lengths():
    assert mask_name("Nguyễn Văn An") == mask_name("Nguyễn Vũ Anh") == "Nguyễn V*** A*"
    assert len(mask_name("Lý Thường Kiệt")) == len(mask_name("Lý Tú Kha"))


def test_frame_columns_are_masked_only_when_asked():
    frame = pl.DataFrame(
        {"customer_id": [1, 2], "full_name": ["Nguyễn Văn An", "Võ Thị Sáu"], "phone": ["0912345567", "0987000111"]}
    )
    masked = mask_personal_columns(frame, mask=True)
    assert masked.to_dict(as_series=False) == {
        "customer_id": [1, 2],
        "full_name": ["Nguyễn V*** A*", "Võ T*** S*"],
        "phone": ["091****567", "098****111"],
    }
    assert mask_personal_columns(frame, mask=False).equals(frame)


def test_frame_without_personal_columns_passes_through():
    frame = pl.DataFrame({"province_code": ["01"], "customers": [10]})
    assert mask_personal_columns(frame, mask=True).equals(frame)
