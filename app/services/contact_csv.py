"""Reading a contacts CSV: which column feeds which field, and every row checked with its reason.

Nothing here touches the database: the same pass serves the dry run and the import, so a
file the dry run calls clean imports exactly as reported. Rows stream (a 100k-row file is
never held in memory, only the addresses seen, to catch repeats).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from app.errors import ValidationFailed
from app.services import contact_columns as columns_
from app.services.contact_columns import BUILT_INS, TYPES, attribute_name, recognise, squash
from app.services.event_input import ContactIn

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Options:
    mapping: dict[str, str] = field(default_factory=dict)  # target → column, from --map
    ignore: frozenset[str] = frozenset()  # columns not to import
    only_mapped: bool = False  # ignore every column neither mapped nor recognised
    types: dict[str, str] = field(default_factory=dict)  # attribute → one of TYPES
    tags: tuple[str, ...] = ()  # added to every contact
    delimiter: str | None = None  # None: sniffed from the first 64 KiB
    encoding: str = "utf-8-sig"


@dataclass(frozen=True)
class Plan:
    """Which column feeds which target, in header order; and the columns left out."""
    columns: list[str]
    targets: dict[int, str]  # column index → target
    ignored: list[str]
    delimiter: str

    def describe(self) -> list[tuple[str, str]]:
        return [(self.columns[i], target) for i, target in sorted(self.targets.items())]


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class Row:
    line: int
    contact: dict[str, Any]  # ContactIn's shape, without consent
    consent: str | None  # subscribed | unsubscribed | none | None (the file says nothing: the default)
    problems: list[Problem] = field(default_factory=list)


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """`--map email=E-mail,first_name=Vorname` (repeatable) → {"email": "E-mail", ...}."""
    out: dict[str, str] = {}
    for value in values:
        for pair in (p for p in value.split(",") if p.strip()):
            target, sep, column = pair.partition("=")
            if not sep or not target.strip() or not column.strip():
                raise ValidationFailed(f"{option} {pair!r}: write it as field=Column, e.g. email=E-mail.")
            out[target.strip()] = column.strip()
    return out


class Reader:
    """Opens the file, plans the columns, then yields every row checked (`rows()`)."""

    def __init__(self, path: Path, options: Options) -> None:
        self.path, self.options = path, options
        if not path.is_file():
            raise ValidationFailed(f"{path}: no such file.")
        self.size = path.stat().st_size
        self.bytes_read = 0
        if self.size == 0:
            raise ValidationFailed(f"{path} is empty: the first line must name the columns.")
        self.plan = self._plan()

    def _open(self) -> io.TextIOWrapper:
        counted = io.BufferedReader(_Counting(open(self.path, "rb"), self))
        return io.TextIOWrapper(counted, encoding=self.options.encoding, newline="")

    def _sample(self) -> str:
        with open(self.path, "rb") as fh:
            data = fh.read(SNIFF_BYTES)
        return data.decode(self.options.encoding, errors="ignore")

    def _plan(self) -> Plan:
        delimiter = self.options.delimiter or _sniff(self._sample())
        with self._open() as text:
            try:
                header = next(csv.reader(text, delimiter=delimiter), None)
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _unreadable(self.path, 1, exc) from None
        if not header or not any(h.strip() for h in header):
            raise ValidationFailed(f"{self.path}: the first line must name the columns.")
        return plan_columns([h.strip() for h in header], self.options, delimiter)

    def rows(self) -> Iterator[Row]:
        checker = RowChecker(self.plan, self.options)
        self.bytes_read = 0  # each pass counts from the start, for its own progress bar
        with self._open() as text:
            reader = csv.reader(text, delimiter=self.plan.delimiter)
            next(reader)
            line = reader.line_num + 1
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except (UnicodeDecodeError, csv.Error) as exc:
                    raise _unreadable(self.path, line, exc) from None
                if values and any(v.strip() for v in values):
                    yield checker.check(line, values)
                line = reader.line_num + 1


class _Counting(io.RawIOBase):
    """Counts the bytes the text layer reads, for the progress bar."""

    def __init__(self, raw: Any, owner: Reader) -> None:
        self.raw, self.owner = raw, owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.owner.bytes_read += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def plan_columns(columns: list[str], options: Options, delimiter: str) -> Plan:
    problems = []
    index = {c: i for i, c in enumerate(columns)}
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        problems.append(f"the header names {', '.join(map(repr, repeated))} more than once")
    targets: dict[int, str] = {}
    for target, column in options.mapping.items():
        found = index.get(column)
        if found is None:
            found = next((i for i, c in enumerate(columns) if squash(c) == squash(column)), None)
        if found is None:
            problems.append(f"--map {target}={column}: there is no column {column!r}")
        elif found in targets:
            problems.append(f"--map {target}={column}: column {column!r} already feeds {targets[found]}")
        else:
            targets[found] = target
    unknown = [c for c in options.ignore if c not in index]
    if unknown:
        problems.append(f"--ignore {', '.join(unknown)}: no such column")
    recognised: dict[str, str] = {}  # target → the column recognised as it, without --map
    for i, column in enumerate(columns):
        if i in targets or column in options.ignore or not column:
            continue
        alias = recognise(column)
        if alias and alias not in targets.values():
            targets[i] = alias
            recognised[alias] = column
        elif alias in recognised:
            problems.append(f"columns {recognised[alias]!r} and {column!r} both look like {alias}: "
                            f"--map {alias}=<one of them>, and --ignore or --map the other")
        elif not options.only_mapped:
            targets[i] = attribute_name(column) or f"column_{i + 1}"
    names = list(targets.values())
    clashes = sorted({t for t in names if names.count(t) > 1})
    for target in clashes:
        feeding = [columns[i] for i, t in targets.items() if t == target]
        problems.append(f"columns {', '.join(map(repr, feeding))} would all become {target!r}: "
                        "--map one of them to another name or --ignore the others")
    for target, kind in options.types.items():
        if kind not in TYPES:
            problems.append(f"--types {target}={kind}: the types are {', '.join(TYPES)}")
        elif target in BUILT_INS:
            problems.append(f"--types {target}: {target} is a contact field, not an attribute")
    if "email" not in targets.values():
        problems.append("no column holds the email address: name it with --map email=<column>")
    if problems:
        raise ValidationFailed("; ".join(problems) + f". The columns are: {', '.join(map(repr, columns))}.")
    ignored = [c for i, c in enumerate(columns) if i not in targets]
    return Plan(columns, targets, ignored, delimiter)


class RowChecker:
    """One row into a contact, or the reasons it cannot be one; remembers addresses seen."""

    def __init__(self, plan: Plan, options: Options) -> None:
        self.plan, self.options = plan, options
        self.seen_email: dict[str, int] = {}
        self.seen_external: dict[str, int] = {}

    def check(self, line: int, values: list[str]) -> Row:
        row = Row(line, {"attributes": {}, "tags": list(self.options.tags)}, None)
        plan = self.plan
        if len(values) != len(plan.columns):
            row.problems.append(Problem(line, "", "", f"has {len(values)} fields; the header has "
                                        f"{len(plan.columns)} (a stray delimiter or quote?)"))
            return row
        for i, target in plan.targets.items():
            value = values[i].strip()
            if value:
                self._field(row, plan.columns[i], target, value)
        email_column = self._column("email")
        if "email" not in row.contact and not any(p.column == email_column for p in row.problems):
            row.problems.append(Problem(line, email_column, "", "the email address is missing"))
        if not row.problems:
            self._validate(row)
        if not row.problems:
            self._remember(row)
        return row

    def _field(self, row: Row, column: str, target: str, value: str) -> None:
        try:
            parse = columns_.PARSERS.get(target)
            if parse is None:
                row.contact["attributes"][target] = columns_.convert(value, self.options.types.get(target, "text"))
            elif target == "consent":
                row.consent = parse(value)
            elif target == "tags":
                row.contact["tags"] = sorted(set(row.contact["tags"]) | set(parse(value)))
            else:
                row.contact[target] = parse(value)
        except ValueError as exc:  # AddressError is one too
            row.problems.append(Problem(row.line, column, value, str(exc)))

    def _validate(self, row: Row) -> None:
        """The API's own model of a contact: what the import writes is what an event may carry."""
        try:
            ContactIn.model_validate(row.contact)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                target = str(error["loc"][0]) if error["loc"] else ""
                column = next((self.plan.columns[i] for i, t in self.plan.targets.items() if t == target), target)
                row.problems.append(Problem(row.line, column, "", error["msg"].removeprefix("Value error, ")))

    def _remember(self, row: Row) -> None:
        email, external = row.contact["email"], row.contact.get("external_id")
        first = self.seen_email.get(email)
        if first is not None:
            row.problems.append(Problem(row.line, self._column("email"), email, f"repeats the address of line {first}"))
            return
        if external is not None and external in self.seen_external:
            row.problems.append(Problem(row.line, self._column("external_id"), external,
                                        f"repeats the external id of line {self.seen_external[external]}"))
            return
        self.seen_email[email] = row.line
        if external is not None:
            self.seen_external[external] = row.line

    def _column(self, target: str) -> str:
        return next(self.plan.columns[i] for i, t in self.plan.targets.items() if t == target)


def _sniff(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def _unreadable(path: Path, line: int, exc: Exception) -> ValidationFailed:
    if isinstance(exc, UnicodeDecodeError):
        return ValidationFailed(f"{path}: near line {line} the bytes are not {exc.encoding}: "
                                "give the file's encoding with --encoding (e.g. cp1252 or latin-1).")
    return ValidationFailed(f"{path}: line {line} cannot be read as CSV ({exc}). Nothing was imported.")
