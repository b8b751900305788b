"""Bank files (银行文件): statements in, auto-debit instructions out, settlements back.

* :func:`read_statement` reads a bank statement export (对账单) as CSV, with English or Chinese
  headers, in UTF-8 (with or without BOM) or GB18030/GBK. It is all-or-nothing: one bad row and
  :class:`StatementFormatError` lists every bad row; nothing is returned partially.
* :func:`write_statement` writes a statement in the English layout (demo and benchmarks).
* :class:`FileBankCore` is the :class:`~loomcredit.service_layer.service_ports.BankCore` port
  over a shared folder: instructions go to ``outbox/``, the core's settlement files arrive in
  ``inbox/``.
* :class:`SimulatedBankCore` is a **simulator** for ``loom demo`` only: it plays the bank's core
  and writes the settlement file itself.

Row numbers in error messages count lines as a spreadsheet shows them: the header is row 1.

Errors::

    LoomError
    └── BankFileError (ValueError)          a batch id or resubmission the folder cannot take
        └── BankFileFormatError             a file whose contents are bad; ``.problems``
            ├── StatementFormatError         a bank statement (对账单)
            ├── SettlementFormatError        a settlement file (代扣结果)
            └── DebitFileFormatError         an instruction file in the outbox
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar, TypeVar

from loomcredit.domain.errors import InvalidAmount, InvalidCode, LoomError
from loomcredit.domain.money import CNY, Money
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    SettlementLine,
    StatementLine,
    parse_account,
)

__all__ = [
    "BankFileError",
    "BankFileFormatError",
    "DebitFileFormatError",
    "FileBankCore",
    "SettlementFormatError",
    "SimulatedBankCore",
    "StatementFile",
    "StatementFormatError",
    "parse_statement",
    "read_statement",
    "write_statement",
]

MAX_LISTED = 20
"""How many bad rows an error message lists before it says "and K more"."""

INSUFFICIENT_FUNDS = "余额不足 insufficient funds"
PARTIAL_DEBIT = "部分扣款 partial debit: insufficient funds"

T = TypeVar("T")
Cells = Mapping[str, str]


# -- errors -------------------------------------------------------------------------------------
class BankFileError(LoomError, ValueError):
    """A bank-file operation that cannot proceed (bad batch id, conflicting resubmission)."""


class BankFileFormatError(BankFileError):
    """A bank file with bad contents; nothing of it was used.

    Attributes:
        file_name: the file's name.
        problems: every bad row as ``(row number, reason)``; the header is row 1.
    """

    kind: ClassVar[str] = "bank file"

    def __init__(self, file_name: str, problems: Sequence[tuple[int, str]]) -> None:
        self.file_name = file_name
        self.problems: list[tuple[int, str]] = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        listed = [f"row {row}: {reason}" for row, reason in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            listed.append(f"and {len(self.problems) - MAX_LISTED} more")
        count = len(self.problems)
        noun = "row" if count == 1 else "rows"
        return (
            f"{self.file_name} is not a valid {self.kind} ({count} bad {noun}); "
            "nothing in it was used:\n  " + "\n  ".join(listed)
        )


class StatementFormatError(BankFileFormatError):
    """A bank statement (对账单) that cannot be imported as a whole."""

    kind = "bank statement"


class SettlementFormatError(BankFileFormatError):
    """A settlement file (代扣结果) from the bank core that cannot be read as a whole."""

    kind = "settlement file"


class DebitFileFormatError(BankFileFormatError):
    """A debit-instruction file in the outbox that cannot be read back."""

    kind = "debit instruction file"


class _RowError(Exception):
    """One row's problem (internal: collected into a :class:`BankFileFormatError`)."""


