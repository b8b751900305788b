"""Bank files: statements read all-or-nothing in English or Chinese layouts, debit instructions
written whole to the outbox, settlements read back, and the demo's simulated bank core."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from loomcredit.adapters.bank_files import (
    BankFileError,
    FileBankCore,
    SettlementFormatError,
    SimulatedBankCore,
    StatementFormatError,
    read_statement,
    write_statement,
)
from loomcredit.domain.errors import LoomError
from loomcredit.domain.money import Money
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    SettlementLine,
    StatementLine,
)

ON = date(2026, 4, 2)
ACCOUNT_A = "6222000011112222"
ACCOUNT_B = "6222000033334444"
ACCOUNT_C = "6222000055556666"
HEADER = "bank_ref,value_date,account,counterparty,amount,memo\n"


def _file(tmp_path: Path, content: bytes, name: str = "statement.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _instruction(loan_id: int, account: str, fen: int, *, early: bool = False) -> DebitInstruction:
    return DebitInstruction(
        DebitInstruction.id_for(loan_id, ON), loan_id, account, Money.of_fen(fen), ON, early
    )


class TestReadStatement:
    def test_written_lines_read_back_unchanged(self, tmp_path: Path) -> None:
        """write_statement then read_statement gives back the same lines, in order."""
        lines = [
            StatementLine(
                "B1", ON, ACCOUNT_A, "绍兴柯桥纺织有限公司", Money.of_fen(1234556), "LN1"
            ),
            StatementLine("B2", date(2026, 4, 3), ACCOUNT_B, "Keqiao Dyeing", Money.of_fen(-500)),
        ]
        path = tmp_path / "out" / "s.csv"
        write_statement(path, lines)
        assert read_statement(path).lines == tuple(lines)
        assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER.strip()
        assert "12345.56" in path.read_text(encoding="utf-8")

    def test_chinese_headers_in_gb18030_are_read(self, tmp_path: Path) -> None:
        """A GB18030 export headed 交易流水号/交易日期/付款账号/付款人/交易金额/摘要 is read."""
        text = (
            "交易流水号,交易日期,付款账号,付款人,交易金额,摘要,余额\n"
            "SX0001,2026-04-02,6222 0000 1111 2222,柯桥布业,8800.00,还款 LN00000042,1.00\n"
        )
        path = _file(tmp_path, text.encode("gb18030"))
        (line,) = read_statement(path).lines
        assert line == StatementLine(
            "SX0001", ON, ACCOUNT_A, "柯桥布业", Money.of_fen(880000), "还款 LN00000042"
        )

    def test_value_date_column_is_preferred_over_trade_date(self, tmp_path: Path) -> None:
        """When 起息日 and 交易日期 are both there, the value date 起息日 is used."""
        text = (
            "流水号,交易日期,起息日,对方账号,对方户名,金额\n"
            "R1,20260401,20260402,6222000011112222,甲,1\n"
        )
        (line,) = read_statement(_file(tmp_path, text.encode("utf-8"))).lines
        assert line.value_date == ON
        assert line.memo == ""

    def test_utf8_bom_is_dropped(self, tmp_path: Path) -> None:
        """A UTF-8 file that starts with a BOM reads its first header as bank_ref."""
        text = HEADER + "B1,2026-04-02,6222000011112222,甲,10.00,\n"
        path = _file(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))
        assert read_statement(path).lines[0].bank_ref == "B1"

    def test_compact_and_slashed_dates_are_read(self, tmp_path: Path) -> None:
        """Dates may be YYYYMMDD or YYYY/MM/DD besides ISO."""
        text = HEADER + (
            "B1,20260402,6222000011112222,甲,1.00,\nB2,2026/04/02,6222000011112222,甲,1.00,\n"
        )
        lines = read_statement(_file(tmp_path, text.encode())).lines
        assert [line.value_date for line in lines] == [ON, ON]

    def test_thousands_separators_are_allowed(self, tmp_path: Path) -> None:
        """1,234,567.89 yuan is 123456789 fen."""
        text = HEADER + 'B1,2026-04-02,6222000011112222,甲,"1,234,567.89",\n'
        (line,) = read_statement(_file(tmp_path, text.encode())).lines
        assert line.amount == Money.of_fen(123456789)

    def test_a_debit_row_is_kept_negative(self, tmp_path: Path) -> None:
        """A leading minus is a debit: kept as negative money, not dropped."""
        text = HEADER + "B1,2026-04-02,6222000011112222,甲,-500.5,bank fee\n"
        (line,) = read_statement(_file(tmp_path, text.encode())).lines
        assert line.amount == Money.of_fen(-50050)

    def test_the_hash_is_sha256_of_the_raw_bytes(self, tmp_path: Path) -> None:
        """StatementFile.sha256 is the hex SHA-256 of the bytes on disk; file_name is the name."""
        raw = (HEADER + "B1,2026-04-02,6222000011112222,甲,1.00,\n").encode("gb18030")
        statement = read_statement(_file(tmp_path, raw, "day.csv"))
        assert statement.sha256 == hashlib.sha256(raw).hexdigest()
        assert statement.file_name == "day.csv"


class TestStatementIsAllOrNothing:
    def test_every_bad_row_is_listed_and_nothing_returned(self, tmp_path: Path) -> None:
        """Bad date, three decimals, non-digit account and a repeated ref: each row is listed."""
        text = HEADER + (
            "B1,2026-02-30,6222000011112222,甲,1.00,\n"  # row 2: no such day
            "B2,2026-04-02,6222000011112222,甲,1.005,\n"  # row 3: three decimals
            "B3,2026-04-02,62220000ABCD,甲,1.00,\n"  # row 4: letters in the account
            "B4,2026-04-02,6222000011112222,甲,1.00,\n"  # row 5: good
            "B4,2026-04-02,6222000011112222,甲,2.00,\n"  # row 6: repeats B4
        )
        with pytest.raises(StatementFormatError) as caught:
            read_statement(_file(tmp_path, text.encode(), "bad.csv"))
        error = caught.value
        assert [row for row, _ in error.problems] == [2, 3, 4, 6]
        message = str(error)
        assert "bad.csv" in message
        assert "row 2: value_date '2026-02-30' is not a real calendar date" in message
        assert "row 3: amount '1.005' has more than two decimals" in message
        assert "row 4: account '62220000ABCD'" in message
        assert "row 6: bank_ref 'B4' repeats row 5" in message
        assert "row 5:" not in message

    def test_a_missing_required_column_is_an_error(self, tmp_path: Path) -> None:
        """A header without amount (or 金额/交易金额) is refused at row 1."""
        text = "bank_ref,value_date,account,counterparty\nB1,2026-04-02,6222000011112222,甲\n"
        with pytest.raises(StatementFormatError) as caught:
            read_statement(_file(tmp_path, text.encode()))
        assert caught.value.problems == [(1, "the header lacks column 'amount' (or 金额/交易金额)")]

    def test_an_empty_file_is_an_error(self, tmp_path: Path) -> None:
        """A file with no bytes, or only blank lines, is refused."""
        for content in (b"", b"\n\n"):
            with pytest.raises(StatementFormatError, match="row 1: the file is empty"):
                read_statement(_file(tmp_path, content))

    def test_a_header_without_rows_is_an_error(self, tmp_path: Path) -> None:
        """A statement with a header and no lines imports nothing, so it is refused."""
        with pytest.raises(StatementFormatError, match="row 2: the file has a header but no rows"):
            read_statement(_file(tmp_path, HEADER.encode()))

    def test_a_row_with_extra_cells_is_an_error(self, tmp_path: Path) -> None:
        """A row with more non-empty cells than the header has columns is bad."""
        text = HEADER + "B1,2026-04-02,6222000011112222,甲,1.00,memo,surprise\n"
        with pytest.raises(StatementFormatError, match="row 2: has 7 cells but the header has 6"):
            read_statement(_file(tmp_path, text.encode()))

    def test_the_message_lists_twenty_rows_then_counts_the_rest(self, tmp_path: Path) -> None:
        """With 25 bad rows the message names 20 of them and says 'and 5 more'."""
        text = HEADER + "".join(f"B{n},bad,6222000011112222,甲,1.00,\n" for n in range(25))
        with pytest.raises(StatementFormatError) as caught:
            read_statement(_file(tmp_path, text.encode()))
        assert len(caught.value.problems) == 25
        message = str(caught.value)
        assert "row 21:" in message
        assert "row 22:" not in message
        assert message.endswith("and 5 more")

    def test_the_error_is_a_loom_error_and_a_value_error(self, tmp_path: Path) -> None:
        """StatementFormatError can be caught as LoomError or ValueError."""
        with pytest.raises(LoomError):
            read_statement(_file(tmp_path, b""))
        with pytest.raises(ValueError, match="not a valid bank statement"):
            read_statement(_file(tmp_path, b""))


class TestFileBankCore:
    def test_no_settlement_before_the_core_answers(self, tmp_path: Path) -> None:
        """settlement() is None while inbox/settlement-<batch>.csv does not exist."""
        core = FileBankCore(tmp_path)
        core.submit("AD20260402", [_instruction(1, ACCOUNT_A, 100)])
        assert core.settlement("AD20260402") is None

    def test_submit_writes_the_outbox_file(self, tmp_path: Path) -> None:
        """submit writes outbox/debits-<batch>.csv with one row per instruction."""
        FileBankCore(tmp_path).submit(
            "AD20260402", [_instruction(7, ACCOUNT_A, 123456, early=True)]
        )
        text = (tmp_path / "outbox" / "debits-AD20260402.csv").read_text(encoding="utf-8")
        assert text.splitlines() == [
            "instruction_id,loan_id,account,amount,on,early",
            "ad-7-2026-04-02,7,6222000011112222,1234.56,2026-04-02,true",
        ]
        assert list((tmp_path / "outbox").iterdir()) == [
            tmp_path / "outbox" / "debits-AD20260402.csv"
        ]

    def test_settlement_file_is_read_into_lines(self, tmp_path: Path) -> None:
        """The core's settlement file becomes SettlementLine values, paid and failed."""
        core = FileBankCore(tmp_path)
        (tmp_path / "inbox").mkdir()
        (tmp_path / "inbox" / "settlement-AD20260402.csv").write_text(
            "instruction_id,account,debited,status,reason,bank_ref,value_date\n"
            "ad-1-2026-04-02,6222000011112222,1000.50,paid,,C1,2026-04-02\n"
            "ad-2-2026-04-02,6222000033334444,0.00,failed,余额不足,C2,20260402\n",
            encoding="utf-8",
        )
        assert core.settlement("AD20260402") == (
            SettlementLine(
                "ad-1-2026-04-02", ACCOUNT_A, Money.of_fen(100050), DebitStatus.PAID, "", "C1", ON
            ),
            SettlementLine(
                "ad-2-2026-04-02",
                ACCOUNT_B,
                Money.of_fen(0),
                DebitStatus.FAILED,
                "余额不足",
                "C2",
                ON,
            ),
        )

    def test_a_resubmitted_batch_has_no_duplicates(self, tmp_path: Path) -> None:
        """Resubmitting a batch keeps the union of instructions, each id once."""
        core = FileBankCore(tmp_path)
        first, second = _instruction(1, ACCOUNT_A, 100), _instruction(2, ACCOUNT_B, 200)
        core.submit("AD20260402", [first])
        core.submit("AD20260402", [first, second])
        core.submit("AD20260402", [second])
        assert core.sent("AD20260402") == (first, second)

    def test_an_instruction_resent_with_other_terms_is_refused(self, tmp_path: Path) -> None:
        """The same instruction id with another amount is not silently rewritten."""
        core = FileBankCore(tmp_path)
        core.submit("AD20260402", [_instruction(1, ACCOUNT_A, 100)])
        with pytest.raises(BankFileError, match="already sent"):
            core.submit("AD20260402", [_instruction(1, ACCOUNT_A, 999)])
        assert core.sent("AD20260402") == (_instruction(1, ACCOUNT_A, 100),)

    def test_a_batch_id_cannot_leave_the_folder(self, tmp_path: Path) -> None:
        """A batch id with a path separator is refused before any file is touched."""
        with pytest.raises(BankFileError, match="cannot name a file"):
            FileBankCore(tmp_path).submit("../AD1", [])
        assert not (tmp_path / "outbox").exists()

    def test_a_malformed_settlement_lists_its_bad_rows(self, tmp_path: Path) -> None:
        """Bad status, negative debit, money taken on a failed line, a repeated id: all listed."""
        (tmp_path / "inbox").mkdir()
        (tmp_path / "inbox" / "settlement-B1.csv").write_text(
            "instruction_id,account,debited,status,reason,bank_ref,value_date\n"
            "i1,6222000011112222,1.00,sent,,C1,2026-04-02\n"
            "i2,6222000011112222,-1.00,paid,,C2,2026-04-02\n"
            "i3,6222000011112222,5.00,failed,,C3,2026-04-02\n"
            "i4,6222000011112222,5.00,paid,,C4,2026-04-02\n"
            "i4,6222000011112222,5.00,paid,,C5,2026-04-02\n",
            encoding="utf-8",
        )
        with pytest.raises(SettlementFormatError) as caught:
            FileBankCore(tmp_path).settlement("B1")
        assert [row for row, _ in caught.value.problems] == [2, 3, 4, 6]
        message = str(caught.value)
        assert "row 2: status 'sent' is not paid or failed" in message
        assert "row 3: debited '-1.00' is negative" in message
        assert "row 4: status failed but debited 5.00" in message
        assert "row 6: instruction_id 'i4' repeats row 5" in message


