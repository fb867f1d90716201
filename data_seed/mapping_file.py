"""The mapping file: how an operator's own extract becomes the import format, written once in
TOML instead of rewriting every extract (docs/import.md has a worked example and every key).

    [defaults]                      # formats shared by every table (each may be overridden)
    encoding = "windows-1258"
    date_format = "%d/%m/%Y"

    [tables.customers]
    file = "KH_*.csv"               # which file of DIR holds the table
    skip = ["SeniorCitizen"]        # columns of the extract the warehouse does not take
    [tables.customers.columns]      # the extract's column = the import format's column
    customerID = "customer_key"
    [tables.customers.constants]    # columns the extract lacks, whose value is known
    segment = "individual"
    [tables.customers.values.gender]
    map = { Female = "female", Male = "male" }
    default = "unknown"             # optional: what every other value becomes

The whole file is checked before any extract is read, and every problem names its section
("[tables.customers.columns] ..."). Target columns are checked against the import format
(``import_files.import_column_names``), never against a list kept here.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import Table

from data_seed.extract_formats import DECIMALS, THOUSANDS, TextFormats, readable_format
from data_seed.import_files import IMPORTED_TABLES, NOT_IMPORTED, import_column_names
from data_seed.text_encoding import ENCODINGS, canonical_encoding
from queries.import_report import Problem, ProblemLog

FORMAT_SETTINGS = (
    "encoding",
    "delimiter",
    "date_format",
    "timestamp_format",
    "decimal",
    "thousands",
    "true_words",
    "false_words",
)
TABLE_SETTINGS = ("file", *FORMAT_SETTINGS, "skip", "columns", "constants", "values")
VALUE_MAP_SETTINGS = ("map", "default")
DEFAULT_ENCODING = "utf-8"
DEFAULT_DELIMITER = ","


@dataclass(frozen=True)
class ValueMap:
    """The extract's words for one column → the values stored; ``default`` takes every other word
    (None: other words are kept as written, and the column's checks judge them)."""

    values: dict[str, str]
    default: str | None = None


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: str  # a file name pattern inside DIR ("KH_*.csv"), matched without regard to case
    encoding: str  # Python's codec name
    delimiter: str
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # extract column → import columns
    skip: tuple[str, ...] = ()
    constants: dict[str, str] = field(default_factory=dict)  # import column → value, in the import format
    values: dict[str, ValueMap] = field(default_factory=dict)  # import column → its value map
    formats: TextFormats = TextFormats()


@dataclass(frozen=True)
class Mapping:
    path: Path
    tables: dict[str, TableMapping]


def nfc(text: str) -> str:
    """Vietnamese text compares equal only in one Unicode form; extracts are read in NFC too."""
    return unicodedata.normalize("NFC", text)


class Section:
    """Reports problems of one section of the mapping file, naming it."""

    def __init__(self, file: str, name: str, problems: ProblemLog):
        self.file, self.name, self.problems = file, name, problems

    def complain(self, message: str) -> None:
        where = f"[{self.name}] " if self.name else ""
        self.problems.add(Problem(self.file, None, None, None, f"{where}{message}"))

    def sub(self, name: str) -> Section:
        return Section(self.file, f"{self.name}.{name}" if self.name else name, self.problems)

    def table(self, value: object, what: str) -> dict:
        if isinstance(value, dict):
            return value
        self.complain(f"{what} must be a section (a TOML table), not {toml_kind(value)}")
        return {}

    def only(self, document: dict, allowed: tuple[str, ...]) -> None:
        for key in document:
            if key not in allowed:
                self.complain(f"unknown setting {key!r} (settings here: {', '.join(allowed)})")


def toml_kind(value: object) -> str:
    return {str: "text", bool: "true/false", int: "a number", float: "a number", list: "a list"}.get(
        type(value), type(value).__name__
    )


def import_text(value: object) -> str | None:
    """A TOML value as the import format writes it; None for values that have no such form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return None  # times, lists, tables


def read_mapping(
    path: Path, problems: ProblemLog, known_columns: Callable[[Table], tuple[str, ...]] = import_column_names
) -> Mapping | None:
    """The mapping at ``path``, or None after reporting every problem in it.

    ``known_columns`` gives the import format's columns of a table (the targets allowed)."""
    before = problems.total
    top = Section(path.name, "", problems)
    document = parse(path, top)
    if document is None:
        return None
    for key in document:
        if key not in ("defaults", "tables"):
            top.complain(f"unknown section [{key}]: a mapping has [defaults] and [tables.<table>] sections")
    defaults_section = top.sub("defaults")
    defaults = defaults_section.table(document.get("defaults", {}), "[defaults]")
    defaults_section.only(defaults, FORMAT_SETTINGS)
    shared = read_formats(defaults, defaults_section)
    sections = top.sub("tables")
    tables = sections.table(document.get("tables", {}), "[tables]")
    if not tables and isinstance(document.get("tables", {}), dict):
        top.complain("maps no table: add a [tables.<table>] section for each file (docs/import.md)")
    importable = {table.name: table for table in IMPORTED_TABLES}
    mapped: dict[str, TableMapping] = {}
    for name, content in tables.items():
        section = sections.sub(name)
        if name not in importable:
            reason = "it comes from reference data" if name in NOT_IMPORTED else "no such table"
            section.complain(f"unknown table ({reason}); tables: {', '.join(importable)}")
            continue
        table = importable[name]
        spec = read_table_mapping(table, section.table(content, f"[tables.{name}]"), shared, section, known_columns)
        if spec is not None:
            mapped[name] = spec
    if problems.total > before:
        return None
    return Mapping(path, mapped)


def parse(path: Path, top: Section) -> dict | None:
    try:
        data = path.read_bytes()
    except OSError as error:
        top.complain(f"cannot be read: {error.strerror or error}")
        return None
    try:
        text = data.decode("utf-8-sig")  # Notepad adds a byte order mark; TOML itself is UTF-8
    except UnicodeDecodeError as error:
        top.complain(f"not UTF-8 text (byte 0x{data[error.start]:02x}): save the mapping file as UTF-8")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:  # its message ends "(at line 3, column 9)"
        top.complain(f"not valid TOML: {error}")
        return None


def read_formats(document: dict, section: Section) -> dict:
    """The format settings given in ``document``, checked; only valid ones are kept."""
    settings: dict = {}
    if "encoding" in document:
        value = document["encoding"]
        canonical = canonical_encoding(value) if isinstance(value, str) else None
        if canonical is None:
            known = ", ".join(ENCODINGS.values())
            section.complain(f"encoding {value!r} is not one the importer reads; use one of {known}")
        else:
            settings["encoding"] = canonical
    if "delimiter" in document:
        value = document["delimiter"]
        if isinstance(value, str) and len(value) == 1 and value not in '"\r\n':
            settings["delimiter"] = value
        else:
            section.complain(f'delimiter {value!r} must be one character, e.g. ",", ";" or "\\t" (tab)')
    for key, timestamp in (("date_format", False), ("timestamp_format", True)):
        if key in document:
            forms = text_list(document[key], key, section)
            bad = [form for form in forms if not readable_format(form, timestamp)]
            for form in bad:
                example = "%d/%m/%Y %H:%M" if timestamp else "%d/%m/%Y"
                section.complain(
                    f"{key} {form!r} cannot be read: use strftime codes with a year and a month, e.g. {example!r}"
                )
            if forms and not bad:
                settings[key] = forms
    if "decimal" in document:
        if document["decimal"] in DECIMALS:
            settings["decimal"] = document["decimal"]
        else:
            section.complain(f'decimal {document["decimal"]!r} must be "." or ","')
    if "thousands" in document:
        if document["thousands"] in THOUSANDS:
            settings["thousands"] = document["thousands"]
        else:
            allowed = ", ".join(repr(mark) for mark in THOUSANDS)
            section.complain(f"thousands {document['thousands']!r} must be one of {allowed} ('' = not grouped)")
    for key in ("true_words", "false_words"):
        if key in document:
            settings[key] = text_list(document[key], key, section)
    return settings


def text_list(value: object, key: str, section: Section) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) and item for item in values):
        section.complain(f'{key} must be text or a list of texts, e.g. {key} = ["..."]')
        return ()
    return tuple(nfc(item.strip()) for item in values)