class _FileError(Exception):
    """A problem that stops reading the file (empty, undecodable, header)."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row = row
        self.reason = reason


# -- cell parsers -------------------------------------------------------------------------------
_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})|(\d{4})(\d{2})(\d{2})")
_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")
_TOO_PRECISE = re.compile(r"-?[\d,]+\.\d{3,}")


def _text(value: str) -> str:
    if not value:
        raise _RowError("is empty")
    return value


def _date(value: str) -> date:
    match = _DATE.fullmatch(value)
    if not match:
        raise _RowError(f"{value!r} is not a date like 2026-04-02, 20260402 or 2026/04/02")
    year, _, month, day, year8, month8, day8 = match.groups()
    try:
        return date(int(year or year8), int(month or month8), int(day or day8))
    except ValueError:
        raise _RowError(f"{value!r} is not a real calendar date") from None


def _yuan(value: str) -> Money:
    if not value:
        raise _RowError("is empty")
    if _TOO_PRECISE.fullmatch(value):
        raise _RowError(f"{value!r} has more than two decimals; amounts are in yuan to the fen")
    if not _AMOUNT.fullmatch(value):
        raise _RowError(f"{value!r} is not an amount in yuan like 1234.56 or 1,234.56")
    try:
        return Money.parse(value.replace(",", ""))
    except InvalidAmount as exc:  # pragma: no cover - the pattern already guards this
        raise _RowError(str(exc)) from None


def _non_negative_yuan(value: str) -> Money:
    amount = _yuan(value)
    if amount.is_negative():
        raise _RowError(f"{value!r} is negative; a debited amount is zero or more")
    return amount


def _account(value: str) -> str:
    try:
        return parse_account(value)
    except InvalidCode as exc:
        raise _RowError(f"{value!r}: {exc.reason}") from None


def _whole_number(value: str) -> int:
    if not value.isdigit():
        raise _RowError(f"{value!r} is not a whole number")
    return int(value)


def _flag(value: str) -> bool:
    flags = {"true": True, "false": False, "1": True, "0": False, "": False}
    if value.lower() not in flags:
        raise _RowError(f"{value!r} is not true or false")
    return flags[value.lower()]


def _status(value: str) -> DebitStatus:
    statuses = {"paid": DebitStatus.PAID, "failed": DebitStatus.FAILED}
    if value.lower() not in statuses:
        raise _RowError(f"{value!r} is not paid or failed")
    return statuses[value.lower()]


def _field(cells: Cells, name: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(cells.get(name, ""))
    except _RowError as bad:
        raise _RowError(f"{name} {bad}") from None


# -- reading a CSV table ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Layout:
    """A file layout: each field's header names in priority order and the unique fields."""

    error: type[BankFileFormatError]
    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    unique: tuple[str, ...]
    rows_required: bool


def _decode(raw: bytes) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else GB18030, the superset of GBK."""
    if raw.startswith(codecs.BOM_UTF8):
        return _decoded(raw[len(codecs.BOM_UTF8) :], "utf-8", "has a UTF-8 BOM but is not UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _decoded(raw, "gb18030", "is neither UTF-8 nor GB18030/GBK text")


def _decoded(raw: bytes, encoding: str, complaint: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _FileError(_line_of(raw, exc.start), f"the file {complaint}") from None


def _line_of(raw: bytes, offset: int) -> int:
    return raw[:offset].count(b"\n") + 1


def _records(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records with their row numbers (header = row 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    try:
        for number, record in enumerate(reader, start=1):
            cells = [cell.strip() for cell in record]
            if any(cells):
                records.append((number, cells))
    except csv.Error as exc:
        raise _FileError(reader.line_num, f"the file is not readable CSV ({exc})") from None
    return records


def _header(names: Sequence[str], layout: _Layout, row: int) -> dict[str, list[int]]:
    """Column indexes of each field, in the layout's priority order."""
    normal = [name.lstrip("\ufeff").strip().lower() for name in names]
    repeated = sorted({name for name in normal if name and normal.count(name) > 1})
    if repeated:
        raise _FileError(row, f"the header repeats column {', '.join(map(repr, repeated))}")
    found = {
        field: [normal.index(a) for a in aliases if a in normal]
        for field, aliases in layout.columns.items()
    }
    missing = [field for field in layout.required if not found[field]]
    if missing:
        raise _FileError(row, "the header lacks " + ", ".join(_wanted(f, layout) for f in missing))
    return found


def _wanted(field: str, layout: _Layout) -> str:
    others = layout.columns[field][1:]
    return f"column {field!r}" + (f" (or {'/'.join(others)})" if others else "")


def _cells(record: Sequence[str], width: int, header: Mapping[str, list[int]]) -> dict[str, str]:
    """A record's value per field: the first non-empty cell among the field's columns."""
    if len(record) < width or any(record[width:]):
        raise _RowError(f"has {len(record)} cells but the header has {width}")
    return {
        field: next((record[i] for i in indexes if record[i]), "")
        for field, indexes in header.items()
    }