class TestSimulatedBankCore:
    def test_the_simulator_pays_fails_and_pays_short(self, tmp_path: Path) -> None:
        """Paid in full, failed for a failing account, capped at a short account's balance."""
        core = SimulatedBankCore(
            tmp_path,
            failing_accounts=frozenset({ACCOUNT_B}),
            short_accounts={ACCOUNT_C: Money.of_fen(30000)},
        )
        core.submit(
            "AD20260402",
            [
                _instruction(1, ACCOUNT_A, 50000),
                _instruction(2, ACCOUNT_B, 50000),
                _instruction(3, ACCOUNT_C, 50000),
                _instruction(4, ACCOUNT_C, 50000),
            ],
        )
        lines = core.settlement("AD20260402")
        assert lines is not None
        assert [(s.instruction_id, s.debited.minor, s.status) for s in lines] == [
            ("ad-1-2026-04-02", 50000, DebitStatus.PAID),
            ("ad-2-2026-04-02", 0, DebitStatus.FAILED),
            ("ad-3-2026-04-02", 30000, DebitStatus.PAID),
            ("ad-4-2026-04-02", 0, DebitStatus.FAILED),
        ]
        assert lines[0].reason == ""
        assert lines[1].reason == "余额不足 insufficient funds"
        assert lines[3].reason == "余额不足 insufficient funds"
        assert lines[2].reason != ""
        assert [s.bank_ref for s in lines] == [
            "COREAD20260402000001",
            "COREAD20260402000002",
            "COREAD20260402000003",
            "COREAD20260402000004",
        ]
        assert {s.value_date for s in lines} == {ON}

    def test_a_rerun_settles_the_same_instructions_under_the_same_refs(
        self, tmp_path: Path
    ) -> None:
        """Resubmitting a batch to the simulator keeps earlier lines and their bank refs."""
        core = SimulatedBankCore(tmp_path)
        core.submit("AD1", [_instruction(1, ACCOUNT_A, 100)])
        core.submit("AD1", [_instruction(1, ACCOUNT_A, 100), _instruction(2, ACCOUNT_B, 200)])
        lines = core.settlement("AD1")
        assert lines is not None
        assert [(s.bank_ref, s.debited.minor) for s in lines] == [
            ("COREAD1000001", 100),
            ("COREAD1000002", 200),
        ]
