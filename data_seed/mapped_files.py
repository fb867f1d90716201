"""Reading an operator's own extract through a mapping file (data_seed/mapping_file.py).

Each mapped file is decoded as a whole in its declared encoding (a byte order mark wins, as
it cannot be mistaken), normalised to NFC (Vietnamese typed on some systems arrives
decomposed, and "Đối thủ khác" must equal itself), read as text with its delimiter, and
turned into a text frame in the import format:

1. the extract's columns are renamed (one may feed two import columns, e.g. a reason code
   and the reason as written), skipped columns dropped, constant columns added;
2. value maps replace the operator's words with codes, counting what fell to the default,
   was not in the map, or became 'unknown' (``NotMapped``: notes for the importer);
3. dates, timestamps, numbers and booleans written the extract's way become ISO text, '.'
   decimals and true/false (data_seed/extract_formats.py).

A value that does not fit is reported with file, row, column and value, then emptied: any
problem stops the import, so nothing half-read is written. The frame then goes through the
same column check and typing as a file in the import format (import_files.check_columns,
type_table): this layer never decides which import columns are valid.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import polars as pl
from sqlalchemy import Table

from data_seed.extract_formats import converts, expected, to_import_text
from data_seed.import_files import (
    IMPORTED_TABLES,
    NOT_IMPORTED,
    REQUIRED_FILES,
    SUFFIXES,
    CsvText,
    check_columns,
    drop_misshapen_rows,
    find_files,
    first_line,
    read_csv_text,
    read_table,
    record_problems,
    type_table,
)
from data_seed.load import polars_type
from data_seed.mapping_file import Mapping, TableMapping, read_mapping
from data_seed.text_encoding import (
    UNICODE,
    byte_order_mark,
    canonical_encoding,
    decode_marking,
    has_bad_bytes,
    mojibake_sample,
    shown_encoding,
)
from queries.contracts import ROW
from queries.import_report import Problem, ProblemLog, show
from queries.tables import UNKNOWN

SHOWN_VALUES = 5  # most frequent words named in a note about unmapped values


# --- which file holds which table ----------------------------------------------------------


def matches(name: str, pattern: str) -> bool:
    # Windows, where extracts are saved, does not tell "KH_1.CSV" from "kh_1.csv".
    return fnmatchcase(name.lower(), pattern.lower())


def find_mapped_files(
    directory: Path, mapping: Mapping, problems: ProblemLog, required: tuple[str, ...] = REQUIRED_FILES
) -> dict[str, Path]:
    """Mapped tables by their file pattern, the others by the import format's <table>.csv or .parquet."""
    known = {table.name for table in IMPORTED_TABLES}
    candidates: dict[str, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file() or path.resolve() == mapping.path.resolve():
            continue  # editor and OS droppings, and the mapping file itself
        claims = [name for name, spec in mapping.tables.items() if matches(path.name, spec.file)]
        if len(claims) > 1:
            problems.add(Problem(path.name, None, None, None, f"matches the file of {' and '.join(claims)}: one each"))
        elif claims and path.suffix.lower() == ".parquet":
            message = f"a mapping reads text files: give {claims[0]} as {claims[0]}.parquet in the import format"
            problems.add(Problem(path.name, None, None, None, message))
        elif claims:
            candidates.setdefault(claims[0], []).append(path)
        elif path.suffix.lower() in SUFFIXES and path.stem in known and path.stem not in mapping.tables:
            candidates.setdefault(path.stem, []).append(path)
        else:
            problems.add(Problem(path.name, None, None, None, unknown_file_message(path, mapping)))
    found: dict[str, Path] = {}
    for table, paths in candidates.items():
        if len(paths) > 1:
            names = ", ".join(path.name for path in paths)
            problems.add(Problem(paths[0].name, None, None, None, f"{table} is given {len(paths)} times ({names})"))
        else:
            found[table] = paths[0]
    for table in required:
        if table not in found and table not in candidates:
            spec = mapping.tables.get(table)
            name = spec.file if spec else f"{table}.csv"
            problems.add(Problem(name, None, None, None, f"missing: this file is required (it holds {table})"))
    return found


def unknown_file_message(path: Path, mapping: Mapping) -> str:
    if path.stem in mapping.tables:
        return f"unknown file: the mapping reads {path.stem} from {mapping.tables[path.stem].file!r}"
    hint = " (provinces and legacy provinces come from reference data)" if path.stem in NOT_IMPORTED else ""
    patterns = ", ".join(repr(spec.file) for spec in mapping.tables.values())
    return f"unknown file: matches no file of the mapping ({patterns}) and is not <table>.csv or <table>.parquet{hint}"


# --- the importer's entry: plain files or through a mapping ------------------------------------


@dataclass
class Sources:
    """Where each table's file is, and how to read it."""

    paths: dict[str, Path]
    mapping: Mapping | None = None

    def read(
        self, table: Table, path: Path, problems: ProblemLog, warnings: ProblemLog, notes: list[str]
    ) -> pl.DataFrame | None:
        spec = self.mapping.tables.get(table.name) if self.mapping else None
        if spec is None:
            return read_table(table, path, problems, warnings)
        return read_mapped_table(table, path, spec, problems, warnings, notes)


def find_sources(
    directory: Path, mapping_file: Path | None, problems: ProblemLog, required: tuple[str, ...] = REQUIRED_FILES
) -> Sources | None:
    """The files of ``directory``; None when the mapping file itself is wrong (then nothing is read)."""
    if mapping_file is None:
        return Sources(find_files(directory, problems, required))
    mapping = read_mapping(Path(mapping_file), problems)
    if mapping is None:
        return None
    return Sources(find_mapped_files(directory, mapping, problems, required), mapping)


def read_mapped_table(
    table: Table, path: Path, spec: TableMapping, problems: ProblemLog, warnings: ProblemLog, notes: list[str]
) -> pl.DataFrame | None:
    """The extract in ``path`` in the table's types, with ROW; None when it cannot be used."""
    mapped = map_extract(table, path, spec, problems, notes)
    if mapped is None:
        return None
    notes.extend(counted.note() for counted in mapped.not_mapped)
    if not check_columns(table, mapped.frame, path.name, problems):
        return None
    return type_table(table, mapped.frame, path.name, problems, warnings)


# --- one extract → the import format ---------------------------------------------------------


@dataclass(frozen=True)
class NotMapped:
    """Values of one column that its value map did not translate, or translated to unknown."""

    table: str
    column: str
    outcome: str | None  # what they became; None: kept as written (the map has no default)
    counts: tuple[tuple[str, int], ...]  # the extract's word and its rows, most frequent first

    @property
    def total(self) -> int:
        return sum(count for _word, count in self.counts)

    def note(self) -> str:
        words = ", ".join(f"{show(word)} ×{count:,}" for word, count in self.counts[:SHOWN_VALUES])
        if len(self.counts) > SHOWN_VALUES:
            words += f", … {len(self.counts) - SHOWN_VALUES:,} other values"
        if self.outcome == UNKNOWN:
            what = f"mapped to {UNKNOWN}"
        elif self.outcome is None:
            what = "not in the value map, kept as written"
        else:
            what = f"not in the value map, mapped to {self.outcome} (its default)"
        return f"{self.table}.{self.column}: {self.total:,} {'value' if self.total == 1 else 'values'} {what} ({words})"


@dataclass(frozen=True)
class MappedExtract:
    frame: pl.DataFrame  # text, import-format column names, with ROW (the line in the extract)
    not_mapped: list[NotMapped]


def map_extract(
    table: Table, path: Path, spec: TableMapping, problems: ProblemLog, notes: list[str]
) -> MappedExtract | None:
    """The extract as a text frame in the import format; None after reporting why it cannot be."""
    text = decode_extract(path, spec, problems, notes)
    if text is None:
        return None
    csv = CsvText(path.name, text.encode("utf-8"), spec.delimiter)
    try:
        raw = read_csv_text(csv)
    except Exception as error:  # Polars refuses misshapen text: name the lines
        if not record_problems(text, path.name, spec.delimiter, problems, not_text(spec)):
            problems.add(Problem(path.name, None, None, None, f"cannot be read: {first_line(error)}"))
        return None
    if raw.columns == [ROW]:
        problems.add(Problem(path.name, None, None, None, "empty file: a header row with the column names is needed"))
        return None
    raw = strip_header(raw)
    if not mapping_fits_header(raw, spec, path.name, problems):
        return None
    raw = drop_misshapen_rows(raw, csv, problems)
    frame = rename_and_add_constants(raw, spec, path.name, problems)
    frame, not_mapped = apply_value_maps(frame, table, spec, path.name, problems)
    if frame is None:
        return None
    frame = apply_formats(frame, table, spec, path.name, problems)
    return MappedExtract(frame, not_mapped)


def not_text(spec: TableMapping) -> str:
    shown = shown_encoding(spec.encoding)
    return f"not {shown} text: fix the byte, or set the file's real encoding in the mapping (encoding = ...)"


def decode_extract(path: Path, spec: TableMapping, problems: ProblemLog, notes: list[str]) -> str | None:
    """The whole file as NFC text; None after reporting bytes that are not text in its encoding."""
    try:
        data = path.read_bytes()
    except OSError as error:
        problems.add(Problem(path.name, None, None, None, f"cannot be read: {error.strerror or error}"))
        return None
    encoding = spec.encoding
    announced = byte_order_mark(data)
    if announced is not None:
        if family(announced) != family(encoding):
            said = f"the mapping says {shown_encoding(encoding)}"
            notes.append(f"{path.name}: starts with a {family(announced)} byte order mark, read as such ({said})")
        encoding = announced  # it also decides UTF-16's byte order and is not kept as text
    else:
        sample = mojibake_sample(data, encoding)
        if sample is not None:
            written, misread = sample
            message = (
                f"is UTF-8 text, not {shown_encoding(encoding)} as the mapping says (read that way {written!r} "
                f'would become {misread!r}): set encoding = "utf-8"'
            )
            problems.add(Problem(path.name, None, None, None, message))
            return None
    text = decode_marking(data, encoding)
    if has_bad_bytes(text):
        record_problems(text, path.name, spec.delimiter, problems, not_text(spec))
        return None
    return unicodedata.normalize("NFC", text)


def family(encoding: str) -> str:
    canonical = canonical_encoding(encoding) or encoding
    if canonical in UNICODE:
        return "UTF-16" if canonical.startswith("utf-16") else "UTF-8"
    return shown_encoding(canonical)


def strip_header(raw: pl.DataFrame) -> pl.DataFrame:
    """Names as the mapping writes them: an extract's header often carries stray spaces."""
    stripped = {name: name.strip() for name in raw.columns}
    if len(set(stripped.values())) < len(stripped):
        return raw  # stripping would merge two names: leave them for the duplicate check
    return raw.rename(stripped)


def mapping_fits_header(raw: pl.DataFrame, spec: TableMapping, file: str, problems: ProblemLog) -> bool:
    """Every column the mapping names is in the file; no constant is also a column of the file."""
    header = [name for name in raw.columns if name != ROW]
    ok = True
    for source, section in [*((name, "columns") for name in spec.columns), *((name, "skip") for name in spec.skip)]:
        if source not in header:
            where = f"[tables.{spec.table}.{section}]" if section == "columns" else f"skip of [tables.{spec.table}]"
            message = f"named in the mapping ({where}) but not in the file; its columns: {', '.join(header)}"
            problems.add(Problem(file, None, source, None, message))
            ok = False
    kept = {name for name in header if name not in spec.columns and name not in spec.skip}
    for target in spec.constants:
        if target in kept:
            message = "is a column of the file and a constant of the mapping: skip the column or drop the constant"
            problems.add(Problem(file, None, target, None, message))
            ok = False
    produced = [target for name in header if name not in spec.skip for target in spec.columns.get(name, (name,))]
    for target in sorted({name for name in produced if produced.count(name) > 1}):
        sources = [name for name in header if target in spec.columns.get(name, (name,)) and name not in spec.skip]
        message = f"{len(sources)} columns of the file would become {target} ({', '.join(sources)}): skip or rename"
        problems.add(Problem(file, None, target, None, message))
        ok = False
    return ok


def rename_and_add_constants(raw: pl.DataFrame, spec: TableMapping, file: str, problems: ProblemLog) -> pl.DataFrame:
    """The file's columns under their import names (labelled so reports name both), and the constants."""
    columns = [pl.col(ROW)]
    for name in raw.columns:
        if name == ROW or name in spec.skip:
            continue
        for target in spec.columns.get(name, (name,)):
            columns.append(pl.col(name).alias(target))
            if target != name:
                problems.column_labels[(file, target)] = f"{name} → {target}"
    for target, value in spec.constants.items():
        columns.append(pl.lit(value, dtype=pl.String).alias(target))
        problems.column_labels[(file, target)] = f"{target} (constant of the mapping)"
    return raw.select(columns)


def given(name: str) -> pl.Expr:
    """A field as the mapping compares it: without surrounding spaces, a blank one empty."""
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def apply_value_maps(
    frame: pl.DataFrame, table: Table, spec: TableMapping, file: str, problems: ProblemLog
) -> tuple[pl.DataFrame | None, list[NotMapped]]:
    not_mapped: list[NotMapped] = []
    missing = [target for target in spec.values if target not in frame.columns]
    for target in missing:
        message = f"has a value map in the mapping, but the file has no column {target} nor one renamed to it"
        problems.add(Problem(file, None, target, None, message))
    if missing:
        return None, []
    mapped = []
    for target, value_map in spec.values.items():
        word = given(target)
        default = pl.lit(value_map.default, dtype=pl.String) if value_map.default is not None else word
        result = word.replace_strict(value_map.values, default=default, return_dtype=pl.String)
        mapped.append(pl.when(word.is_not_null()).then(result).alias(target))
        in_map = word.is_in(list(value_map.values))
        counted = (
            frame.select(word.alias("word"), result.alias("outcome"), in_map.alias("in_map"))
            .filter(pl.col("word").is_not_null() & (~pl.col("in_map") | (pl.col("outcome") == UNKNOWN)))
            .with_columns(kept=~pl.col("in_map") & pl.lit(value_map.default is None))
            .group_by("outcome", "kept", "word")
            .len()
            .sort("len", "word", descending=[True, False])
        )
        for (outcome, kept), rows in counted.group_by("outcome", "kept", maintain_order=True):
            counts = tuple(rows.select("word", "len").iter_rows())
            not_mapped.append(NotMapped(table.name, target, None if kept else outcome, counts))
    return frame.with_columns(mapped), merge_kept(not_mapped)


def merge_kept(not_mapped: list[NotMapped]) -> list[NotMapped]:
    """Words kept as written are one note per column (each word is its own outcome until here)."""
    merged: dict[tuple[str, str, str | None], list[tuple[str, int]]] = {}
    for counted in not_mapped:
        merged.setdefault((counted.table, counted.column, counted.outcome), []).extend(counted.counts)
    return [
        NotMapped(table, column, outcome, tuple(sorted(counts, key=lambda item: (-item[1], item[0]))))
        for (table, column, outcome), counts in merged.items()
    ]


def import_dtype(table: Table, name: str) -> pl.DataType:
    """The type a column of the import format is read into; text for names the table does not
    know (the column check reports those, or they are keys the importer resolves)."""
    return polars_type(table.c[name]) if name in table.c else pl.String


def apply_formats(
    frame: pl.DataFrame, table: Table, spec: TableMapping, file: str, problems: ProblemLog
) -> pl.DataFrame:
    """Dates, timestamps, numbers and booleans of the extract's columns into the import format.
    Constants and value-mapped columns are written in the import format already."""
    written_by_mapping = set(spec.constants) | set(spec.values)
    converted: list[tuple[str, pl.DataType]] = [
        (name, import_dtype(table, name))
        for name in frame.columns
        if name != ROW and name not in written_by_mapping and converts(import_dtype(table, name), spec.formats)
    ]
    if not converted:
        return frame
    failed = "__import_text_"  # the converted value beside the original, to report what failed
    checked = frame.with_columns(
        *(to_import_text(given(name), dtype, spec.formats).alias(f"{failed}{name}") for name, dtype in converted)
    )
    for name, dtype in converted:
        wrong = given(name).is_not_null() & pl.col(f"{failed}{name}").is_null()
        message = f"cannot be read as {expected(dtype, spec.formats)}"
        problems.add_rows(
            file, checked.filter(wrong), name, lambda _row, message=message: message, rule=f"{name}: {message}"
        )
    return checked.with_columns(pl.col(f"{failed}{name}").alias(name) for name, _dtype in converted).select(
        frame.columns
    )
