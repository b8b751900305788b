"""`loom ingest` from the command line: summary, key file, one-line errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from . import ingest_fixtures as fx

pytestmark = pytest.mark.integration
LOOM = str(Path(sys.executable).parent / "loom")


def _loom(args: list[str], home: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOM_")}
    env.update({"LOOM_HOME": str(home), "COLUMNS": str(columns)})
    return subprocess.run([LOOM, *args], capture_output=True, text=True, env=env, check=False)


def test_cli_ingests_and_creates_a_private_key_file(tmp_path: Path) -> None:
    """Without LOOM_PII_KEY the CLI creates $LOOM_HOME/keys/pii.key (0600) and ingests."""
    feed = fx.write_feed(tmp_path / "feed", fmt="jsonl")
    done = _loom(["ingest", "--from", str(feed), "--as-of", "2024-03-31"], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    rows_in = sum(len(build()) for build in fx.BUILDERS.values())
    assert f"{rows_in:,}" in done.stdout
    assert "ingest_quality.html" in done.stdout
    key = tmp_path / "home" / "keys" / "pii.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_cli_bad_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A path that does not exist gives one error line on stderr and exit status 2."""
    done = _loom(["ingest", "--from", str(tmp_path / "missing")], tmp_path / "home")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "no such file or folder" in lines[0]


def test_cli_bad_date_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A malformed --as-of is rejected with one clear line."""
    feed = fx.write_feed(tmp_path / "feed")
    done = _loom(["ingest", "--from", str(feed), "--as-of", "31/03/2024"], tmp_path / "home")
    assert done.returncode == 2
    assert "--as-of" in done.stderr


def test_cli_unusable_home_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """LOOM_HOME pointing at a file is refused with one line naming the path, exit 2."""
    home = tmp_path / "a-file"
    home.write_text("not a folder")
    feed = fx.write_feed(tmp_path / "feed")
    done = _loom(["ingest", "--from", str(feed), "--as-of", "2024-03-31"], home)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert str(home) in lines[0]
    assert "Traceback" not in done.stderr


def test_cli_error_stays_one_line_on_a_narrow_terminal(tmp_path: Path) -> None:
    """A corrupt file's error (a long message) is not wrapped on an 60-column terminal."""
    feed = tmp_path / "feed"
    (feed / "raw" / "tax").mkdir(parents=True)
    (feed / "raw" / "tax" / "part-0.parquet").write_text("garbage")
    done = _loom(["ingest", "--from", str(feed)], tmp_path / "home", columns=60)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "part-0.parquet" in lines[0]
    assert not (tmp_path / "home" / "lake" / "integrated" / "tax").exists()


def test_an_ingest_removes_the_snapshots_its_rows_make_stale(tmp_path: Path) -> None:
    """The feed's rows arrive: the snapshot as of 2024-03-31 no longer shows what the bank held
    then and is removed (said on the terminal); one as of 2001-12-31, before any row was
    obtained, is still exact and stays."""
    home = tmp_path / "home"
    snaps = home / "lake" / "features" / "snapshots"
    for day in ("2001-12-31", "2024-03-31"):
        (snaps / f"as_of={day}").mkdir(parents=True)
        (snaps / f"as_of={day}" / "part-0.parquet").write_bytes(b"PAR1")
    feed = fx.write_feed(tmp_path / "feed")
    done = _loom(["ingest", "--from", str(feed), "--as-of", "2024-03-31"], home)
    assert done.returncode == 0, done.stderr
    assert not (snaps / "as_of=2024-03-31").exists()
    assert (snaps / "as_of=2001-12-31" / "part-0.parquet").is_file()
    assert "特征快照已失效 1 feature snapshot(s)" in done.stdout