def _check_unique(
    cells: Cells, row: int, unique: Sequence[str], seen: dict[str, dict[str, int]]
) -> None:
    for name in unique:
        first = seen.setdefault(name, {}).setdefault(cells[name], row)
        if first != row:
            raise _RowError(f"{name} {cells[name]!r} repeats row {first}")


def _read_table(
    raw: bytes, file_name: str, layout: _Layout, build: Callable[[Cells], T]
) -> tuple[T, ...]:
    """Every row of a CSV file built into a value, or the layout's error listing all bad rows."""
    try:
        records = _records(_decode(raw))
        if not records:
            raise _FileError(1, "the file is empty: expected a header row")
        header_row, names = records[0]
        header = _header(names, layout, header_row)
        if layout.rows_required and len(records) == 1:
            raise _FileError(header_row + 1, "the file has a header but no rows")
    except _FileError as fatal:
        raise layout.error(file_name, [(fatal.row, fatal.reason)]) from None
    items: list[T] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, dict[str, int]] = {}
    for row, record in records[1:]:
        try:
            cells = _cells(record, len(names), header)
            items.append(build(cells))
            _check_unique(cells, row, layout.unique, seen)
        except _RowError as bad:
            problems.append((row, str(bad)))
    if problems:
        raise layout.error(file_name, problems)
    return tuple(items)