def build_formats(settings: dict, section: Section) -> TextFormats:
    formats = TextFormats(
        dates=settings.get("date_format", ()),
        timestamps=settings.get("timestamp_format", ()),
        decimal=settings.get("decimal", "."),
        thousands=settings.get("thousands", ""),
        true_words=settings.get("true_words", ()),
        false_words=settings.get("false_words", ()),
    )
    if formats.decimal == formats.thousands:
        section.complain(f"decimal and thousands are both {formats.decimal!r}: they must differ")
    both = {word.lower() for word in formats.true_words} & {word.lower() for word in formats.false_words}
    if both:
        section.complain(f"{', '.join(sorted(both))} cannot be both a true word and a false word")
    return formats


def read_table_mapping(
    table: Table, document: dict, shared: dict, section: Section, known_columns: Callable[[Table], tuple[str, ...]]
) -> TableMapping | None:
    section.only(document, TABLE_SETTINGS)
    settings = {**shared, **read_formats(document, section)}
    formats = build_formats(settings, section)
    known = known_columns(table)

    def check_target(target: object, where: Section, what: str) -> str | None:
        if isinstance(target, str) and target in known:
            return target
        shown = repr(target) if isinstance(target, str) else toml_kind(target)
        where.complain(f"{what}: {shown} is not a column of {table.name} (its columns: {', '.join(known)})")
        return None

    pattern = document.get("file", f"{table.name}.csv")
    if not isinstance(pattern, str) or not pattern or "/" in pattern or "\\" in pattern:
        section.complain(f'file {pattern!r} must be a file name pattern inside DIR, e.g. "KH_*.csv"')

    columns: dict[str, tuple[str, ...]] = {}
    renames = section.sub("columns")
    for source, targets in renames.table(document.get("columns", {}), "columns").items():
        given = [targets] if isinstance(targets, str) else targets if isinstance(targets, list) else [targets]
        if not given:
            renames.complain(f"{source!r} = []: name the column (or columns) of the import format it becomes")
        checked = [check_target(target, renames, repr(source)) for target in given]
        if given and all(checked):
            columns[nfc(source.strip())] = tuple(checked)
    sources_of = Counter(target for targets in columns.values() for target in targets)
    for target, count in sources_of.items():
        if count > 1:
            sources = [source for source, targets in columns.items() if target in targets]
            renames.complain(f"{target} is the target of {count} columns ({', '.join(sources)}): give one")

    skip = text_list(document["skip"], "skip", section) if "skip" in document else ()
    for source in skip:
        if source in columns:
            section.complain(f"{source!r} is both skipped and renamed in [tables.{table.name}.columns]")

    constants: dict[str, str] = {}
    constant_section = section.sub("constants")
    for target, value in constant_section.table(document.get("constants", {}), "constants").items():
        if check_target(target, constant_section, "constant") is None:
            continue
        text = import_text(value)
        if text is None:
            kind = toml_kind(value)
            constant_section.complain(f"{target} = {kind}: a constant is text, a number, true/false or a date")
        elif target in sources_of:
            constant_section.complain(f"{target} is a constant and also a renamed column: keep one")
        else:
            constants[target] = text

    values: dict[str, ValueMap] = {}
    value_section = section.sub("values")
    for target, content in value_section.table(document.get("values", {}), "values").items():
        where = value_section.sub(target)
        if check_target(target, where, "value map on a column that does not exist") is None:
            continue
        if target in constants:
            where.complain(f"value map on {target}, a constant: write the constant as it is to be stored")
            continue
        value_map = read_value_map(where.table(content, f"[{where.name}]"), where)
        if value_map is not None:
            values[target] = value_map

    return TableMapping(
        table=table.name,
        file=pattern if isinstance(pattern, str) else "",
        encoding=settings.get("encoding", DEFAULT_ENCODING),
        delimiter=settings.get("delimiter", DEFAULT_DELIMITER),
        columns=columns,
        skip=skip,
        constants=constants,
        values=values,
        formats=formats,
    )


def read_value_map(document: dict, section: Section) -> ValueMap | None:
    section.only(document, VALUE_MAP_SETTINGS)
    if "map" not in document and "default" not in document:
        section.complain('a value map needs map = { "word in the extract" = "value" } and/or default = "value"')
        return None
    words: dict[str, str] = {}
    for word, value in section.table(document.get("map", {}), "map").items():
        text = import_text(value)
        if text is None or isinstance(value, date | datetime | time):
            section.complain(f"map {word!r} = {toml_kind(value)}: the value must be text, a number or true/false")
        else:
            words[nfc(word.strip())] = text
    default = document.get("default")
    if default is not None and (import_text(default) is None or isinstance(default, date)):
        section.complain(f"default = {toml_kind(default)}: it must be text, a number or true/false")
        return None
    return ValueMap(words, import_text(default) if default is not None else None)