def _write_atomically(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a UTF-8 CSV so a reader sees the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _amount_text(amount: Money) -> str:
    if amount.currency != CNY:
        raise BankFileError(f"bank files carry CNY only, not {amount.currency} ({amount}).")
    return amount.amount_str()


# -- statements ---------------------------------------------------------------------------------
STATEMENT_COLUMNS = ("bank_ref", "value_date", "account", "counterparty", "amount", "memo")

_STATEMENT = _Layout(
    error=StatementFormatError,
    columns={
        "bank_ref": ("bank_ref", "流水号", "交易流水号"),
        "value_date": ("value_date", "起息日", "交易日期"),
        "account": ("account", "对方账号", "付款账号"),
        "counterparty": ("counterparty", "对方户名", "付款人"),
        "amount": ("amount", "金额", "交易金额"),
        "memo": ("memo", "附言", "用途", "摘要"),
    },
    required=STATEMENT_COLUMNS[:5],
    unique=("bank_ref",),
    rows_required=True,
)


@dataclass(frozen=True, slots=True)
class StatementFile:
    """A bank statement file as read: its name, the SHA-256 of its bytes and its lines.

    Attributes:
        file_name: the file's name (no folder).
        sha256: hex SHA-256 of the raw bytes, so the same file is never imported twice.
        lines: the statement lines in file order; a debit keeps its negative amount.
    """

    file_name: str
    sha256: str
    lines: tuple[StatementLine, ...]


def _statement_line(cells: Cells) -> StatementLine:
    return StatementLine(
        bank_ref=_field(cells, "bank_ref", _text),
        value_date=_field(cells, "value_date", _date),
        account=_field(cells, "account", _account),
        counterparty=cells["counterparty"],
        amount=_field(cells, "amount", _yuan),
        memo=cells["memo"],
    )


def read_statement(path: Path) -> StatementFile:
    """Read a bank statement export (对账单), all or nothing.

    Headers may be English (``bank_ref,value_date,account,counterparty,amount[,memo]``) or
    Chinese (流水号, 起息日, 对方账号, 对方户名, 金额, 附言 and their variants); when a file has
    two columns for one field the first non-empty one in that order wins (起息日 before
    交易日期). Other columns are ignored. A leading ``-`` marks a debit, kept negative.

    Args:
        path: the CSV file, UTF-8 (with or without BOM) or GB18030/GBK.

    Returns:
        The file's name, hash and lines.

    Raises:
        StatementFormatError: the file is empty, lacks a required column, or has bad rows (a
            bad date, amount or account, a repeated bank_ref); every bad row is listed.
        OSError: the file cannot be read.
    """
    return parse_statement(path.read_bytes(), path.name)


def parse_statement(raw: bytes, file_name: str) -> StatementFile:
    """A statement from its bytes (an upload), by the rules of :func:`read_statement`."""
    lines = _read_table(raw, file_name, _STATEMENT, _statement_line)
    return StatementFile(file_name, hashlib.sha256(raw).hexdigest(), lines)


def write_statement(path: Path, lines: Iterable[StatementLine]) -> None:
    """Write statement lines as a UTF-8 CSV with the English header (for the demo and benches).

    Args:
        path: where to write; the folder is created if needed.
        lines: the lines, in order.

    Raises:
        BankFileError: an amount is not in CNY.
    """
    rows = (
        (
            line.bank_ref,
            line.value_date.isoformat(),
            line.account,
            line.counterparty,
            _amount_text(line.amount),
            line.memo,
        )
        for line in lines
    )
    _write_atomically(path, STATEMENT_COLUMNS, rows)


# -- the bank core over files -------------------------------------------------------------------
DEBIT_COLUMNS = ("instruction_id", "loan_id", "account", "amount", "on", "early")
SETTLEMENT_COLUMNS = (
    "instruction_id",
    "account",
    "debited",
    "status",
    "reason",
    "bank_ref",
    "value_date",
)
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _english(
    error: type[BankFileFormatError], columns: Sequence[str], unique: tuple[str, ...]
) -> _Layout:
    """A layout of Loom's own files: English headers, all required, a header alone is valid."""
    return _Layout(
        error=error,
        columns={name: (name,) for name in columns},
        required=tuple(columns),
        unique=unique,
        rows_required=False,
    )


_DEBITS = _english(DebitFileFormatError, DEBIT_COLUMNS, ("instruction_id",))
_SETTLEMENT = _english(SettlementFormatError, SETTLEMENT_COLUMNS, ("instruction_id", "bank_ref"))


def _instruction(cells: Cells) -> DebitInstruction:
    return DebitInstruction(
        instruction_id=_field(cells, "instruction_id", _text),
        loan_id=_field(cells, "loan_id", _whole_number),
        account=_field(cells, "account", _account),
        amount=_field(cells, "amount", _yuan),
        on=_field(cells, "on", _date),
        early=_field(cells, "early", _flag),
    )


def _settlement_line(cells: Cells) -> SettlementLine:
    line = SettlementLine(
        instruction_id=_field(cells, "instruction_id", _text),
        account=_field(cells, "account", _account),
        debited=_field(cells, "debited", _non_negative_yuan),
        status=_field(cells, "status", _status),
        reason=cells["reason"],
        bank_ref=_field(cells, "bank_ref", _text),
        value_date=_field(cells, "value_date", _date),
    )
    if line.status is DebitStatus.FAILED and line.debited.is_positive():
        raise _RowError(f"status failed but debited {line.debited.amount_str()}: money was taken")
    return line


def _write_settlement(path: Path, lines: Iterable[SettlementLine]) -> None:
    rows = (
        (
            s.instruction_id,
            s.account,
            _amount_text(s.debited),
            s.status.value,
            s.reason,
            s.bank_ref,
            s.value_date.isoformat(),
        )
        for s in lines
    )
    _write_atomically(path, SETTLEMENT_COLUMNS, rows)


def _union(
    sent: Sequence[DebitInstruction], new: Iterable[DebitInstruction], batch_id: str
) -> list[DebitInstruction]:
    """Instructions already sent, then the new ones; an id repeated with other terms is refused."""
    by_id = {i.instruction_id: i for i in sent}
    for instruction in new:
        before = by_id.setdefault(instruction.instruction_id, instruction)
        if before != instruction:
            raise BankFileError(
                f"instruction {instruction.instruction_id} was already sent in batch {batch_id} "
                f"with other terms ({before.amount.amount_str()} from {before.account} on "
                f"{before.on}); an instruction id is sent once, unchanged."
            )
    return list(by_id.values())


class FileBankCore:
    """The bank core (代扣) over a shared folder: the ``BankCore`` port for production.

    ``submit`` writes ``root/outbox/debits-<batch_id>.csv``; the core answers with
    ``root/inbox/settlement-<batch_id>.csv``. Files are written whole (temp file, then
    ``os.replace``), so the other side never reads half a file.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def debit_file(self, batch_id: str) -> Path:
        """Where a batch's instructions go."""
        return self.root / "outbox" / f"debits-{_checked_batch(batch_id)}.csv"

    def settlement_file(self, batch_id: str) -> Path:
        """Where the core puts a batch's settlement."""
        return self.root / "inbox" / f"settlement-{_checked_batch(batch_id)}.csv"

    def sent(self, batch_id: str) -> tuple[DebitInstruction, ...]:
        """The instructions written for a batch so far (none if it was never submitted).

        Raises:
            DebitFileFormatError: the outbox file was changed into something unreadable.
        """
        path = self.debit_file(batch_id)
        if not path.exists():
            return ()
        return _read_table(path.read_bytes(), path.name, _DEBITS, _instruction)

    def submit(self, batch_id: str, instructions: Sequence[DebitInstruction]) -> None:
        """Write a batch's instruction file; a resubmission rewrites it with the union by id.

        Raises:
            BankFileError: the batch id is not a safe file name, an amount is not CNY, or an
                instruction id was already sent with other terms.
        """
        union = _union(self.sent(batch_id), instructions, batch_id)
        rows = (
            (
                i.instruction_id,
                str(i.loan_id),
                i.account,
                _amount_text(i.amount),
                i.on.isoformat(),
                "true" if i.early else "false",
            )
            for i in union
        )
        _write_atomically(self.debit_file(batch_id), DEBIT_COLUMNS, rows)

    def settlement(self, batch_id: str) -> Sequence[SettlementLine] | None:
        """The settlement lines the core returned for a batch; None until its file is there.

        Raises:
            SettlementFormatError: the file is malformed; every bad row is listed.
        """
        path = self.settlement_file(batch_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        return _read_table(raw, path.name, _SETTLEMENT, _settlement_line)


def _checked_batch(batch_id: str) -> str:
    if not _BATCH_ID.fullmatch(batch_id):
        raise BankFileError(
            f"batch id {batch_id!r} cannot name a file: use letters, digits, '_' or '-' "
            "(at most 64, starting with a letter or digit)."
        )
    return batch_id


class SimulatedBankCore:
    """A **simulator** of the bank's core system, for ``loom demo`` only — never production.

    ``submit`` writes the instruction file as :class:`FileBankCore` does and then, as the real
    core would some time later, the settlement file in ``root/inbox/``: every instruction paid
    in full, except accounts in ``failing_accounts`` (failed, 余额不足) and accounts in
    ``short_accounts``, whose balance is debited at most (partial; failed once it is used up).
    A balance is shared by an account's instructions within a batch, in file order. Bank
    references are deterministic: ``CORE<batch_id><n:06d>``, n counting from 1 in file order.
    """

    def __init__(
        self,
        root: Path,
        failing_accounts: frozenset[str] = frozenset(),
        short_accounts: Mapping[str, Money] | None = None,
    ) -> None:
        self.files = FileBankCore(root)
        self.failing_accounts = frozenset(parse_account(a) for a in failing_accounts)
        self.short_accounts = {parse_account(a): b for a, b in (short_accounts or {}).items()}
        negative = [a for a, b in self.short_accounts.items() if b.is_negative()]
        if negative:
            raise BankFileError(f"a balance cannot be negative (accounts {', '.join(negative)}).")

    def submit(self, batch_id: str, instructions: Sequence[DebitInstruction]) -> None:
        """Write the instruction file, then the simulated settlement of the whole batch."""
        self.files.submit(batch_id, instructions)
        sent = self.files.sent(batch_id)
        balances = dict(self.short_accounts)
        lines = [
            self._settle(instruction, f"CORE{batch_id}{n:06d}", balances)
            for n, instruction in enumerate(sent, start=1)
        ]
        _write_settlement(self.files.settlement_file(batch_id), lines)

    def settlement(self, batch_id: str) -> Sequence[SettlementLine] | None:
        """The settlement written by :meth:`submit` (read as :class:`FileBankCore` reads it)."""
        return self.files.settlement(batch_id)

    def _settle(
        self, instruction: DebitInstruction, bank_ref: str, balances: dict[str, Money]
    ) -> SettlementLine:
        asked = instruction.amount
        debited, reason = asked, ""
        if instruction.account in self.failing_accounts:
            debited, reason = Money.zero(asked.currency), INSUFFICIENT_FUNDS
        elif instruction.account in balances:
            debited = min(asked, balances[instruction.account])
            balances[instruction.account] = balances[instruction.account] - debited
            if debited != asked:
                reason = PARTIAL_DEBIT if debited.is_positive() else INSUFFICIENT_FUNDS
        status = DebitStatus.PAID if debited.is_positive() else DebitStatus.FAILED
        return SettlementLine(
            instruction.instruction_id,
            instruction.account,
            debited,
            status,
            reason,
            bank_ref,
            instruction.on,
        )
